/** Event identity: canonical JSON and the sha256 event hash stored in `register_events.event_hash`. */
import crypto from 'node:crypto';
import type { EventSource } from './types.js';

/**
 * JSON with object keys sorted (recursively), so equal payloads hash equally whatever their key order.
 * Follows JSON.stringify otherwise: `undefined` members are dropped, `undefined` array items become null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value);
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** sha256 of `receivedAt ISO \n source \n canonical payload`, hex (lower case). */
export function eventHash(receivedAt: Date, source: EventSource, payload: unknown): string {
  return crypto
    .createHash('sha256')
    .update(`${receivedAt.toISOString()}\n${source}\n${canonicalJson(payload)}`)
    .digest('hex');
}
