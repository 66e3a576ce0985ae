/**
 * `.ndjson.gz` archives written by `tessdb live`: lines → encoded readings, register events and
 * rejects. Plain TESS-W and TESS4C readings in the writer's layout are scanned without JSON.parse
 * (src/archive/archive-scan.ts), other plain readings take the fast path (archive-fast.ts); every
 * other line is decoded and classified by the generic path, which alone decides rejects.
 */
import { fastReading } from '../../archive/archive-fast.js';
import { lastScannedRxMs, scanArchiveReading } from '../../archive/archive-scan.js';
import { parseRx } from '../../archive/decode-line.js';
import { NOT_PARSED, readChunkLines, toArchiveLine, type ArchiveReadStats } from '../../archive/reader.js';
import type { SplitLine } from '../../archive/line-splitter.js';
import { encodedFromReading, type EncodedReading } from '../../load/encoded.js';
import { classifyMessage } from '../../model/classify.js';
import type { RecordSource, SourceBatch, SourceOptions } from './types.js';

const NL = 0x0a;
const EMPTY = Buffer.alloc(0);

function emptyBatch(): SourceBatch & { encoded: EncodedReading[] } {
  return { readings: [], encoded: [], registers: [], rejects: [], lines: 0 };
}

/** JSON.parse of a line that looks like an object, or NOT_PARSED (then the generic path parses it and reports why). */
function parseObjectLine(line: SplitLine): unknown {
  if (typeof line !== 'string' || line.charCodeAt(0) !== 0x7b) return NOT_PARSED;
  try {
    return JSON.parse(line);
  } catch {
    return NOT_PARSED;
  }
}

export function archiveSource(path: string, opts: SourceOptions): RecordSource {
  const stats: ArchiveReadStats = { lines: 0, blank: 0, invalid: 0, bytesRead: 0, truncated: false };
  const batchLines = Math.max(1, Math.floor(opts.batchLines));
  const classifyOptions = { topicPrefix: opts.topicPrefix };
  const prefix = opts.topicPrefix;
  const skipLines = Math.max(0, Math.floor(opts.skipLines ?? 0));
  const untilLine = opts.untilLine ?? Infinity;
  let lineNo = 0;
  // Lines that cannot be decoded have no time of their own: count them on the day of the last good one,
  // kept as its rx (scanned lines) or as the line itself (fast-path lines: its rx is parsed again only when needed).
  let lastGood: Date | string | number = new Date(0);
  const lastDay = (): Date =>
    typeof lastGood === 'number' ? new Date(lastGood) : typeof lastGood === 'string' ? parseRx((JSON.parse(lastGood) as { rx: string }).rx) : lastGood;
  let batch = emptyBatch();

  /** One line: bytes [from, end) of `b`, or `text` when it came decoded (a line across chunks, the last line). */
  function take(text: SplitLine | null, b: Buffer, from: number, end: number): void {
    if (++lineNo <= skipLines) {
      stats.lines++;
      return;
    }
    const scanned = text === null ? scanArchiveReading(b, from, end, prefix) : null;
    if (scanned !== null) {
      stats.lines++;
      batch.encoded.push(scanned);
      lastGood = lastScannedRxMs;
      batch.lines++;
      return;
    }
    const line = text ?? b.toString('utf8', from, end);
    const value = parseObjectLine(line);
    const fast = value === NOT_PARSED ? null : fastReading(value, line as string, prefix);
    if (fast !== null) {
      stats.lines++;
      batch.encoded.push(fast);
      lastGood = line as string;
    } else {
      const item = toArchiveLine(line, lineNo, stats, value);
      if (item === null) return; // blank
      if (!item.message) {
        batch.rejects.push({ reason: 'bad_line', name: null, day: lastDay(), detail: item.error ?? `line ${item.lineNo}: unreadable`, sample: item.raw ?? '' });
      } else {
        lastGood = item.message.rx;
        const c = classifyMessage(item.message, classifyOptions);
        if (c.kind === 'reading') batch.encoded.push(encodedFromReading(c.reading));
        else if (c.kind === 'register') batch.registers.push(c.event);
        else batch.rejects.push(c.reject);
      }
    }
    batch.lines++;
  }

  async function* batches(): AsyncGenerator<SourceBatch> {
    reading: for await (const group of readChunkLines(path, stats)) {
      if (Array.isArray(group)) {
        if (lineNo >= untilLine) break;
        take(group[0], EMPTY, 0, 0);
      } else {
        if (group.carried !== null) {
          if (lineNo >= untilLine) break;
          take(group.carried, EMPTY, 0, 0);
        }
        const { buf, to } = group;
        for (let from = group.from; from <= to; ) {
          if (lineNo >= untilLine) break reading;
          const nl = buf.indexOf(NL, from);
          take(null, buf, from, nl);
          from = nl + 1;
          if (batch.lines >= batchLines) {
            yield batch;
            batch = emptyBatch();
          }
        }
      }
      if (batch.lines >= batchLines) {
        yield batch;
        batch = emptyBatch();
      }
    }
    if (batch.lines > 0) yield batch;
  }
  return {
    batches: batches(),
    stats: () => ({
      truncated: stats.truncated,
      problem: stats.truncated ? stats.truncatedDetail ?? 'truncated gzip stream' : undefined,
      linesRead: lineNo,
    }),
  };
}
