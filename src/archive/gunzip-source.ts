/**
 * Reads a gzip file as a pull source of decompressed chunks: fs read stream → gunzip, with backpressure
 * applied to the file read (the gunzip output is never paused, so everything it decodes before an error
 * is delivered). Classifies gunzip errors into truncation (reported, not thrown) and fatal errors.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { salvageTail } from './salvage.js';

const READ_CHUNK = 256 * 1024;
const GUNZIP_CHUNK = 128 * 1024;
/** Decompressed bytes queued for the consumer above which the file read pauses. */
const MAX_QUEUED = 4 * 1024 * 1024;
/**
 * Queued chunks are handed over as microtasks, so a consumer that parses as fast as it can would never
 * let the event loop read a socket: replies of Postgres (the end of a COPY, a SAVEPOINT) would wait
 * until the whole queue is parsed, idling the database. Every TURN_MS, one event-loop turn passes.
 */
const TURN_MS = 2;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class GunzipSource {
  private readonly rs: fs.ReadStream;
  private readonly gz: zlib.Gunzip;
  private queue: Buffer[] = [];
  private queued = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private firstBytes = Buffer.alloc(0);
  private inputEnded = false;
  private done = false;
  private fatal: Error | undefined;
  private waiter: (() => void) | undefined;
  private lastTurn = performance.now();
  /** Set when the stream could not be decoded to its end (truncated or corrupt); the prefix was delivered. */
  truncatedDetail: string | undefined;

  constructor(private readonly path: string) {
    this.rs = fs.createReadStream(path, { highWaterMark: READ_CHUNK });
    this.gz = zlib.createGunzip({ chunkSize: GUNZIP_CHUNK });
    this.rs.on('data', (c) => this.onCompressed(c as Buffer));
    this.rs.on('end', () => {
      this.inputEnded = true;
      this.gz.end();
    });
    this.rs.on('error', (e) => this.setFatal(new Error(`cannot read archive ${path}: ${e.message}`, { cause: e })));
    this.gz.on('data', (c: Buffer) => this.onDecoded(c));
    this.gz.on('drain', () => this.maybeResume());
    this.gz.on('end', () => this.finish());
    this.gz.on('error', (e) => this.onGunzipError(e as NodeJS.ErrnoException));
  }

  /** Compressed bytes read from the file so far. */
  get bytesRead(): number {
    return this.bytesIn;
  }

  /** The next decompressed chunk, or null at the end (clean or truncated). Rejects on a fatal error. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      if (this.queue.length > 0 && performance.now() - this.lastTurn > TURN_MS) {
        await nextTurn();
        this.lastTurn = performance.now();
      }
      const c = this.queue.shift();
      if (c !== undefined) {
        this.queued -= c.length;
        this.maybeResume();
        return c;
      }
      if (this.fatal) throw this.fatal;
      if (this.done) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Stops reading and releases the file. */
  destroy(): void {
    this.done = true;
    this.rs.destroy();
    this.gz.destroy();
  }

  private onCompressed(c: Buffer): void {
    if (this.firstBytes.length < 2) this.firstBytes = Buffer.concat([this.firstBytes, c.subarray(0, 2)]).subarray(0, 2);
    this.bytesIn += c.length;
    if (!this.gz.write(c)) this.rs.pause();
  }

  private onDecoded(c: Buffer): void {
    this.bytesOut += c.length;
    this.queue.push(c);
    this.queued += c.length;
    if (this.queued > MAX_QUEUED) this.rs.pause();
    this.wake();
  }

  private maybeResume(): void {
    if (this.inputEnded || this.done || this.queued > MAX_QUEUED / 2 || this.gz.writableNeedDrain) return;
    if (this.rs.isPaused()) this.rs.resume();
  }

  private looksLikeGzip(): boolean {
    const b = this.firstBytes;
    return b.length >= 1 && b[0] === 0x1f && (b.length < 2 || b[1] === 0x8b);
  }

  private onGunzipError(e: NodeJS.ErrnoException): void {
    if (this.done) return;
    if (this.bytesIn > 0 && this.bytesOut === 0 && !this.looksLikeGzip()) {
      const hex = this.firstBytes.toString('hex').replace(/(..)(?=.)/g, '$1 ');
      this.setFatal(new Error(`not a gzip file: ${this.path} (starts with bytes ${hex})`, { cause: e }));
      return;
    }
    if (this.bytesIn === 0) this.truncatedDetail = 'empty file: no gzip data';
    else if (e.code === 'Z_BUF_ERROR') this.truncatedDetail = `truncated gzip stream after ${this.bytesIn} bytes: ${e.message}`;
    else this.truncatedDetail = `corrupt gzip data within the first ${this.bytesIn} bytes: ${e.message}`;
    this.rs.destroy();
    if (e.code === 'Z_BUF_ERROR' || this.bytesIn === 0) {
      this.finish();
      return;
    }
    // The failing write's output was dropped by zlib: decode the prefix again to recover it.
    salvageTail(this.path, this.bytesIn, this.bytesOut)
      .then((tail) => {
        if (tail.length > 0) this.onDecoded(tail);
      })
      .catch(() => undefined)
      .finally(() => this.finish());
  }

  private setFatal(e: Error): void {
    if (this.done) return;
    this.fatal = e;
    this.queue = [];
    this.queued = 0;
    this.rs.destroy();
    this.gz.destroy();
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
