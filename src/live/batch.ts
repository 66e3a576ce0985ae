/**
 * One live batch in one transaction, through the same per-batch logic as file ingest (src/ingest/apply-batch):
 * register events first (they change who a name stands for), then the readings through the shared loader,
 * then the reject counts of the live stream (NULL origin) — all or nothing.
 */
import type pg from 'pg';
import { applyRegisters, flushReadings, type BatchState } from '../ingest/apply-batch.js';
import { DaylightRanges, refreshDaylight } from '../filter/index.js';
import type { RegistryCache } from '../ingest/registry-cache.js';
import type { ReadingLoader } from '../load/loader.js';
import { RejectCounter, saveRejects } from '../load/rejects.js';
import type { EncodedReading } from '../load/encoded.js';
import type { Reading, RegisterEvent } from '../model/types.js';
import type { SourceBatch } from '../ingest/sources/index.js';
import { encodedFromReading } from '../load/encoded.js';
import type { LiveRecord } from './queue.js';

export interface BatchDeps {
  pool: pg.Pool;
  loader: ReadingLoader;
  registry: RegistryCache;
  /**
   * Newest register event this process's photometer cache has seen. When another process (a second daemon on a
   * shared subscription, an import, an administrative change) adds events, the cache is reloaded.
   */
  registryVersion?: { value: string | null };
}

export interface BatchResult {
  inserted: number;
  duplicates: number;
  /** Readings the loader did not load (unregistered, not authorised, out of range), by reason. */
  loaderRejects: Record<string, number>;
  /** Newest reading time in the batch (for the lag statistic). */
  newest: Date | null;
  ms: number;
}

/** A batch split by kind: readings (as `Reading`s or already encoded), register events, rejects. */
interface BatchParts {
  readings: Reading[];
  encoded: EncodedReading[];
  registers: RegisterEvent[];
  rejects: RejectCounter;
  newest: Date | null;
}

/**
 * Loads `records` in one transaction, the readings in their order (whether the receiver encoded them or not).
 * `saveRejectCounts: false` is for loading a prefix of a file still being written: that file is ingested with
 * its own reject counts once it is closed.
 */
export function loadBatch(deps: BatchDeps, records: LiveRecord[], saveRejectCounts = true): Promise<BatchResult> {
  const encoded: EncodedReading[] = [];
  const registers: RegisterEvent[] = [];
  const rejects = new RejectCounter();
  let newestMs = -Infinity;
  for (const r of records) {
    if (r.kind === 'encoded' || r.kind === 'reading') {
      const row = r.kind === 'encoded' ? r.row : encodedFromReading(r.reading);
      encoded.push(row);
      if (row.ms > newestMs) newestMs = row.ms;
    } else if (r.kind === 'register') registers.push(r.event);
    else rejects.add(r.reject);
  }
  const newest = newestMs === -Infinity ? null : new Date(newestMs);
  return loadParts(deps, { readings: [], encoded, registers, rejects, newest }, saveRejectCounts);
}

/** Loads one batch of an archive source (the fast path's encoded rows) in one transaction, like `loadBatch`. */
export function loadSourceBatch(deps: BatchDeps, batch: SourceBatch, saveRejectCounts = true): Promise<BatchResult> {
  const rejects = new RejectCounter();
  for (const r of batch.rejects) rejects.add(r);
  const encoded = batch.encoded ?? [];
  let newestMs = -Infinity;
  for (const e of encoded) if (e.ms > newestMs) newestMs = e.ms;
  let newest = newestMs === -Infinity ? null : new Date(newestMs);
  for (const r of batch.readings) if (newest === null || r.tstamp > newest) newest = r.tstamp;
  return loadParts(deps, { readings: batch.readings, encoded, registers: batch.registers, rejects, newest }, saveRejectCounts);
}

async function loadParts(deps: BatchDeps, parts: BatchParts, saveRejectCounts: boolean): Promise<BatchResult> {
  const started = performance.now();
  const { readings, registers, rejects, newest } = parts;
  const before = rejects.byReason();
  const client = await deps.pool.connect();
  let registryChanged = false;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    if (deps.registryVersion) {
      const { rows } = await client.query<{ v: string | null }>('SELECT max(event_id)::text AS v FROM register_events');
      if (rows[0].v !== deps.registryVersion.value) {
        deps.registry.invalidate();
        deps.registryVersion.value = rows[0].v;
      }
    }
    const daylight = new DaylightRanges();
    const state: BatchState = { attribution: await deps.registry.current(client), registryChanged: false, pending: [], daylight };
    await applyRegisters(client, { registers, readings: [], rejects: [], lines: registers.length }, state);
    state.rows = parts.encoded;
    state.pending = readings;
    const counts = await flushReadings(client, deps.loader, state, rejects);
    if (saveRejectCounts) await saveRejects(client, null, rejects.list());
    // After any registry change in this transaction: the refresh takes per-name locks.
    await refreshDaylight(client, daylight);
    await client.query('COMMIT');
    registryChanged = state.registryChanged;
    const after = rejects.byReason();
    const loaderRejects: Record<string, number> = {};
    for (const [reason, n] of Object.entries(after)) {
      const d = n - (before[reason] ?? 0);
      if (d > 0) loaderRejects[reason] = d;
    }
    return { inserted: counts.inserted, duplicates: counts.duplicates, loaderRejects, newest, ms: performance.now() - started };
  } catch (err) {
    broken = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    deps.loader.afterRollback();
    throw err;
  } finally {
    if (registryChanged) deps.registry.invalidate();
    // After an error the connection may be broken: do not give it back to the pool.
    client.release(broken);
  }
}
