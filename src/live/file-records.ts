/**
 * Which archive files the live stream loaded completely, and their inventory records.
 *
 * The writer fills one file at a time, in order, so the files it closes split the numbered message stream
 * (1, 2, 3… in archive line order) into consecutive ranges: a closed file with n lines holds the next n
 * messages. Once every message of a file is handled, either all of them were loaded live — then its
 * file_origins row and a file_ingests row with loaded_by 'live' are written, so `tessdb ingest` skips it — or
 * some were dropped (outage, overflow, a batch the database refused) and the file is caught up through the
 * ingest path instead. After an archive disk error the mapping is no longer trusted: files are caught up.
 */
import type pg from 'pg';
import type { ClosedArchive } from '../archive/index.js';
import { parseArchiveName } from '../archive/index.js';
import { registerSingleFile } from '../ingest/single-file.js';
import { UserError } from '../util/errors.js';
import type { QueueEntry } from './queue.js';
import { SeqRanges } from './seq-ranges.js';

/** Messages of one batch rejected for one reason when classified (invalid, retained…). */
export interface RejectNote {
  reason: string;
  seqs: SeqRanges;
  /** The first of them, to quote. */
  example: { seq: number; detail: string };
}

/**
 * What one committed live batch did, for attributing counts to files. Kept until the files it touched close
 * (up to a rotation period), so message numbers are kept as ranges, not one by one.
 */
export interface BatchNote {
  first: number;
  last: number;
  readings: SeqRanges;
  readingCount: number;
  rejects: RejectNote[];
  inserted: number;
  duplicates: number;
  /** Readings the loader refused (unregistered, not authorised…). */
  loaderRejected: number;
}

/** The note of a committed batch of `entries` (ascending numbers) with the loader's counts. */
export function batchNote(entries: QueueEntry[], counts: { inserted: number; duplicates: number; loaderRejected: number }): BatchNote {
  const readings = new SeqRanges();
  let readingCount = 0;
  const rejects = new Map<string, RejectNote>();
  for (const { seq, rec } of entries) {
    if (rec.kind === 'reading' || rec.kind === 'encoded') {
      readings.add(seq, seq);
      readingCount++;
    } else if (rec.kind === 'reject') {
      const { reason, detail } = rec.reject;
      let note = rejects.get(reason);
      if (!note) rejects.set(reason, (note = { reason, seqs: new SeqRanges(), example: { seq, detail } }));
      note.seqs.add(seq, seq);
    }
  }
  return { first: entries[0].seq, last: entries[entries.length - 1].seq, readings, readingCount, rejects: [...rejects.values()], ...counts };
}

export interface LiveFileRecord {
  path: string;
  lines: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  /** Lines that were bad input (not JSON, invalid payload…): the file is then 'loaded_with_errors', like ingest says. */
  inputErrors: number;
  inputErrorExample: string;
  startedAt: Date;
}

export type DueFile = { action: 'record'; record: LiveFileRecord } | { action: 'catch-up'; path: string; why: string };

/** The same "bad input" reasons that make `ingest` report a file as loaded_with_errors. */
const INPUT_ERRORS = new Set(['bad_line', 'invalid_json', 'invalid_payload', 'invalid_timestamp', 'payload_too_large']);

interface Waiting {
  closed: ClosedArchive;
  from: number;
  to: number;
  trusted: boolean;
}

export class FileTracker {
  private cum = 0;
  private waiting: Waiting[] = [];
  private notes: BatchNote[] = [];
  private untrusted: string | undefined;

  /** A file reached its final name (writer 'closed' event). */
  onClosed(c: ClosedArchive): void {
    const from = this.cum + 1;
    this.cum += c.lines;
    this.waiting.push({ closed: c, from, to: this.cum, trusted: this.untrusted === undefined && !c.truncated });
  }

  /** From now on, files are caught up instead of recorded (the line ↔ file mapping may be off). */
  distrust(reason: string): void {
    this.untrusted ??= reason;
  }

  /**
   * Number of the first message of the file being written, as far as this tracker knows (the files closed
   * so far); undefined once the mapping is not trusted.
   */
  get openFileFirstSeq(): number | undefined {
    return this.untrusted === undefined ? this.cum + 1 : undefined;
  }

  noteBatch(note: BatchNote): void {
    this.notes.push(note);
  }

  /** Closed files not yet settled. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Files whose every message is handled (loaded or dropped), oldest first, with what to do with each. */
  takeDue(handledThrough: number, dropped: SeqRanges): DueFile[] {
    const due: DueFile[] = [];
    while (this.waiting.length > 0 && this.waiting[0].to <= handledThrough) {
      const w = this.waiting.shift()!;
      if (!w.trusted) {
        due.push({ action: 'catch-up', path: w.closed.path, why: w.closed.truncated ? 'cut short by a disk error' : 'written after an archive disk error' });
      } else if (dropped.overlaps(w.from, w.to)) {
        due.push({ action: 'catch-up', path: w.closed.path, why: 'not all of it was loaded live' });
      } else {
        due.push({ action: 'record', record: this.recordFor(w) });
      }
      this.notes = this.notes.filter((n) => n.last > w.to);
      dropped.prune(w.to);
    }
    return due;
  }

  private recordFor(w: Waiting): LiveFileRecord {
    const r: LiveFileRecord = {
      path: w.closed.path,
      lines: w.closed.lines,
      inserted: 0,
      duplicates: 0,
      rejected: 0,
      inputErrors: 0,
      inputErrorExample: '',
      startedAt: parseArchiveName(w.closed.path)?.start ?? new Date(),
    };
    for (const n of this.notes) {
      if (n.last < w.from || n.first > w.to) continue;
      const inside = n.readings.countIn(w.from, w.to);
      // Loader counts are per batch: a batch that straddles two files is shared in proportion to its readings.
      const share = n.readingCount === 0 ? 0 : inside / n.readingCount;
      r.inserted += Math.round(n.inserted * share);
      r.duplicates += Math.round(n.duplicates * share);
      r.rejected += Math.round(n.loaderRejected * share);
      for (const j of n.rejects) {
        const inside = j.seqs.countIn(w.from, w.to);
        if (inside === 0) continue;
        r.rejected += inside;
        if (!INPUT_ERRORS.has(j.reason)) continue;
        r.inputErrors += inside;
        const { seq, detail } = j.example;
        if (!r.inputErrorExample && seq >= w.from && seq <= w.to) r.inputErrorExample = detail;
      }
    }
    return r;
  }
}

/**
 * Records a file loaded live: its origin (host, path, size, mtime, sha256, kind) and a file_ingests row with
 * loaded_by 'live'. Returns false when the file already had an ingest record for this content, or is gone.
 */
export async function writeLiveFileRecord(pool: pg.Pool, host: string, rec: LiveFileRecord): Promise<boolean> {
  let file;
  try {
    file = await registerSingleFile(pool, host, rec.path);
  } catch (err) {
    if (err instanceof UserError) return false; // moved or deleted meanwhile: inventory will tell
    throw err;
  }
  if (file.alreadyIngested || file.kind !== 'archive') return false;
  const status = rec.inputErrors > 0 ? 'loaded_with_errors' : 'loaded';
  const example = rec.inputErrorExample ? `, e.g. ${rec.inputErrorExample}` : '';
  const error = rec.inputErrors > 0 ? `${rec.inputErrors} bad input lines${example}` : null;
  const { rowCount } = await pool.query(
    `INSERT INTO file_ingests (origin_id, content_hash, status, loaded_by, rows_read, rows_inserted, rows_duplicate,
                               rows_rejected, truncated, error, started_at, finished_at)
     VALUES ($1, $2, $3, 'live', $4, $5, $6, $7, false, $8, $9, now())
     ON CONFLICT (origin_id, content_hash) DO NOTHING`,
    [file.originId, file.contentHash, status, rec.lines, rec.inserted, rec.duplicates, rec.rejected, error, rec.startedAt],
  );
  return (rowCount ?? 0) > 0;
}
