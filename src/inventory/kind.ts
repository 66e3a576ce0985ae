/** Classify a file by its content (header sniffing), not only by its name. */
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { FileKind } from '../ingest/sources/index.js';

export interface KindResult {
  kind: FileKind;
  reason?: string;
}

const SNIFF_BYTES = 4096;

export function detectKind(file: string): KindResult {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      head = Buffer.alloc(SNIFF_BYTES);
      head = head.subarray(0, fs.readSync(fd, head, 0, SNIFF_BYTES, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    return { kind: 'unknown', reason: `unreadable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  if (head.length === 0) return { kind: 'unknown', reason: 'empty file' };
  if (head[0] === 0x1f && head[1] === 0x8b) return sniffGzip(head);
  if (head.subarray(0, 16).toString('latin1') === 'SQLite format 3\u0000') return { kind: 'sqlite' };
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (/^#\s*Community Standard Skyglow Data Format/i.test(text)) return { kind: 'ida' };
  const firstLine = text.split(/\r?\n/, 1)[0];
  if (/^[^,;]+([,;][^,;]*){2,}$/.test(firstLine)) return { kind: 'csv' };
  return { kind: 'unknown', reason: `not a tessdb archive, IDA, CSV or SQLite file (starts with ${JSON.stringify(firstLine.slice(0, 40))})` };
}

function sniffGzip(head: Buffer): KindResult {
  let text: string;
  let error: Error | undefined;
  try {
    ({ text, error } = gunzipPrefix(head));
  } catch (err) {
    return { kind: 'unknown', reason: `gzip header but undecodable: ${(err as Error).message}` };
  }
  const first = text.split('\n', 1)[0];
  if (error) {
    // Only a prefix decodes: an archive if that prefix shows an archive's first line (the reader
    // then loads what decodes and records the damage on the file).
    if (first.startsWith('{') && first.includes('"topic"')) return { kind: 'archive' };
    return { kind: 'unknown', reason: `gzip header but undecodable: ${error.message}` };
  }
  if (first === '' || (first.startsWith('{') && first.includes('"topic"'))) return { kind: 'archive' };
  return { kind: 'unknown', reason: 'gzip file that is not a tessdb archive (first line has no "topic")' };
}

/**
 * Decodes the head of a gzip file. Damage past the first line (a flipped byte, or a wrong CRC in a
 * file shorter than the head) must not hide the first line, so shorter prefixes are tried; `error`
 * is the full head's decoding error when only a prefix decoded.
 */
function gunzipPrefix(head: Buffer): { text: string; error?: Error } {
  let error: Error | undefined;
  const sizes = [head.length];
  for (let n = head.length >> 1; n >= 32; n >>= 1) sizes.push(n);
  for (const n of sizes) {
    try {
      return { text: zlib.gunzipSync(head.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8'), error };
    } catch (err) {
      error ??= err as Error;
    }
  }
  throw error;
}
