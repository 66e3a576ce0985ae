/** The register event log (`register_events`): idempotent recording and reading back. */
import type pg from 'pg';
import type { RegisterEvent } from '../model/types.js';
import { canonicalJson, eventHash } from './hash.js';
import { lockRegistry } from './lock.js';
import { payloadMismatch } from './payload.js';
import type { EventSource, FoldEvent } from './types.js';

export interface RecordResult {
  /** Events new to the log (duplicates of stored events, or within the call, are not counted). */
  inserted: number;
  /** MACs and names of the inserted events, sorted: what `rebuildRegistry` must recompute. */
  affectedMacs: string[];
  affectedNames: string[];
}

const nothing = (): RecordResult => ({ inserted: 0, affectedMacs: [], affectedNames: [] });

/** jsonb cannot hold U+0000: stored as U+FFFD (the hash is computed on the original payload). */
function storableJson(payload: unknown): string {
  const text = canonicalJson(payload);
  // An escape is a \u0000 preceded by an even number of backslashes.
  return text.includes('\\u0000') ? text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : text;
}

/**
 * Insert events into `register_events` with one parameterised statement (arrays + unnest),
 * `ON CONFLICT (event_hash) DO NOTHING`. Runs in the caller's transaction. Throws when an event's
 * fields disagree with its payload (the registry is rebuilt from the payload alone).
 */
export async function recordRegisterEvents(client: pg.ClientBase, events: readonly RegisterEvent[]): Promise<RecordResult> {
  const seen = new Set<string>();
  const hashes: string[] = [];
  const times: string[] = [];
  const names: string[] = [];
  const macs: string[] = [];
  const sources: string[] = [];
  const payloads: string[] = [];
  for (const e of events) {
    const problem = payloadMismatch(e);
    if (problem !== null) {
      throw new Error(`register event for "${e.name}" (${e.mac}) at ${e.receivedAt.toISOString()}: ${problem}; the payload must carry the calibration`);
    }
    const hash = eventHash(e.receivedAt, e.source, e.payload);
    if (seen.has(hash)) continue;
    seen.add(hash);
    hashes.push(hash);
    times.push(e.receivedAt.toISOString());
    names.push(e.name);
    macs.push(e.mac);
    sources.push(e.source);
    payloads.push(storableJson(e.payload));
  }
  if (hashes.length === 0) return nothing();
  // Replays of stored events (the common case on re-ingest) neither lock nor insert.
  const known = await client.query<{ h: string }>(
    `SELECT encode(event_hash, 'hex') AS h FROM register_events WHERE event_hash = ANY(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)`,
    [hashes],
  );
  if (known.rows.length === hashes.length) return nothing();
  await lockRegistry(client);
  const { rows } = await client.query<{ name: string; mac_address: string }>(
    `INSERT INTO register_events (event_hash, received_at, name, mac_address, source, payload)
     SELECT decode(h, 'hex'), t, n, m, s, p
       FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) AS x(h, t, n, m, s, p)
     ON CONFLICT (event_hash) DO NOTHING
     RETURNING name, mac_address`,
    [hashes, times, names, macs, sources, payloads],
  );
  return {
    inserted: rows.length,
    affectedMacs: [...new Set(rows.map((r) => r.mac_address))].sort(),
    affectedNames: [...new Set(rows.map((r) => r.name))].sort(),
  };
}

interface EventRow {
  hash: string;
  received_at: Date;
  name: string;
  mac_address: string;
  source: EventSource;
  payload: unknown;
}

/** Stored events (all, or those touching the given MACs or names), ordered by (received_at, event_hash). */
export async function loadEvents(client: pg.ClientBase, scope?: { macs: string[]; names: string[] }): Promise<FoldEvent[]> {
  const select = `SELECT encode(event_hash, 'hex') AS hash, received_at, name, mac_address, source, payload FROM register_events`;
  const order = ' ORDER BY received_at, event_hash';
  const { rows } = scope
    ? await client.query<EventRow>(`${select} WHERE mac_address = ANY($1::text[]) OR name = ANY($2::text[])${order}`, [scope.macs, scope.names])
    : await client.query<EventRow>(select + order);
  return rows.map((r) => ({
    receivedAt: r.received_at,
    name: r.name,
    mac: r.mac_address,
    source: r.source,
    payload: r.payload,
    hash: r.hash,
  }));
}
