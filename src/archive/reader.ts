/** Streaming archive reader used by `tessdb ingest`: gzip NDJSON file → batches of decoded lines. */
import type { ArchiveMessage } from '../model/types.js';
import { archiveMessageFromObject, decodeArchiveLine } from './decode-line.js';
import { MAX_ARCHIVE_LINE_BYTES } from './encode-line.js';
import { GunzipSource } from './gunzip-source.js';
import { LineSplitter, linesOf, type ChunkLines, type SplitLine } from './line-splitter.js';

export { decodeArchiveLine } from './decode-line.js';

/** One line of an archive: either a decoded `message`, or an `error` (one line, prefixed `line N: `) with the `raw` text. */
export interface ArchiveLine {
  /** 1-based physical line number (blank lines count). */
  lineNo: number;
  message?: ArchiveMessage;
  error?: string;
  /** The offending line, truncated to 2,000 characters (only with `error`). */
  raw?: string;
}

/** Counters of one read; final once the iteration has ended (or was stopped early). */
export interface ArchiveReadStats {
  /** Lines read, including blank and invalid ones (a dropped partial last line is not counted). */
  lines: number;
  /** Empty or whitespace-only lines (skipped, not yielded). */
  blank: number;
  /** Lines yielded with `error`. */
  invalid: number;
  /** Compressed bytes read from the file. */
  bytesRead: number;
  /** true when the gzip stream could not be decoded to its end (truncated, corrupt, or empty file). */
  truncated: boolean;
  /** Why, e.g. `truncated gzip stream after 123456 bytes: unexpected end of file; dropped a partial last line of 87 bytes`. */
  truncatedDetail?: string;
}

export interface OpenArchiveOptions {
  /** Lines per yielded batch (default 2000). */
  batchLines?: number;
}

export interface OpenedArchive {
  /** Batches of lines in file order; single use. Rejects if the file cannot be read or is not gzip. */
  batches: AsyncIterable<ArchiveLine[]>;
  stats: ArchiveReadStats;
}

export const DEFAULT_BATCH_LINES = 2000;
const MAX_RAW_CHARS = 2000;

const clip = (s: string): string => (s.length > MAX_RAW_CHARS ? s.slice(0, MAX_RAW_CHARS) : s);

/** Whether a line is empty or whitespace only (cheap for ordinary `{`-lines). */
function isBlank(line: string): boolean {
  return line.length === 0 || (line.charCodeAt(0) !== 0x7b && line.trim().length === 0);
}

/** `parsed` argument of {@link toArchiveLine} when the line has not been through JSON.parse yet. */
export const NOT_PARSED: unique symbol = Symbol('not parsed');

/**
 * Decodes one split line into an ArchiveLine, or null for a blank line; updates `stats`. `parsed`:
 * the line's JSON.parse result when the caller already has it.
 */
export function toArchiveLine(line: SplitLine, lineNo: number, stats: ArchiveReadStats, parsed: unknown = NOT_PARSED): ArchiveLine | null {
  stats.lines++;
  if (typeof line !== 'string') {
    stats.invalid++;
    return { lineNo, error: `line ${lineNo}: line too long (${line.overlong} bytes)`, raw: clip(line.head) };
  }
  if (isBlank(line)) {
    stats.blank++;
    return null;
  }
  try {
    return { lineNo, message: parsed === NOT_PARSED ? decodeArchiveLine(line) : archiveMessageFromObject(parsed) };
  } catch (e) {
    stats.invalid++;
    return { lineNo, error: `line ${lineNo}: ${(e as Error).message}`, raw: clip(line) };
  }
}

function partialLineBytes(line: SplitLine): number {
  return typeof line === 'string' ? Buffer.byteLength(line) : line.overlong;
}

/**
 * The lines of a gzip archive in file order, blank and invalid ones included, in the groups the
 * splitter returns them; the unterminated last line is included unless the stream was truncated.
 * Updates `stats.bytesRead`, `truncated` and `truncatedDetail` (not the line counters).
 */
export async function* readLineGroups(path: string, stats: ArchiveReadStats): AsyncGenerator<SplitLine[]> {
  for await (const group of readChunkLines(path, stats)) {
    if (Array.isArray(group)) {
      yield group;
      continue;
    }
    const lines = linesOf(group);
    if (lines.length > 0) yield lines;
  }
}

/**
 * As {@link readLineGroups}, but each chunk's lines stay bytes (ChunkLines); the unterminated last
 * line comes as a one-line array.
 */
export async function* readChunkLines(path: string, stats: ArchiveReadStats): AsyncGenerator<ChunkLines | [SplitLine]> {
  const source = new GunzipSource(path);
  const splitter = new LineSplitter(MAX_ARCHIVE_LINE_BYTES);
  try {
    for (let chunk = await source.next(); chunk !== null; chunk = await source.next()) {
      stats.bytesRead = source.bytesRead;
      const lines = splitter.pushBytes(chunk);
      if (lines !== null) yield lines;
    }
    const tail = splitter.end();
    if (source.truncatedDetail !== undefined) {
      stats.truncated = true;
      stats.truncatedDetail =
        tail === null ? source.truncatedDetail : `${source.truncatedDetail}; dropped a partial last line of ${partialLineBytes(tail)} bytes`;
    } else if (tail !== null) {
      yield [tail];
    }
  } finally {
    stats.bytesRead = source.bytesRead;
    source.destroy();
  }
}

async function* readBatches(path: string, batchLines: number, stats: ArchiveReadStats): AsyncGenerator<ArchiveLine[]> {
  let lineNo = 0;
  let batch: ArchiveLine[] = [];
  for await (const lines of readLineGroups(path, stats)) {
    for (const line of lines) {
      const item = toArchiveLine(line, ++lineNo, stats);
      if (item === null) continue;
      batch.push(item);
      if (batch.length >= batchLines) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Opens an archive file for streaming. Nothing is read until `batches` is iterated. Truncated and
 * corrupt gzip streams yield their decodable prefix and set `stats.truncated`; concatenated gzip members
 * are read as one stream; invalid lines are yielded with `error`. Iteration rejects (Error naming the
 * path) only when the file cannot be read or is not gzip at all.
 */
export function openArchive(path: string, opts: OpenArchiveOptions = {}): OpenedArchive {
  const batchLines = Math.max(1, Math.floor(opts.batchLines ?? DEFAULT_BATCH_LINES));
  const stats: ArchiveReadStats = { lines: 0, blank: 0, invalid: 0, bytesRead: 0, truncated: false };
  let used = false;
  const batches: AsyncIterable<ArchiveLine[]> = {
    [Symbol.asyncIterator]() {
      if (used) throw new Error(`archive ${path} is already being read (openArchive batches are single use)`);
      used = true;
      return readBatches(path, batchLines, stats);
    },
  };
  return { batches, stats };
}
