/**
 * One archive file being written: lines → in-memory buffer → gzip (≥ 64 KB writes) → `<name>.part` on disk,
 * sync-flushed + fdatasync'ed on request, finished (gzip trailer, fsync, rename) on close.
 *
 * All I/O runs in one serial "pump" loop, so the gzip stream only ever has one write in flight and the
 * byte offset of every sync point is known exactly. Lines shipped to gzip are kept in memory until a sync
 * makes them durable: if the disk fails, the file is cut back to its last sync point and the kept lines are
 * handed back (`takeUnpersisted`) to be written elsewhere, so a disk error loses nothing and duplicates nothing.
 * A sync point is a byte boundary of the deflate stream (Z_SYNC_FLUSH), so the cut-back file is then closed
 * with a final empty block and the gzip trailer (CRC-32 and length of what it holds) when the disk takes those
 * 10 bytes: it stays a complete gzip file that every reader accepts without a truncation warning.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { archiveDayDir, archiveFileName, PART_SUFFIX } from './naming.js';
import { fsyncDir, moveToFinal, pathExists } from './fs-util.js';

/** The subset of fs.promises.FileHandle the writer uses (injectable to simulate disk errors in tests). */
export interface ArchiveFileHandle {
  /** Writes at the current position, or at `position` when given (only the gzip end after a cut-back). */
  write(buffer: Buffer, offset: number, length: number, position?: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(len: number): Promise<void>;
  close(): Promise<void>;
}

/** How the writer creates its `.part` files (exclusive create: `wx`). */
export interface ArchiveFs {
  open(path: string, flags: 'wx'): Promise<ArchiveFileHandle>;
}

export const nodeArchiveFs: ArchiveFs = {
  open: (p, flags) => fsp.open(p, flags, 0o644),
};

/** Reported by the writer's `'closed'` event for every archive file that reached its final name. */
export interface ClosedArchive {
  /** Final path (`…ndjson.gz`, possibly with a `_recovered` suffix). */
  path: string;
  lines: number;
  /** Compressed size on disk. */
  bytes: number;
  uncompressedBytes: number;
  /**
   * true when the file was cut short after a disk error and its gzip stream could not be ended there (readers
   * report truncation; the lines up to the cut are all readable).
   */
  truncated: boolean;
}

/** Lines taken out of a failed file, to be rewritten into another one. */
export interface CarriedLines {
  text: string;
  lines: number;
  bytes: number;
}

export interface ArchiveFileOptions {
  root: string;
  /** Sanitised host name. */
  host: string;
  periodStartMs: number;
  gzipLevel: number;
  fs: ArchiveFs;
  /** Called once when the file fails (disk error); the writer then takes the unpersisted lines and abandons it. */
  onFailed(file: ArchiveFile, err: Error): void;
  /** Called when buffered memory or backlog was released (after a gzip write or a sync), for backpressure. */
  onProgress(): void;
}

/** Bytes of buffered lines that make one gzip write. */
export const SHIP_BYTES = 64 * 1024;
/** At most this many bytes of ready chunks go to gzip in one write. */
const MAX_SHIP_BYTES = 1024 * 1024;
/** Compressed bytes collected before one write to the file (syncs and the end write whatever there is). */
const WRITE_BYTES = 256 * 1024;
const GZIP_CHUNK = 64 * 1024;
/** Final empty deflate block (2 bytes) + gzip trailer (CRC-32, ISIZE). */
const GZIP_END_BYTES = 10;
const MAX_SEQ_PROBES = 10_000;
/** zlib.crc32 (Node ≥ 20.15): without it a cut-back file is left without its gzip end, as a truncated stream. */
const crc32: ((data: Buffer, value?: number) => number) | undefined = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

interface Chunk {
  buf: Buffer;
  lines: number;
}

interface Deferred {
  resolve(): void;
  reject(e: Error): void;
}

interface SyncWaiter extends Deferred {
  /** The sync may run once this many chunks have been given to gzip (everything sealed at request time). */
  target: number;
}

const noop = (): void => undefined;

export class ArchiveFile {
  readonly periodStartMs: number;
  /** `_n` suffix number, known once opened (-1 before). */
  seq = -1;
  finalPath = '';
  partPath = '';
  /** Lines / uncompressed bytes accepted (durable or not). */
  lines = 0;
  uncompressedBytes = 0;
  failure: Error | undefined;

  private readonly opts: ArchiveFileOptions;
  private readonly gz: zlib.Gzip;
  private readonly gzEnded: Promise<void>;
  private fh: ArchiveFileHandle | undefined;
  private opened: Promise<void>;
  private markOpened: () => void = noop;
  private markOpenFailed: (e: Error) => void = noop;

  /** Lines not yet in a chunk (< SHIP_BYTES; kept short so few young strings live on the heap). */
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingLines = 0;
  /** Chunks (≥ SHIP_BYTES, off-heap Buffers) waiting for their gzip write. */
  private ready: Chunk[] = [];
  private readyBytes = 0;
  /** Shipped to gzip since the last completed sync (kept until durable). */
  private unsynced: Buffer[] = [];
  private unsyncedBytes = 0;
  private unsyncedLines = 0;
  private syncedLines = 0;
  private syncedUncompressed = 0;
  /** Compressed bytes on disk at the last completed sync. */
  private syncedBytes = 0;
  /** CRC-32 of the uncompressed bytes shipped to gzip, and of those up to the last completed sync. */
  private shippedCrc = 0;
  private syncedCrc = 0;
  /** Compressed bytes written to the file. */
  private outBytes = 0;
  /** gzip output not yet written to the file. */
  private out: Buffer[] = [];
  private outPending = 0;

  private accepting = true;
  private running = false;
  private pumpDone: Promise<void> = Promise.resolve();
  private inflight: Promise<unknown> = Promise.resolve();
  private syncWaiters: SyncWaiter[] = [];
  private sealedCount = 0;
  private shippedCount = 0;
  private ending = false;
  private finished: Promise<ClosedArchive> | undefined;
  private finishResolve: (c: ClosedArchive) => void = noop;
  private finishReject: (e: Error) => void = noop;
  private abortGuard: ((e: Error) => void) | undefined;

  constructor(opts: ArchiveFileOptions) {
    this.opts = opts;
    this.periodStartMs = opts.periodStartMs;
    this.gz = zlib.createGzip({ level: opts.gzipLevel, chunkSize: GZIP_CHUNK });
    this.gz.on('data', (c: Buffer) => {
      this.out.push(c);
      this.outPending += c.length;
    });
    this.gz.on('error', (e) => this.fail(e));
    this.gzEnded = new Promise((resolve) => this.gz.once('end', resolve));
    this.opened = new Promise<void>((resolve, reject) => {
      this.markOpened = resolve;
      this.markOpenFailed = reject;
    });
    this.opened.catch(noop);
  }

  /** Memory held for this file: lines not yet durable. */
  get bufferedBytes(): number {
    return this.pendingBytes + this.readyBytes + this.unsyncedBytes;
  }

  /** Accepted bytes not yet given to gzip (the compression backlog). */
  get backlogBytes(): number {
    return this.pendingBytes + this.readyBytes;
  }

  get isEnding(): boolean {
    return this.ending;
  }

  /**
   * Creates the `.part` file with the first free `_n` suffix ≥ `firstSeq` (free = neither the final name nor
   * the `.part` exists). Returns the suffix, or -1 when opening failed (the file has then failed).
   */
  async open(firstSeq: number): Promise<number> {
    try {
      const dir = archiveDayDir(this.opts.root, this.periodStartMs);
      const created = await fsp.mkdir(dir, { recursive: true });
      // Make new YYYY/MM/DD directory entries durable too (the file's own entry is synced below).
      for (let d = dir; created !== undefined; d = path.dirname(d)) {
        await fsyncDir(path.dirname(d));
        if (d === created || d === path.dirname(d)) break;
      }
      for (let seq = firstSeq; seq < firstSeq + MAX_SEQ_PROBES; seq++) {
        const finalPath = path.join(dir, archiveFileName(this.opts.host, this.periodStartMs, seq));
        if (await pathExists(finalPath)) continue;
        try {
          this.fh = await this.opts.fs.open(finalPath + PART_SUFFIX, 'wx');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
          throw e;
        }
        this.seq = seq;
        this.finalPath = finalPath;
        this.partPath = finalPath + PART_SUFFIX;
        await fsyncDir(dir);
        this.markOpened();
        return seq;
      }
      throw new Error(`no free archive file name in ${dir} for period ${new Date(this.periodStartMs).toISOString()}`);
    } catch (e) {
      this.markOpenFailed(e as Error);
      this.fail(e as Error);
      return -1;
    }
  }

  /** Buffers complete line text (one or more `\n`-terminated lines). Synchronous; never does I/O itself. */
  append(text: string, bytes: number, lines = 1): void {
    if (!this.accepting) throw new Error(`archive file ${this.partPath || '(opening)'} no longer accepts lines`);
    this.pending.push(text);
    this.pendingBytes += bytes;
    this.pendingLines += lines;
    this.lines += lines;
    this.uncompressedBytes += bytes;
    if (this.pendingBytes >= SHIP_BYTES) {
      this.seal();
      this.kick();
    }
  }

  /** Turns the pending lines into one chunk Buffer queued for gzip. */
  private seal(): void {
    if (this.pendingLines === 0) return;
    const buf = Buffer.from(this.pending.length === 1 ? this.pending[0] : this.pending.join(''), 'utf8');
    this.ready.push({ buf, lines: this.pendingLines });
    this.readyBytes += buf.length;
    this.sealedCount++;
    this.pending = [];
    this.pendingBytes = this.pendingLines = 0;
  }

  /**
   * Resolves once everything appended so far is on disk (sync flush + fdatasync); rejects if the file fails.
   * Lines appended after the call do not delay it: the sync runs as soon as what was there is compressed.
   */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.finished) return this.finished.then(noop);
    this.seal();
    return new Promise<void>((resolve, reject) => {
      this.syncWaiters.push({ resolve, reject, target: this.sealedCount });
      this.kick();
    });
  }

  /** Asks for a sync without waiting for it (failures are reported through `onFailed`). */
  requestSync(): void {
    if (this.failure || this.ending || this.syncWaiters.length > 0) return;
    this.sync().catch(noop);
  }

  /** Stops accepting lines, writes everything, ends the gzip stream, fsyncs and renames to the final name. */
  finish(): Promise<ClosedArchive> {
    if (!this.finished) {
      this.accepting = false;
      this.ending = true;
      this.finished = new Promise<ClosedArchive>((resolve, reject) => {
        this.finishResolve = resolve;
        this.finishReject = reject;
      });
      this.finished.catch(noop);
      if (this.failure) this.finishReject(this.failure);
      else this.kick();
    }
    return this.finished;
  }

  /**
   * After a failure: hands back the lines that are not in the file's durable prefix (in order) and forgets
   * them, so the caller owns them.
   */
  takeUnpersisted(): CarriedLines {
    this.seal();
    const parts = this.unsynced.map((b) => b.toString('utf8'));
    for (const c of this.ready) parts.push(c.buf.toString('utf8'));
    const lines = this.unsyncedLines + this.ready.reduce((n, c) => n + c.lines, 0);
    const carried = { text: parts.join(''), lines, bytes: this.unsyncedBytes + this.readyBytes };
    this.unsynced = [];
    this.ready = [];
    this.unsyncedBytes = this.unsyncedLines = this.readyBytes = 0;
    return carried;
  }

  /**
   * After a failure: cuts the file back to its last sync point (so it holds exactly the lines synced), closes
   * it and renames it to its final name; removes it when nothing was synced. Best effort: on error the
   * `.part` stays for `finaliseLeftovers`. Returns the closed file, or null when none remains.
   */
  async abandon(): Promise<ClosedArchive | null> {
    this.accepting = false;
    await this.pumpDone.catch(noop);
    await this.inflight.catch(noop);
    this.gz.destroy();
    if (!this.fh) return null;
    const fh = this.fh;
    this.fh = undefined;
    let atSyncPoint = this.outBytes === this.syncedBytes;
    if (!atSyncPoint) {
      atSyncPoint = await fh.truncate(this.syncedBytes).then(() => fh.sync()).then(() => true, () => false);
    }
    const ended = atSyncPoint && this.syncedBytes > 0 && (await this.writeEnd(fh));
    await fh.close().catch(noop);
    try {
      if (this.syncedBytes === 0) {
        await fsp.unlink(this.partPath);
        return null;
      }
      const finalPath = await moveToFinal(this.partPath, this.finalPath);
      await fsyncDir(path.dirname(finalPath));
      const bytes = this.syncedBytes + (ended ? GZIP_END_BYTES : 0);
      return { path: finalPath, lines: this.syncedLines, bytes, uncompressedBytes: this.syncedUncompressed, truncated: !ended };
    } catch {
      return null;
    }
  }

  /**
   * Ends the gzip stream at the last sync point (the file holds exactly the synced bytes): a final empty
   * fixed-Huffman block (`03 00`, what zlib writes at Z_FINISH after a sync flush), then CRC-32 and length.
   * Returns false (the file cut back to the sync point again) when the disk does not take it.
   */
  private async writeEnd(fh: ArchiveFileHandle): Promise<boolean> {
    if (!crc32) return false;
    const end = Buffer.alloc(GZIP_END_BYTES);
    end[0] = 0x03;
    end.writeUInt32LE(this.syncedCrc >>> 0, 2);
    end.writeUInt32LE(this.syncedUncompressed % 2 ** 32, 6);
    try {
      for (let off = 0; off < end.length; ) {
        const { bytesWritten } = await fh.write(end, off, end.length - off, this.syncedBytes + off);
        if (bytesWritten <= 0) throw new Error('short write');
        off += bytesWritten;
      }
      await fh.sync();
      return true;
    } catch {
      await fh.truncate(this.syncedBytes).then(() => fh.sync()).catch(noop);
      return false;
    }
  }

  private fail(e: Error): void {
    if (this.failure || (this.finished && !this.ending)) return;
    this.failure = e;
    this.accepting = false;
    this.abortGuard?.(e);
    for (const w of this.syncWaiters.splice(0)) w.reject(e);
    this.finishReject(e);
    this.opts.onFailed(this, e);
  }

  private kick(): void {
    if (this.running || this.failure) return;
    this.running = true;
    this.pumpDone = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      await this.guard(this.opened);
      while (!this.failure) {
        const waiter = this.syncWaiters[0];
        if (waiter && this.shippedCount >= waiter.target) {
          await this.doSync();
        } else if (this.ready.length > 0) {
          await this.ship();
        } else if (this.ending && this.pendingLines > 0) {
          this.seal();
        } else if (this.ending) {
          await this.doEnd();
          break;
        } else {
          break;
        }
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.running = false;
    }
  }

  /**
   * Awaits `p`, but gives up as soon as the file fails (the operation may still be in flight; `inflight`
   * lets `abandon` wait for it). Only the pump calls this, so at most one guard is active.
   */
  private guard<T>(p: Promise<T>): Promise<T> {
    this.inflight = p;
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.abortGuard = reject;
      p.then(resolve, reject).finally(() => {
        if (this.abortGuard === reject) this.abortGuard = undefined;
      });
    });
  }

  /**
   * One gzip write of the oldest ready chunks (up to MAX_SHIP_BYTES together); its output goes to the file once
   * enough has accumulated. Every gzip write needs a turn of this thread to complete: under a backlog, one
   * write of many chunks instead of one each keeps a busy thread from making the compression (and every sync
   * waiting for it) crawl.
   */
  private async ship(): Promise<void> {
    const bufs: Buffer[] = [];
    let bytes = 0;
    while (this.ready.length > 0 && (bufs.length === 0 || bytes + this.ready[0].buf.length <= MAX_SHIP_BYTES)) {
      const chunk = this.ready.shift()!;
      this.readyBytes -= chunk.buf.length;
      this.shippedCount++;
      this.unsynced.push(chunk.buf);
      this.unsyncedBytes += chunk.buf.length;
      this.unsyncedLines += chunk.lines;
      if (crc32) this.shippedCrc = crc32(chunk.buf, this.shippedCrc);
      bufs.push(chunk.buf);
      bytes += chunk.buf.length;
    }
    const data = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs, bytes);
    await this.guard(new Promise<void>((resolve, reject) => this.gz.write(data, (e) => (e ? reject(e) : resolve()))));
    if (this.outPending >= WRITE_BYTES) await this.writeOut();
    this.opts.onProgress();
  }

  /** Sync flush + fdatasync of everything given to gzip so far; resolves the waiters it covers. */
  private async doSync(): Promise<void> {
    let due = 0;
    while (due < this.syncWaiters.length && this.syncWaiters[due].target <= this.shippedCount) due++;
    const waiters = this.syncWaiters.splice(0, due);
    try {
      if (this.unsyncedBytes > 0 || this.outBytes !== this.syncedBytes) {
        await this.guard(new Promise<void>((resolve) => this.gz.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve())));
        await this.writeOut();
        await this.guard(this.fh!.datasync());
        this.markSynced();
      }
    } catch (e) {
      for (const w of waiters) w.reject(e as Error);
      throw e;
    }
    for (const w of waiters) w.resolve();
    this.opts.onProgress();
  }

  private async doEnd(): Promise<void> {
    this.gz.end();
    await this.guard(this.gzEnded);
    await this.writeOut();
    const fh = this.fh!;
    await this.guard(fh.sync());
    this.markSynced();
    if (this.syncWaiters.length > 0) for (const w of this.syncWaiters.splice(0)) w.resolve();
    this.fh = undefined;
    await this.guard(fh.close());
    let closed: ClosedArchive;
    if (this.lines === 0) {
      await this.guard(fsp.unlink(this.partPath));
      closed = { path: '', lines: 0, bytes: 0, uncompressedBytes: 0, truncated: false };
    } else {
      const finalPath = await this.guard(moveToFinal(this.partPath, this.finalPath));
      await this.guard(fsyncDir(path.dirname(finalPath)));
      closed = { path: finalPath, lines: this.lines, bytes: this.outBytes, uncompressedBytes: this.uncompressedBytes, truncated: false };
    }
    this.ending = false;
    this.finishResolve(closed);
    this.opts.onProgress();
  }

  private markSynced(): void {
    this.syncedBytes = this.outBytes;
    this.syncedLines += this.unsyncedLines;
    this.syncedUncompressed += this.unsyncedBytes;
    this.syncedCrc = this.shippedCrc;
    this.unsynced = [];
    this.unsyncedBytes = this.unsyncedLines = 0;
  }

  /** Writes the gzip output collected so far, handling short writes. */
  private async writeOut(): Promise<void> {
    // Node's zlib pushes a write's output before calling its callback; wait out any deferred delivery anyway.
    while (this.gz.readableLength > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.out.length === 0) return;
    const buf = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
    this.out = [];
    this.outPending = 0;
    const fh = this.fh!;
    for (let off = 0; off < buf.length; ) {
      const { bytesWritten } = await this.guard(fh.write(buf, off, buf.length - off));
      if (bytesWritten <= 0) throw new Error(`short write to ${this.partPath}`);
      off += bytesWritten;
      this.outBytes += bytesWritten;
    }
  }
}
