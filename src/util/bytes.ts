/** Small helpers of the byte scanners (src/model/scan-payload.ts, src/archive/archive-scan.ts, src/ingest/sources/ida-scan.ts). */

/** Whether the bytes of `s` at `i` (before `end`) are `word`'s. */
export function bytesAre(s: Uint8Array, i: number, end: number, word: Uint8Array): boolean {
  if (i + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (s[i + k] !== word[k]) return false;
  return true;
}

type Latin1Slice = (this: Buffer, start: number, end: number) => string;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;

/**
 * Bytes [start, end) of `b` as a one-byte string: Node's own `latin1Slice` behind `toString('latin1', …)`,
 * without the argument handling (a short string per row on the hot path); the public call where it is missing.
 */
export const latin1: (b: Buffer, start: number, end: number) => string =
  typeof latin1Slice === 'function' ? (b, start, end) => latin1Slice.call(b, start, end) : (b, start, end) => b.toString('latin1', start, end);
