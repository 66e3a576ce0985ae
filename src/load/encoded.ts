/**
 * A reading already encoded as COPY text (everything but its `name_id`, which the loader knows), with
 * just what the loader still needs to look at: name, time and whether it is saturated. Fast sources
 * (src/archive/archive-fast.ts) build these straight from the input line; any Reading can be turned
 * into one with `encodedFromReading`.
 *
 * The COPY text itself is kept as bytes in shared buffers (`bytes`, `start`, `end`), not as a string per row: a row
 * built by concatenation is a rope of some twenty strings, and kept with a pending batch through a few
 * scavenges those made garbage collection the largest part of the ingest CPU. The loader copies the
 * bytes into its COPY chunks (src/load/copy.ts, ByteChunks).
 */
import type { Reading } from '../model/types.js';
import { encodeColumns } from './encode.js';

export interface EncodedReading {
  name: string;
  /** The reading's time, epoch ms. */
  ms: number;
  /** mag === 0 (input of the tentative daylight flags). */
  saturated: boolean;
  /**
   * The COPY columns after name_id (ASCII, each preceded by a tab, no newline) are bytes [start, end)
   * of `bytes`, a buffer shared with other rows; null when `badField` is set.
   */
  bytes: Buffer | null;
  start: number;
  end: number;
  /** The first field that does not fit its column (the reading is then rejected by the loader). */
  badField: string | null;
  /**
   * The Reading it was encoded from, or null for rows of the fast paths, which keep nothing of their
   * input line (held until the batch is loaded, the lines made the garbage collector copy them around):
   * `readingOf` reads such a row back from its COPY text.
   */
  origin: Reading | null;
}

/** Shared buffers the COPY text of rows is written to; a buffer is freed with the last row using it. */
const ARENA_BYTES = 1 << 20;
let arena = Buffer.allocUnsafe(ARENA_BYTES);
let arenaUsed = 0;

/**
 * Node's own one-byte string writer behind `Buffer#write(s, offset, 'latin1')`, without the argument
 * handling that made that call a tenth of the ingest CPU; the public call where it is missing.
 */
type Latin1Write = (this: Buffer, s: string, offset: number, length: number) => number;
const latin1Write = (Buffer.prototype as unknown as { latin1Write?: Latin1Write }).latin1Write;
const writeLatin1: (b: Buffer, s: string, offset: number) => number =
  typeof latin1Write === 'function' ? (b, s, offset) => latin1Write.call(b, s, offset, s.length) : (b, s, offset) => b.write(s, offset, 'latin1');

/** A row whose COPY text `cols` (ASCII: numbers, times, enum labels) is stored as bytes. */
export function encodedRow(name: string, ms: number, saturated: boolean, cols: string, origin: Reading | null): EncodedReading {
  arenaWith(cols.length);
  const start = arenaUsed;
  arenaUsed += writeLatin1(arena, cols, start);
  return { name, ms, saturated, bytes: arena, start, end: arenaUsed, badField: null, origin };
}

/**
 * The shared buffer, with room for `bytes` more bytes from {@link arenaEnd}: for encoders that write a
 * row's bytes in place (encode-scanned.ts) and then call {@link placedRow}.
 */
export function arenaWith(bytes: number): Buffer {
  if (arenaUsed + bytes > arena.length) {
    arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, bytes));
    arenaUsed = 0;
  }
  return arena;
}

/** Where the next row's bytes start in the buffer {@link arenaWith} returned. */
export function arenaEnd(): number {
  return arenaUsed;
}

/** The row whose bytes were written in place, from {@link arenaEnd} to `end`. */
export function placedRow(name: string, ms: number, saturated: boolean, end: number): EncodedReading {
  const start = arenaUsed;
  arenaUsed = end;
  return { name, ms, saturated, bytes: arena, start, end, badField: null, origin: null };
}

/** The COPY text of a row, as a string (tests, diagnostics). */
export function colsText(e: EncodedReading): string | null {
  return e.bytes === null ? null : e.bytes.toString('latin1', e.start, e.end);
}

export function encodedFromReading(r: Reading): EncodedReading {
  const cols = encodeColumns(r);
  const ms = r.tstamp.getTime();
  if (typeof cols === 'string') return encodedRow(r.name, ms, r.mag === 0, cols, r);
  return { name: r.name, ms, saturated: r.mag === 0, bytes: null, start: 0, end: 0, badField: cols.badField, origin: r };
}

/** The Reading an encoded row stands for (cold path: reject samples). */
export function readingOf(e: EncodedReading): Reading {
  if (e.origin !== null) return e.origin;
  const v = colsText(e)!.split('\t'); // v[0] is the empty string before the first tab
  const num = (i: number) => (v[i] === '\\N' ? null : Number(v[i]));
  return {
    name: e.name, tstamp: new Date(v[1]), tstampSource: v[2] as Reading['tstampSource'], seq: num(4),
    freq: num(5), mag: num(6), tamb: num(7), tsky: num(8), rev: num(10), wdbm: num(9), azimuth: num(11),
    altitude: num(12), longitude: num(13), latitude: num(14), height: num(15), freq2: num(16), mag2: num(17),
    freq3: num(18), mag3: num(19), freq4: num(20), mag4: num(21), loadSource: v[3] as Reading['loadSource'],
  };
}
