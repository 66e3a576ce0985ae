/**
 * A received MQTT message as the record model sees it: the same ArchiveMessage that reading its archive line
 * back gives (design.md §2), so live loading and an archive replay classify every message identically.
 */
import { isUtf8 } from 'node:buffer';
import { OVERSIZE_PREFIX_BYTES, type ArchiveInput } from '../archive/index.js';
import type { EncodedReading } from '../load/encoded.js';
import type { ArchiveMessage } from '../model/types.js';

/**
 * What the receiver hands to the database writer for one archived message: the ArchiveMessage its line reads
 * back as, or — for the common reading the receiver's scanner vouched for (scan-received.ts) — its COPY row.
 */
export type ReceivedRecord = ArchiveMessage | EncodedReading;

/** Whether the receiver already encoded this message as a reading's row. */
export function isEncodedReading(r: ReceivedRecord): r is EncodedReading {
  return 'bytes' in r;
}

/** Mirrors the archive encoding: oversize → base64 prefix, not UTF-8 → base64, not JSON → text, else the parsed JSON. */
export function toArchiveMessage(input: ArchiveInput, maxPayloadBytes: number): ArchiveMessage {
  const qos = input.qos === 1 || input.qos === 2 ? input.qos : 0;
  const retain = input.retain === true;
  const { rx, topic, payload } = input;
  if (payload.length > maxPayloadBytes) {
    const prefix = payload.subarray(0, Math.min(payload.length, OVERSIZE_PREFIX_BYTES)).toString('base64');
    return { rx, topic, qos, retain, payload: prefix, raw: 'base64', oversize: payload.length };
  }
  if (!isUtf8(payload)) return { rx, topic, qos, retain, payload: payload.toString('base64'), raw: 'base64' };
  const text = payload.toString('utf8');
  try {
    return { rx, topic, qos, retain, payload: JSON.parse(text) as unknown };
  } catch {
    return { rx, topic, qos, retain, payload: text, raw: 'utf8' };
  }
}
