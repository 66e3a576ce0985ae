/**
 * Ingest one file in its own transaction together with its ingest record and reject counts, so a
 * crash mid-file leaves nothing half-counted and a re-run completes it.
 */
import fs from 'node:fs';
import type pg from 'pg';
import type { ReadingLoader } from '../load/loader.js';
import { RejectCounter, saveRejects } from '../load/rejects.js';
import { errorMessage } from '../util/errors.js';
import { DaylightRanges, refreshDaylight } from '../filter/daylight.js';
import { applyRegisters, flushReadings, type BatchState } from './apply-batch.js';
import type { RegistryCache } from './registry-cache.js';
import { openSource, type FileKind, type SourceOptions } from './sources/index.js';

export interface FileToIngest {
  originId: number;
  path: string;
  kind: FileKind;
  contentHash: string;
  sizeBytes: number;
  mtimeMs: number;
}

export type FileStatus = 'loaded' | 'loaded_with_errors' | 'failed';

export interface FileResult {
  originId: number;
  path: string;
  status: FileStatus;
  read: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  rejectsByReason: Record<string, number>;
  truncated: boolean;
  error?: string;
  seconds: number;
}

export interface IngestDeps {
  pool: pg.Pool;
  loader: ReadingLoader;
  registry: RegistryCache;
  source: SourceOptions;
  batchRows: number;
  onRows?: (rows: number) => void;
}

/** Rejects that mean "the input was bad", as opposed to "not loaded by rule" (retained, unregistered…). */
const INPUT_ERRORS = new Set(['bad_line', 'invalid_json', 'invalid_payload', 'invalid_timestamp', 'payload_too_large']);

/** Deadlocks and serialisation failures between parallel jobs are retried: the file's transaction is all-or-nothing. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

export async function ingestFile(file: FileToIngest, deps: IngestDeps): Promise<FileResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await ingestOnce(file, deps, attempt < MAX_ATTEMPTS);
    if (result !== 'retry') return result;
  }
}

async function ingestOnce(file: FileToIngest, deps: IngestDeps, mayRetry: boolean): Promise<FileResult | 'retry'> {
  const started = new Date();
  const client = await deps.pool.connect();
  const rejects = new RejectCounter();
  const result: FileResult = {
    originId: file.originId, path: file.path, status: 'loaded', read: 0, inserted: 0, duplicates: 0,
    rejected: 0, rejectsByReason: {}, truncated: false, seconds: 0,
  };
  let registryChanged = false;
  let retry = false;
  try {
    await client.query('BEGIN');
    const daylight = new DaylightRanges();
    const state: BatchState = { attribution: await deps.registry.current(client), registryChanged: false, pending: [], daylight };
    const source = openSource(file.kind, file.path, deps.source);
    const add = (c: { inserted: number; duplicates: number }) => {
      result.inserted += c.inserted;
      result.duplicates += c.duplicates;
    };
    // One COPY may be in flight while the next batch is read and classified: file parsing (Node) and
    // loading (the Postgres backend) then use both cores.
    let inflight: Promise<void> = Promise.resolve();
    const flush = () => flushReadings(client, deps.loader, state, rejects).then(add);
    for await (const batch of source.batches) {
      result.read += batch.lines;
      for (const r of batch.rejects) rejects.add(r);
      if (batch.registers.length > 0) {
        await inflight;
        await applyRegisters(client, batch, state);
      }
      for (const r of batch.readings) state.pending.push(r);
      if (state.pending.length >= deps.batchRows) {
        await inflight;
        inflight = flush();
        inflight.catch(() => undefined); // awaited below; this only stops it counting as unhandled meanwhile
      }
      deps.onRows?.(batch.lines);
    }
    await inflight;
    await flush();
    await refreshDaylight(client, daylight);
    registryChanged = state.registryChanged;
    const stats = source.stats();
    assertUnchanged(file);
    result.truncated = stats.truncated;
    result.rejected = rejects.total;
    result.rejectsByReason = rejects.byReason();
    const inputErrors = rejects.list().filter((t) => INPUT_ERRORS.has(t.reason));
    if (stats.problem || inputErrors.length) {
      result.status = 'loaded_with_errors';
      result.error = stats.problem ?? `${inputErrors.reduce((n, t) => n + t.count, 0)} bad input lines, e.g. ${inputErrors[0].detail}`;
    }
    await saveRejects(client, file.originId, rejects.list());
    await recordIngest(client, file, result, started);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    deps.loader.afterRollback();
    registryChanged = false;
    if (mayRetry && RETRYABLE.has((err as { code?: string }).code ?? '')) {
      retry = true;
    } else {
      result.status = 'failed';
      result.error = errorMessage(err);
      result.inserted = 0;
      result.duplicates = 0;
      await recordIngest(client, file, result, started).catch(() => undefined);
    }
  } finally {
    if (registryChanged) deps.registry.invalidate();
    client.release();
  }
  if (retry) return 'retry';
  result.seconds = (Date.now() - started.getTime()) / 1000;
  return result;
}

/** A file that changed while it was read is not recorded as ingested: the next inventory sees the new version. */
function assertUnchanged(file: FileToIngest): void {
  const st = fs.statSync(file.path);
  if (st.size !== file.sizeBytes || Math.trunc(st.mtimeMs) !== Math.trunc(file.mtimeMs)) {
    throw new Error(`${file.path} changed while it was being ingested (run inventory again)`);
  }
}

async function recordIngest(client: pg.ClientBase, file: FileToIngest, r: FileResult, started: Date): Promise<void> {
  await client.query(
    `INSERT INTO file_ingests (origin_id, content_hash, status, rows_read, rows_inserted, rows_duplicate,
                               rows_rejected, truncated, error, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
     ON CONFLICT (origin_id, content_hash) DO UPDATE SET
       status = EXCLUDED.status, rows_read = EXCLUDED.rows_read, rows_inserted = EXCLUDED.rows_inserted,
       rows_duplicate = EXCLUDED.rows_duplicate, rows_rejected = EXCLUDED.rows_rejected,
       truncated = EXCLUDED.truncated, error = EXCLUDED.error, started_at = EXCLUDED.started_at,
       finished_at = now(), loaded_by = 'ingest'`,
    [file.originId, file.contentHash, r.status, r.read, r.inserted, r.duplicates, r.rejected, r.truncated, r.error ?? null, started],
  );
}
