/**
 * Classify a file by its content (header sniffing), not only by its name: tessdb archives, IDA files,
 * CSV files (each also gzip-compressed), tessdb-server SQLite databases. Anything else is 'unknown'
 * with a one-line reason.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type { FileKind } from '../ingest/sources/index.js';
import { IDA_SIGNATURE } from '../ingest/sources/ida-header.js';
import { detectDelimiter, splitLine } from '../ingest/sources/csv-format.js';

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
  if (head.subarray(0, 16).toString('latin1') === 'SQLite format 3\u0000') return sniffSqlite(file);
  if (head.includes(0)) return { kind: 'unknown', reason: 'binary file: not a tessdb archive, IDA, CSV or SQLite file' };
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const kind = sniffText(text, head.length === SNIFF_BYTES);
  if (kind) return { kind };
  const firstLine = text.split(/\r?\n/, 1)[0];
  if (firstLine.startsWith('#')) {
    return { kind: 'unknown', reason: `"#" header lines but not an IDA file (no "Definition of the community standard for skyglow observations" line, no "# END OF HEADER") and no CSV after them` };
  }
  return { kind: 'unknown', reason: `not a tessdb archive, IDA, CSV or SQLite file (starts with ${JSON.stringify(firstLine.slice(0, 40))})` };
}

/**
 * 'ida' or 'csv' from the first characters of a text file, or null. IDA: the standard's first line, or
 * `#` lines with "Number of fields per line" and "# END OF HEADER". CSV: the first line that is not a
 * `#` comment has ≥ 3 fields separated by `,`, `;` or tab, or 2 and so has the next line.
 */
function sniffText(text: string, cut: boolean): 'ida' | 'csv' | null {
  const lines = text.split(/\r?\n/);
  if (cut && lines.length > 1) lines.pop(); // the last line of a 4 KB head may be cut
  if (IDA_SIGNATURE.test(lines[0])) return 'ida';
  if (lines[0].startsWith('#') && /^#\s*Number of fields per line/im.test(text) && /^#\s*END OF HEADER/im.test(text)) return 'ida';
  const content = lines.filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (content.length === 0) return null;
  const d = detectDelimiter(content[0]);
  if (d === null) return null;
  const n = splitLine(content[0], d).length;
  if (n >= 3) return 'csv';
  if (n === 2 && content.length > 1 && splitLine(content[1], d).length === 2) return 'csv';
  return null;
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
  const inner = text.includes('\u0000') ? null : sniffText(text.replace(/^\uFEFF/, ''), true);
  if (inner) return { kind: inner };
  return { kind: 'unknown', reason: `gzip file that is not a tessdb archive, IDA or CSV file (first line: ${JSON.stringify(first.slice(0, 40))})` };
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

type SqliteDatabase = { prepare(sql: string): { all(): unknown[] }; close(): void };
type SqliteConstructor = new (file: string, options: { readonly: boolean; fileMustExist: boolean }) => SqliteDatabase;
let sqlite: SqliteConstructor | undefined;

/** Tables that make a SQLite file a tessdb-server database. */
export function isTessdbServerSchema(tables: string[]): boolean {
  return tables.includes('tess_t') && (tables.includes('tess_readings_t') || tables.includes('tess_readings4c_t'));
}

function sniffSqlite(file: string): KindResult {
  let db: SqliteDatabase | undefined;
  try {
    sqlite ??= createRequire(import.meta.url)('better-sqlite3') as SqliteConstructor;
    db = new sqlite(file, { readonly: true, fileMustExist: true });
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
    if (isTessdbServerSchema(tables)) return { kind: 'sqlite' };
    return { kind: 'unknown', reason: `SQLite database but not a tessdb-server one (no tess_t and tess_readings_t tables; has ${tables.slice(0, 5).join(', ') || 'no tables'})` };
  } catch (err) {
    return { kind: 'unknown', reason: `SQLite database that cannot be opened: ${(err as Error).message}` };
  } finally {
    db?.close();
  }
}
