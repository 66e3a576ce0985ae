/** `tessdb ingest`: load pending files, each in its own transaction, `jobs` files at a time. */
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { ReadingLoader } from '../load/loader.js';
import { NameIds } from '../load/names.js';
import { PartitionManager } from '../load/partitions.js';
import { syncSettings } from '../filter/settings.js';
import { log } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { ingestFile, type FileResult, type FileToIngest } from './ingest-file.js';
import { DatabaseWait } from './db-wait.js';
import { ingestOverlapped } from './overlap.js';
import { clearRereadPending, reattributableFiles, rereadPendingToken } from './pending.js';
import { RegistryCache } from './registry-cache.js';

/** The rows of a job's first COPY: an hourly archive's first tenth or so. */
const START_BATCH_ROWS = 5000;

export interface IngestSummary {
  files: number;
  failed: number;
  withErrors: number;
  read: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  rejectsByReason: Record<string, number>;
  /** Files of earlier runs read again (their newly attributable readings are in `inserted`). */
  reread: number;
  seconds: number;
  rowsPerSecond: number;
  results: FileResult[];
}

export interface IngestRunOptions {
  jobs: number;
  quiet?: boolean;
  onResult?: (r: FileResult) => void;
}

export async function ingestFiles(pool: pg.Pool, config: Config, files: FileToIngest[], opts: IngestRunOptions): Promise<IngestSummary> {
  const started = Date.now();
  await syncSettings(pool, config); // the views follow this configuration's filter.daylight
  const names = new NameIds(pool);
  const registry = new RegistryCache();
  const dbWait = new DatabaseWait(pool, config.ingest.db_retry_s);
  const progress = createProgress('ingest', files.length, { quiet: opts.quiet });
  const results: FileResult[] = [];
  const reread: FileResult[] = [];
  // Parallel files of the same photometers would wait for each other's claims (src/filter/daylight-claims.ts).
  const daylightEdges = config.ingest.daylight_edges && opts.jobs === 1;
  const runPool = async (list: FileToIngest[], onResult: (r: FileResult) => void) => {
    let next = 0;
    let failure: { err: unknown } | undefined;
    const worker = async () => {
      // One loader per connection in use: it remembers partitions and duplicate evidence for it.
      const newLoader = () => new ReadingLoader(names, new PartitionManager(), { requireAuthorisation: config.registry.require_authorisation });
      const take = () => (next < list.length && !failure ? list[next++] : undefined);
      try {
        let first = true;
        await ingestOverlapped(take, [newLoader(), newLoader()], (file, loader, loaded, previous, names) =>
          ingestFile(file, {
            pool,
            loader,
            registry,
            // Source batches no larger than the loader's, so that ingest.batch_rows bounds what a COPY holds.
            source: { topicPrefix: config.mqtt.topic_prefix, batchLines: Math.min(5000, config.ingest.batch_rows), csvFormats: config.csv.formats },
            batchRows: config.ingest.batch_rows,
            // The database has nothing to do until a job's first COPY: that one comes early.
            firstBatchRows: first ? ((first = false), START_BATCH_ROWS) : undefined,
            onRows: (rows) => progress.tick(0, rows),
            dbWait,
            onLoaded: loaded,
            daylightEdges,
            synchronousCommit: config.ingest.synchronous_commit,
            previous,
            names,
          }).catch((err: unknown) => {
            failure ??= { err }; // no job takes a new file from now on
            throw err;
          }), onResult);
      } catch (err) {
        // The run stops (e.g. the database stayed away longer than ingest.db_retry_s): the other
        // jobs finish or abandon their current files, and take no new one.
        failure ??= { err };
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, list.length)) }, worker));
    if (failure) throw failure.err;
  };
  try {
    await runPool(files, (result) => {
      results.push(result);
      progress.tick(1, 0);
      opts.onResult?.(result);
    });
    // Registrations loaded in this run (in any file, by any job) may attribute readings that an
    // earlier file rejected as unregistered: read those files again, so the outcome does not
    // depend on the order or the parallelism the files were ingested with. The same when an
    // earlier run committed registrations but ended before it read those files again.
    const token = await dbWait.run(() => rereadPendingToken(pool));
    if (registry.changes > 0 || token !== null) {
      const again = await dbWait.run(() => reattributableFiles(pool, config.host));
      if (again.length > 0) {
        log.info(`reading ${again.length} files again: registrations loaded since they were read make some of their unregistered readings loadable`);
        await runPool(again, (retry) => {
          const i = results.findIndex((r) => r.originId === retry.originId);
          if (i < 0) {
            // A file loaded by an earlier run: its problems were reported then; only a failure now counts.
            if (retry.status === 'failed') {
              results.push(retry);
              opts.onResult?.(retry);
            } else {
              reread.push(retry);
            }
          } else {
            results[i] = mergeRetry(results[i], retry);
            if (retry.status === 'failed') opts.onResult?.(retry);
          }
        });
      }
      if (token !== null) await dbWait.run(() => clearRereadPending(pool, token));
    }
  } finally {
    progress.stop();
  }
  return summarise(results, reread, (Date.now() - started) / 1000);
}

/** The same file read twice in one run: counts relative to the state before the run, rejects as now. */
function mergeRetry(first: FileResult, retry: FileResult): FileResult {
  if (retry.status === 'failed') return { ...first, status: 'failed', error: retry.error, seconds: first.seconds + retry.seconds };
  return {
    ...retry,
    inserted: first.inserted + retry.inserted,
    duplicates: Math.max(0, retry.duplicates - first.inserted),
    seconds: first.seconds + retry.seconds,
  };
}

function summarise(results: FileResult[], reread: FileResult[], seconds: number): IngestSummary {
  const s: IngestSummary = {
    files: results.length, failed: 0, withErrors: 0, read: 0, inserted: 0, duplicates: 0, rejected: 0,
    rejectsByReason: {}, reread: reread.length, seconds, rowsPerSecond: 0, results,
  };
  // Files of earlier runs read again because their unregistered readings became attributable.
  for (const r of reread) s.inserted += r.inserted;
  for (const r of results) {
    if (r.status === 'failed') s.failed++;
    if (r.status === 'loaded_with_errors') s.withErrors++;
    s.read += r.read;
    s.inserted += r.inserted;
    s.duplicates += r.duplicates;
    s.rejected += r.rejected;
    for (const [reason, n] of Object.entries(r.rejectsByReason)) s.rejectsByReason[reason] = (s.rejectsByReason[reason] ?? 0) + n;
  }
  s.rowsPerSecond = Math.round(s.read / Math.max(seconds, 0.001));
  return s;
}
