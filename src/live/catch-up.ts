/**
 * Catching up from the archive, for what the live stream did not load: files finalised after a crash, files
 * of an outage or overflow, files of earlier runs that never got loaded. Closed files go through the ingest
 * path (`ingestFile`: one transaction with its file_ingests record, so `tessdb ingest` skips them later); the
 * file still being written is read up to its last flush with the archive source of file ingest and loaded
 * with the same loader. Loading is idempotent, so overlapping what was loaded live is harmless.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { ARCHIVE_SUFFIX, PART_SUFFIX, parseArchiveName, sanitiseHost } from '../archive/index.js';
import { ingestFile, type FileResult } from '../ingest/ingest-file.js';
import { registerSingleFile } from '../ingest/single-file.js';
import { archiveSource } from '../ingest/sources/archive-source.js';
import type { SourceBatch } from '../ingest/sources/index.js';
import { UserError } from '../util/errors.js';
import { loadSourceBatch, type BatchDeps, type BatchResult } from './batch.js';

const DAY_MS = 86_400_000;

export interface CatchUpDeps extends BatchDeps {
  /** `host` of file_origins rows. */
  host: string;
  archiveDir: string;
  /** Host tag in this daemon's archive file names. */
  tag: string;
  topicPrefix: string;
  /** Rows per COPY when ingesting a file (ingest.batch_rows). */
  fileBatchRows: number;
  /** Lines per transaction when loading an open file's prefix (live.batch_rows). */
  liveBatchRows: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `<dir>/YYYY/MM/DD` for every UTC day from `fromMs` to `toMs`. */
function dayDirs(dir: string, fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let t = Math.floor(fromMs / DAY_MS) * DAY_MS; t <= toMs; t += DAY_MS) {
    const d = new Date(t);
    out.push(path.join(dir, pad(d.getUTCFullYear(), 4), pad(d.getUTCMonth() + 1), pad(d.getUTCDate())));
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** This tag's archive files whose period starts at or after `sinceMs` (closed ones, or `.part` ones), sorted. */
export function archiveFilesOf(dir: string, tag: string, sinceMs: number, opts: { part: boolean; nowMs?: number }): string[] {
  const host = sanitiseHost(tag);
  const found: string[] = [];
  for (const d of dayDirs(dir, sinceMs, opts.nowMs ?? Date.now())) {
    for (const name of listDir(d)) {
      if (!name.endsWith(opts.part ? ARCHIVE_SUFFIX + PART_SUFFIX : ARCHIVE_SUFFIX)) continue;
      const parsed = parseArchiveName(name);
      if (!parsed || parsed.host !== host || parsed.start.getTime() < sinceMs) continue;
      found.push(path.join(d, name));
    }
  }
  return found.sort();
}

/** Of `paths`, those without a successful ingest record for their recorded content. */
export async function notYetLoaded(pool: pg.Pool, host: string, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const { rows } = await pool.query<{ path: string }>(
    `SELECT o.path FROM file_origins o
      WHERE o.host = $1 AND o.path = ANY($2::text[])
        AND EXISTS (SELECT 1 FROM file_ingests i
                     WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status <> 'failed')`,
    [host, paths],
  );
  const done = new Set(rows.map((r) => r.path));
  return paths.filter((p) => !done.has(p));
}

/**
 * Ingests one closed archive file like `tessdb ingest --file` does. Returns null when it was already ingested
 * or has vanished. Throws when the database is unreachable (so the caller retries later); a file that fails
 * for another reason is recorded as failed (shown by `tessdb status`, retried by `tessdb ingest`).
 */
export async function catchUpFile(deps: CatchUpDeps, file: string): Promise<FileResult | null> {
  let target;
  try {
    target = await registerSingleFile(deps.pool, deps.host, file);
  } catch (err) {
    if (err instanceof UserError) return null; // moved or deleted meanwhile
    throw err;
  }
  if (target.alreadyIngested) return null;
  const result = await ingestFile(target, {
    pool: deps.pool,
    loader: deps.loader,
    registry: deps.registry,
    source: { topicPrefix: deps.topicPrefix, batchLines: 5000 },
    batchRows: deps.fileBatchRows,
  });
  // ingestFile records its own failures; tell an outage (retry later) from a file that cannot be loaded.
  if (result.status === 'failed') await deps.pool.query('SELECT 1');
  return result;
}

export interface OpenFilesResult {
  files: number;
  lines: number;
  loaded: BatchResult[];
}

/** Per open (`.part`) file, how many of its lines are loaded already: later rounds read on from there. */
export type OpenFileProgress = Map<string, number>;

/**
 * The lines of the oldest open file that the catch-up must load: after `skip` leading lines the live stream
 * committed itself, through line `until` (the last dropped message; later ones are queued for live loading
 * again), or to the end when `until` is undefined. Reading outside the window would only load duplicates; a
 * window that is too narrow costs nothing worse than a later load, because a file with dropped messages is
 * ingested whole once it is closed.
 */
export interface LineWindow {
  skip: number;
  until?: number;
}
export type OpenFileWindow = () => LineWindow;

/**
 * Loads what is flushed so far of this daemon's `.part` files (call `ArchiveWriter.flush()` first), from where
 * the previous round stopped (`progress`), so that repeated rounds under overload do not reload the whole file
 * each time. Their reject counts are left to the file's own ingest once it is closed.
 */
export async function catchUpOpenFiles(
  deps: CatchUpDeps,
  periodSeconds: number,
  progress: OpenFileProgress = new Map(),
  window: OpenFileWindow = () => ({ skip: 0 }),
  nowMs = Date.now(),
): Promise<OpenFilesResult> {
  const since = nowMs - periodSeconds * 1000 * 2 - DAY_MS;
  const result: OpenFilesResult = { files: 0, lines: 0, loaded: [] };
  const open = archiveFilesOf(deps.archiveDir, deps.tag, since, { part: true, nowMs });
  for (const file of progress.keys()) if (!open.includes(file)) progress.delete(file); // closed since
  const oldest = open.length > 0 ? window() : undefined;
  if (oldest) progress.set(open[0], Math.max(progress.get(open[0]) ?? 0, oldest.skip));
  for (const file of open) {
    const skipLines = progress.get(file) ?? 0;
    const untilLine = file === open[0] ? oldest?.until : undefined;
    if (untilLine !== undefined && untilLine <= skipLines) continue;
    // The same reader as file ingest: plain readings take the fast path straight to encoded COPY rows.
    const source = archiveSource(file, { topicPrefix: deps.topicPrefix, batchLines: deps.liveBatchRows, skipLines, untilLine });
    let loading = false;
    const batches = source.batches[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<SourceBatch>> | undefined;
    try {
      next = batches.next();
      for (;;) {
        const { done, value: batch } = await next;
        next = undefined;
        if (done) break;
        // The generator is paused at this batch's end: lines read so far are the ones it holds.
        const through = source.stats().linesRead ?? skipLines;
        // Decode the next batch while this one is in the database (one batch ahead at most).
        next = batches.next();
        next.catch(() => undefined); // handled when awaited (or dropped with the iterator below)
        result.lines += batch.lines;
        loading = true;
        result.loaded.push(await loadSourceBatch(deps, batch, false));
        loading = false;
        progress.set(file, through);
      }
      result.files++;
    } catch (err) {
      if (next) {
        // Stop reading ahead (closes the file) before the error goes on.
        await next.catch(() => undefined);
        await batches.return?.(undefined).catch(() => undefined);
      }
      // Renamed to its final name meanwhile: it is closed, and caught up as a closed file.
      if (!loading && !fs.existsSync(file)) {
        progress.delete(file);
        continue;
      }
      throw err;
    }
  }
  return result;
}
