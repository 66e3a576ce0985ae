/**
 * Ingest one file in its own transaction together with its ingest record and reject counts, so a
 * crash mid-file leaves nothing half-counted and a re-run completes it. With a `DatabaseWait`, losing
 * the database mid-file waits for it to come back and loads the file again (db-wait.ts).
 */
import fs from 'node:fs';
import type pg from 'pg';
import type { ReadingLoader } from '../load/loader.js';
import { encodedFromReading, type EncodedReading } from '../load/encoded.js';
import { RejectCounter, saveRejects } from '../load/rejects.js';
import { errorMessage } from '../util/errors.js';
import { DaylightRanges, refreshDaylight } from '../filter/daylight.js';
import { DaylightGuess } from '../filter/daylight-guess.js';
import { DaylightClaims } from '../filter/daylight-claims.js';
import { applyRegisters, loadPrepared, prepareReadings, type BatchState, type PreparedReadings } from './apply-batch.js';
import type { DatabaseWait } from './db-wait.js';
import type { Predecessor } from './overlap.js';
import { markRereadPending } from './pending.js';
import type { RegistryCache } from './registry-cache.js';
import type { NameGroups } from '../util/group-by-name.js';
import { openSource, type FileKind, type SourceBatch, type SourceOptions } from './sources/index.js';

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
  /** The rows of the file's first batch, when it should be smaller than `batchRows` (a job's first file). */
  firstBatchRows?: number;
  onRows?: (rows: number) => void;
  /** Wait out database outages (`tessdb ingest`); without it a lost database is an error thrown to the caller. */
  dbWait?: DatabaseWait;
  /** Called once the file is parsed to its end, saying whether it changed the registry: the next file may start (overlap.ts). */
  onLoaded?: (registryChanged: boolean) => void;
  /**
   * The file before this one (overlap.ts), still finishing. When it changed the registry, this file
   * registers and loads nothing before it is finished, then takes a new registry snapshot. With
   * `daylightEdges` it may also still hold the daylight locks of its photometers until its COMMIT: when
   * the first COPY has readings of its photometers, it waits until that file is finished, so that this
   * file's claims do not meet those locks (a first batch of other photometers does not wait: IDA files,
   * one photometer each, follow each other without a gap).
   */
  previous?: Predecessor;
  /** Filled with the names of the file's readings as its batches are prepared (the next file's `previous.names`). */
  names?: Set<string>;
  /** Claim names for the edge-only daylight refresh (src/filter/daylight-claims.ts). */
  daylightEdges?: boolean;
  /** false: the file's COMMIT does not wait for its WAL flush (config ingest.synchronous_commit); default true. */
  synchronousCommit?: boolean;
}

/** Rejects that mean "the input was bad", as opposed to "not loaded by rule" (retained, unregistered…). */
const INPUT_ERRORS = new Set(['bad_line', 'invalid_json', 'invalid_payload', 'invalid_timestamp', 'payload_too_large']);

/** Deadlocks and serialisation failures between parallel jobs are retried: the file's transaction is all-or-nothing. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

export async function ingestFile(file: FileToIngest, deps: IngestDeps): Promise<FileResult> {
  for (let attempt = 1; ; ) {
    const started = new Date();
    const result = await ingestOnce(file, deps, attempt < MAX_ATTEMPTS, started);
    if (result === 'retry') {
      attempt++;
      continue;
    }
    if (!('outage' in result)) return result;
    // The database went away: wait for it (or give up, throwing), then load the file again, unless
    // this attempt's COMMIT went through before the connection was lost.
    await deps.dbWait!.recover(result.outage);
    deps.registry.invalidate(); // whether the lost transaction changed the registry is not known
    const committed = await deps.dbWait!.run(() => committedAttempt(deps.pool, file, started));
    if (committed) return committed;
  }
}

type Attempt = FileResult | 'retry' | { outage: unknown };

async function ingestOnce(file: FileToIngest, deps: IngestDeps, mayRetry: boolean, started: Date): Promise<Attempt> {
  let client: pg.PoolClient;
  try {
    client = await deps.pool.connect();
  } catch (err) {
    if (deps.dbWait && (await deps.dbWait.isOutage(err))) return { outage: err };
    throw err;
  }
  const rejects = new RejectCounter();
  const result: FileResult = {
    originId: file.originId, path: file.path, status: 'loaded', read: 0, inserted: 0, duplicates: 0,
    rejected: 0, rejectsByReason: {}, truncated: false, seconds: 0,
  };
  let registryChanged = false;
  let retry = false;
  let outage: { outage: unknown } | undefined;
  let broken: Error | undefined;
  // The server may end the connection between two queries (shutdown, pg_terminate_backend): the
  // client then emits 'error', which must not go unhandled (it would end the process). The next
  // query fails, and that error leads to the rollback below.
  let lost: Error | undefined;
  const onLost = (err: Error) => {
    lost ??= err;
  };
  client.on('error', onLost);
  /** The file's queued database work (see `queue` below); settled before the client is rolled back and released. */
  let inflight: Promise<unknown> = Promise.resolve();
  try {
    // The files are the source: a crash losing the last commits only means loading those files again.
    await client.query(deps.synchronousCommit === false ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
    const daylight = new DaylightRanges();
    const guess = new DaylightGuess();
    const claims = deps.daylightEdges ? new DaylightClaims(guess) : undefined;
    const state: BatchState = { attribution: await deps.registry.current(client), registryChanged: false, pending: [], rows: [], daylight, guess, claims };
    const source = openSource(file.kind, file.path, deps.source);
    const add = (c: { inserted: number; duplicates: number }) => {
      result.inserted += c.inserted;
      result.duplicates += c.duplicates;
    };
    // While the next batch is read and classified, one batch may be loading and one more queued behind
    // it: file parsing (Node) and loading (the Postgres backend) then use both cores, and neither waits
    // for the other's hiccups.
    let older: Promise<unknown> = Promise.resolve();
    /** Queues a step of the file's database work behind the others (after `await older`: at most two wait). */
    const queue = (step: () => Promise<unknown>): void => {
      older = inflight;
      inflight = inflight.then(step);
      inflight.catch(() => undefined); // awaited below; this only stops it counting as unhandled meanwhile
    };
    // Only the first COPY may wait for the file before: once this file holds claims, waiting for that
    // file outside Postgres could close a cycle Postgres cannot see (that file waiting for a lock a
    // third transaction holds, which waits for one of ours); names still locked then just get the
    // full refresh.
    let previous = deps.daylightEdges ? deps.previous : undefined;
    // After the file before changed the registry, this file's snapshot of it is stale: it is taken again
    // once that file is finished, by this file's own registrations or else before its first load.
    let registryFrom = deps.previous?.registryChanged ? deps.previous.done : undefined;
    let staleRegistry = false;
    const afterRegistryChange = async (): Promise<void> => {
      if (registryFrom === undefined) return;
      const from = registryFrom;
      registryFrom = undefined;
      await from;
      staleRegistry = true;
    };
    const register = async (registering: SourceBatch): Promise<void> => {
      await afterRegistryChange();
      const before = state.attribution;
      await applyRegisters(client, registering, state);
      if (state.attribution !== before) staleRegistry = false; // it loaded a new snapshot
    };
    const freshRegistry = async (): Promise<void> => {
      await afterRegistryChange();
      if (!staleRegistry) return;
      staleRegistry = false;
      state.attribution = await deps.registry.current(client);
    };
    const waitFor = (groups: NameGroups): Promise<unknown> | undefined => {
      const p = previous;
      previous = undefined;
      return p && sharesName(groups, p.names) ? p.done : undefined;
    };
    // A batch is prepared (flags, COPY text) when it is taken; only its gate and load wait in the queue.
    const prepare = (rows: EncodedReading[], last: boolean) => {
      const prepared = prepareReadings(deps.loader, state, rows, last, true);
      if (deps.names) for (const name of prepared.groups.keys()) deps.names.add(name);
      return prepared;
    };
    const load = (p: PreparedReadings) =>
      freshRegistry().then(() => loadPrepared(client, deps.loader, state, rejects, p, waitFor(p.groups))).then(add);
    let sawRegisters = false;
    let batchRows = Math.min(deps.firstBatchRows ?? deps.batchRows, deps.batchRows);
    for await (const batch of source.batches) {
      result.read += batch.lines;
      for (const r of batch.rejects) rejects.add(r);
      if (batch.registers.length > 0) {
        // Registered in turn with the loads queued before and after them; parsing goes on meanwhile.
        sawRegisters = true;
        await older;
        queue(() => register(batch));
      }
      const rows = state.rows!;
      for (const r of batch.readings) rows.push(encodedFromReading(r));
      if (batch.encoded) for (const r of batch.encoded) rows.push(r);
      if (rows.length >= batchRows) {
        batchRows = deps.batchRows;
        await older;
        state.rows = [];
        const prepared = prepare(rows, false);
        queue(() => load(prepared));
      }
      deps.onRows?.(batch.lines);
    }
    // All rows are parsed (and their names noted by prepare): the next file may start parsing while this
    // one's last COPY runs (its registrations may still be queued: any register event counts as a change for the next file).
    const lastBatch = prepare(state.rows!, true);
    state.rows = [];
    deps.onLoaded?.(state.registryChanged || sawRegisters);
    await inflight;
    await load(lastBatch);
    await refreshDaylight(client, daylight, claims);
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
    // Registrations committed with this file may make readings that other files rejected as
    // unregistered loadable: recorded with them, so a run killed before re-reading those files
    // leaves the re-read to the next run (run.ts).
    if (registryChanged) await markRereadPending(client);
    await recordIngest(client, file, result, started);
    await client.query('COMMIT');
  } catch (err) {
    // A load still queued (the parse failed meanwhile) must not send its statements after the ROLLBACK:
    // they would run outside any transaction, or in the next file's if the client were already back in the pool.
    await inflight.catch(() => undefined);
    await client.query('ROLLBACK').catch(() => undefined);
    deps.loader.afterRollback();
    registryChanged = false;
    if (mayRetry && RETRYABLE.has((err as { code?: string }).code ?? '')) {
      retry = true;
    } else if (deps.dbWait && (await deps.dbWait.isOutage(lost ?? err))) {
      // Nothing to record: the transaction is gone with the connection; the file is loaded again.
      outage = { outage: lost ?? err };
      broken = lost ?? (err instanceof Error ? err : new Error(String(err)));
    } else {
      result.status = 'failed';
      result.error = failureMessage(file, lost ?? err);
      result.inserted = 0;
      result.duplicates = 0;
      await recordIngest(client, file, result, started).catch(() => undefined);
    }
  } finally {
    if (registryChanged) deps.registry.invalidate();
    client.off('error', onLost);
    // A connection that failed is not given back to the pool.
    client.release(broken ?? lost);
  }
  if (retry) return 'retry';
  if (outage) return outage;
  result.seconds = (Date.now() - started.getTime()) / 1000;
  return result;
}

function sharesName(groups: NameGroups, names: ReadonlySet<string>): boolean {
  if (names.size === 0) return false;
  for (const name of groups.keys()) if (names.has(name)) return true;
  return false;
}

/** The result this attempt recorded if its COMMIT reached the server although the reply was lost. */
async function committedAttempt(pool: pg.Pool, file: FileToIngest, started: Date): Promise<FileResult | null> {
  const { rows } = await pool.query<{
    status: FileStatus; rows_read: string; rows_inserted: string; rows_duplicate: string; rows_rejected: string;
    truncated: boolean; error: string | null;
  }>(
    `SELECT status, rows_read, rows_inserted, rows_duplicate, rows_rejected, truncated, error
       FROM file_ingests WHERE origin_id = $1 AND content_hash = $2 AND started_at = $3 AND status <> 'failed'`,
    [file.originId, file.contentHash, started],
  );
  if (rows.length === 0) return null;
  const r = rows[0];
  const rejects = await pool.query<{ reason: string; n: string }>(
    'SELECT reason, sum(count)::bigint AS n FROM reject_counts WHERE origin_id = $1 GROUP BY reason',
    [file.originId],
  );
  return {
    originId: file.originId, path: file.path, status: r.status, read: Number(r.rows_read), inserted: Number(r.rows_inserted),
    duplicates: Number(r.rows_duplicate), rejected: Number(r.rows_rejected),
    rejectsByReason: Object.fromEntries(rejects.rows.map((x) => [x.reason, Number(x.n)])), truncated: r.truncated,
    error: r.error ?? undefined, seconds: (Date.now() - started.getTime()) / 1000,
  };
}

/** Why a file could not be loaded, in one line; a file gone since the inventory says what to do. */
function failureMessage(file: FileToIngest, err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if ((e?.code ?? e?.cause?.code) === 'ENOENT' && !fs.existsSync(file.path)) {
    return 'file not found: deleted or moved since the inventory (restore it, or run `tessdb inventory` again)';
  }
  return errorMessage(err);
}

/** A file that changed while it was read is not recorded as ingested: the next inventory sees the new version. */
function assertUnchanged(file: FileToIngest): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file.path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new Error(`${file.path} was deleted or moved while it was being ingested (restore it, or run \`tessdb inventory\` again)`);
    throw err;
  }
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
