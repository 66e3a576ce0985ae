/**
 * The archive writer used by `tessdb live` (design.md §2, §5): appends received MQTT messages to rotating
 * gzip NDJSON files, sync-flushed on a timer, with bounded memory (backpressure) and disk-error recovery.
 */
import { EventEmitter } from 'node:events';
import { ArchiveFile, nodeArchiveFs, SHIP_BYTES, type ArchiveFs, type CarriedLines, type ClosedArchive } from './archive-file.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, encodeArchiveLine, type ArchiveInput } from './encode-line.js';
import { sanitiseHost } from './naming.js';
import { periodStartMs, rotationSeconds, type RotationPolicy } from './rotation.js';

export type { ArchiveInput } from './encode-line.js';
export type { ClosedArchive, ArchiveFs, ArchiveFileHandle } from './archive-file.js';
export type { RotationPolicy } from './rotation.js';

export interface ArchiveWriterOptions {
  /** Archive root; files go to `<dir>/YYYY/MM/DD/`. */
  dir: string;
  /** Host tag in file names (sanitised). Use a distinct tag per process when several write to one directory. */
  host: string;
  rotate: RotationPolicy;
  /** Also rotate when a file's uncompressed size would exceed this (successors get `_1`, `_2`…). */
  maxFileBytes?: number;
  /** Sync-flush period (default 1000 ms): a crash loses at most this window. */
  flushMs?: number;
  /** Payloads larger than this are stored as `oversize` + a 4 KiB prefix (default 256 KiB). */
  maxPayloadBytes?: number;
  /** gzip level (default 6). */
  gzipLevel?: number;
  /** Clock for rotation (tests). */
  now?: () => Date;
  /**
   * Bound on accepted bytes not yet durable (kept in memory until fdatasync); `append` waits above it (default
   * 16 MiB, min 256 KiB). A sync starts early when half of it is reached. `append` also waits while more than
   * min(4 MiB, maxBufferedBytes/4) await compression, so a burst yields to zlib instead of piling up
   * (with 1 MiB, draining a backlog spent up to a third of its time waiting for zlib: docs/performance.md, Live).
   */
  maxBufferedBytes?: number;
  /** After a disk error, how long before the next attempt to write again (default `flushMs`). */
  retryMs?: number;
  /** File creation hook (tests inject disk errors through it). */
  fs?: ArchiveFs;
}

/**
 * Events: `'closed'` (ClosedArchive), `'error'` (Error, on every failed attempt), `'recovered'` ({ lines }: the
 * disk-error state is over; `lines` carried lines were rewritten, possibly 0).
 */
export interface ArchiveWriterEvents {
  closed: [ClosedArchive];
  error: [Error];
  recovered: [{ lines: number }];
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

const MIN_BUFFERED_BYTES = 256 * 1024;
const DEFAULT_BUFFERED_BYTES = 16 * 1024 * 1024;
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
const noop = (): void => undefined;

/**
 * Append-only writer of archive files.
 *
 * - `append` resolves once the line is in the buffer that the next flush persists (PUBACK after that);
 *   it waits while more than `maxBufferedBytes` are not yet durable (backpressure), and rejects when the
 *   writer is in a disk-error state (the message was then NOT archived: do not acknowledge it, retry later).
 * - A timer sync-flushes every `flushMs`; `flush()` does it on demand.
 * - On a disk error (ENOSPC, EIO…) the failing file is cut back to its last sync point and closed, the lines
 *   accepted since then stay in memory, `'error'` is emitted and `append`/`flush` reject. At most once per
 *   `retryMs`, the next `append`/`flush` (or the timer) opens a fresh file (next `_n` name) and rewrites
 *   the kept lines; once that is durable the writer is healthy again and emits `'recovered'`. Appends made
 *   during such an attempt wait for it, and reject if it fails: nothing is accepted while the disk fails.
 *
 * Listen for `'error'`: like any EventEmitter, an unhandled `'error'` event throws.
 */
export class ArchiveWriter extends EventEmitter<ArchiveWriterEvents> {
  private readonly root: string;
  private readonly host: string;
  private readonly periodSeconds: number;
  private readonly maxFileBytes: number;
  private readonly maxPayloadBytes: number;
  private readonly gzipLevel: number;
  private readonly maxBufferedBytes: number;
  private readonly maxBacklogBytes: number;
  private readonly retryMs: number;
  private readonly nowMs: () => number;
  private readonly fs: ArchiveFs;
  private readonly timer: NodeJS.Timeout;

  private current: ArchiveFile | undefined;
  /** Files not yet finished or abandoned (current + closing). */
  private readonly files = new Set<ArchiveFile>();
  /** Background finish/abandon operations. */
  private readonly ops = new Set<Promise<void>>();
  private openChain: Promise<void> = Promise.resolve();
  private reported: Promise<void> = Promise.resolve();
  private lastNamed = { periodStartMs: NaN, seq: -1 };

  private carry: CarriedLines[] = [];
  private failure: Error | undefined;
  private retryAt = 0;
  private recovering: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private closing: Promise<void> | undefined;

  constructor(opts: ArchiveWriterOptions) {
    super();
    this.root = opts.dir;
    this.host = sanitiseHost(opts.host);
    this.periodSeconds = rotationSeconds(opts.rotate);
    this.maxFileBytes = opts.maxFileBytes && opts.maxFileBytes > 0 ? opts.maxFileBytes : Infinity;
    this.maxPayloadBytes = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.gzipLevel = opts.gzipLevel ?? 6;
    this.maxBufferedBytes = Math.max(MIN_BUFFERED_BYTES, opts.maxBufferedBytes ?? DEFAULT_BUFFERED_BYTES);
    this.maxBacklogBytes = Math.min(MAX_BACKLOG_BYTES, this.maxBufferedBytes / 4);
    const flushMs = opts.flushMs ?? 1000;
    this.retryMs = opts.retryMs ?? flushMs;
    const now = opts.now;
    this.nowMs = now ? () => now().getTime() : Date.now;
    this.fs = opts.fs ?? nodeArchiveFs;
    this.timer = setInterval(() => this.tick(), flushMs);
    this.timer.unref();
  }

  /** Bytes of accepted lines not yet durable on disk (what the memory bound applies to). */
  get bufferedBytes(): number {
    let n = 0;
    for (const f of this.files) n += f.bufferedBytes;
    for (const c of this.carry) n += c.bytes;
    return n;
  }

  /** Bytes accepted but not yet compressed. */
  get backlogBytes(): number {
    let n = 0;
    for (const f of this.files) n += f.backlogBytes;
    return n;
  }

  /** The error that put the writer in its disk-error state, if it is in it. */
  get lastError(): Error | undefined {
    return this.failure;
  }

  /** Archives one message; see the class comment for when it resolves, waits and rejects. */
  async append(msg: ArchiveInput): Promise<void> {
    if (this.closing) throw new Error('ArchiveWriter is closed');
    return this.appendLine(encodeArchiveLine(msg, this.maxPayloadBytes));
  }

  /** `append` for a line encoded by `encodeReceived` (same `maxPayloadBytes`). */
  async appendLine(line: string): Promise<void> {
    if (this.closing) throw new Error('ArchiveWriter is closed');
    const bytes = Buffer.byteLength(line);
    // While a recovery attempt runs, wait for its outcome: a line taken into the new file before its first sync
    // succeeded would be accepted (acknowledged) while the disk may still be failing.
    if (this.failure || this.recovering) await this.recover(false);
    if (this.waiters.length > 0 || !this.hasRoom()) await this.waitForRoom();
    if (this.closing) throw new Error('ArchiveWriter is closed');
    if (this.failure) throw this.failure;
    this.place(line, bytes);
    // gzip runs on the thread pool but needs this thread between chunks: while a chunk waits for it, give
    // I/O callbacks a turn so compression overlaps with the caller's work (a burst of appends would otherwise
    // only run microtasks and starve it).
    if (this.backlogBytes > SHIP_BYTES) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * Archives one line encoded by `encodeReceived` (same `maxPayloadBytes`) at once, when that needs no waiting:
   * returns true when it is in the buffer that the next flush persists, false (nothing done) when the writer is
   * full, in or recovering from a disk error, or closed — then fall back to `appendLine`, which waits or rejects.
   */
  tryAppendLine(line: string): boolean {
    if (this.closing || this.failure || this.recovering || this.waiters.length > 0 || !this.hasRoom()) return false;
    this.place(line, Buffer.byteLength(line));
    return true;
  }

  /** Persists everything appended so far (sync flush + fdatasync; files being closed are finished). */
  async flush(): Promise<void> {
    if (this.failure || this.recovering) await this.recover(false);
    const ps: Promise<unknown>[] = [];
    for (const f of this.files) ps.push(f.isEnding ? f.finish() : f.sync());
    await Promise.all(ps);
    if (this.failure) throw this.failure;
  }

  /** Flushes and closes the current file (SIGTERM path). Rejects if accepted lines could not be persisted. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    clearInterval(this.timer);
    if (this.current) this.retire(this.current);
    await this.settle();
    if (this.carry.length > 0) {
      // One last attempt to write what a disk error left in memory.
      this.retryAt = 0;
      await this.recover(true).catch(noop);
      if (this.current) this.retire(this.current);
      await this.settle();
    }
    this.rejectWaiters(new Error('ArchiveWriter is closed'));
    const lost = this.carry.reduce((n, c) => n + c.lines, 0);
    if (lost > 0) throw new Error(`archive writer closed with ${lost} lines not persisted: ${this.failure?.message ?? 'disk error'}`);
  }

  /** Puts one encoded line into the right file, rotating first when the period changed or the size limit is hit. */
  private place(line: string, bytes: number): void {
    const period = this.currentPeriod();
    let f = this.current;
    if (f && f.periodStartMs !== period) {
      this.retire(f);
      f = undefined;
    }
    if (f && f.lines > 0 && f.uncompressedBytes + bytes > this.maxFileBytes) {
      this.retire(f);
      f = undefined;
    }
    f ??= this.openFile(period);
    f.append(line, bytes);
    if (f.bufferedBytes >= this.maxBufferedBytes / 2) f.requestSync();
  }

  private currentPeriod(): number {
    return periodStartMs(this.nowMs(), this.periodSeconds);
  }

  /** Creates the current file for `period`; its `.part` is created in the background, in creation order. */
  private openFile(period: number): ArchiveFile {
    const f = new ArchiveFile({
      root: this.root,
      host: this.host,
      periodStartMs: period,
      gzipLevel: this.gzipLevel,
      fs: this.fs,
      onFailed: (file, err) => this.onFileFailed(file, err),
      onProgress: () => this.wakeWaiters(),
    });
    this.files.add(f);
    this.current = f;
    this.openChain = this.openChain.then(async () => {
      const last = this.lastNamed;
      const seq = await f.open(last.periodStartMs === period ? last.seq + 1 : 0);
      if (seq >= 0) this.lastNamed = { periodStartMs: period, seq };
    });
    return f;
  }

  /** Finishes a file in the background and reports it with `'closed'`. */
  private retire(f: ArchiveFile): void {
    if (this.current === f) this.current = undefined;
    // A failure goes through onFileFailed, which reports the abandoned file instead.
    this.report(f, f.finish().catch(() => null));
  }

  /** Emits `'closed'` for `f` once `result` is known, in the order the files were retired or failed. */
  private report(f: ArchiveFile, result: Promise<ClosedArchive | null>): void {
    const reported = Promise.all([result, this.reported]).then(([closed]) => {
      this.files.delete(f);
      if (closed?.path) this.emit('closed', closed);
    });
    this.reported = reported.catch(noop);
    this.track(reported);
  }

  private onFileFailed(f: ArchiveFile, err: Error): void {
    if (this.current === f) this.current = undefined;
    const carried = f.takeUnpersisted();
    if (carried.lines > 0) this.carry.push(carried);
    this.failure = err;
    this.retryAt = performance.now() + this.retryMs;
    this.report(f, f.abandon());
    this.rejectWaiters(err);
    process.nextTick(() => this.emit('error', err));
  }

  /**
   * Leaves the disk-error state: moves the kept lines into a fresh file and syncs it. Shared by concurrent
   * callers; rejects with the current error when a retry is not yet due (unless `force`) or fails again.
   */
  private recover(force: boolean): Promise<void> {
    if (this.recovering) return this.recovering;
    const failure = this.failure;
    if (!failure && this.carry.length === 0) return Promise.resolve();
    if (!force && performance.now() < this.retryAt) return Promise.reject(failure);
    this.recovering = this.doRecover().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private async doRecover(): Promise<void> {
    await this.settle();
    const carry = this.carry;
    this.carry = [];
    this.failure = undefined;
    const lines = carry.reduce((n, c) => n + c.lines, 0);
    if (lines === 0) {
      this.emit('recovered', { lines });
      return;
    }
    const f = this.current ?? this.openFile(this.currentPeriod());
    for (const c of carry) f.append(c.text, c.bytes, c.lines);
    try {
      await f.sync();
    } catch (e) {
      throw this.failure ?? (e as Error); // the file's failure has put the lines back into this.carry
    }
    this.emit('recovered', { lines });
  }

  private tick(): void {
    if (this.closing) return;
    const f = this.current;
    if (f && f.periodStartMs !== this.currentPeriod()) this.retire(f);
    if (this.failure || this.carry.length > 0) {
      if (performance.now() >= this.retryAt) this.recover(false).catch(noop);
      return;
    }
    this.current?.requestSync();
  }

  private waitForRoom(): Promise<void> {
    this.current?.requestSync();
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private hasRoom(): boolean {
    return this.bufferedBytes <= this.maxBufferedBytes && this.backlogBytes <= this.maxBacklogBytes;
  }

  private wakeWaiters(): void {
    if (this.waiters.length === 0 || !this.hasRoom()) return;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private rejectWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private track(p: Promise<void>): void {
    const op = p.catch(noop).finally(() => this.ops.delete(op));
    this.ops.add(op);
  }

  /** Waits for all background finishes/abandons, including ones they start. */
  private async settle(): Promise<void> {
    await this.openChain;
    while (this.ops.size > 0) await Promise.all([...this.ops]);
  }
}
