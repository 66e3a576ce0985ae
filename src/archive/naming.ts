/** Archive file names: `<root>/YYYY/MM/DD/tessdb_<host>_YYYYMMDDTHHMMSSZ[_n][_recovered[_m]].ndjson.gz[.part]`. */
import path from 'node:path';

export const ARCHIVE_PREFIX = 'tessdb_';
export const ARCHIVE_SUFFIX = '.ndjson.gz';
export const PART_SUFFIX = '.part';
export const RECOVERED_TAG = '_recovered';

const MAX_HOST_LENGTH = 64;

/**
 * Host name as used in file names: only `[A-Za-z0-9.-]` survive (anything else, including `_`, which
 * separates the name's fields, becomes `-`), at most 64 characters, never empty.
 */
export function sanitiseHost(host: string): string {
  const cleaned = host
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX_HOST_LENGTH)
    .replace(/[-.]+$/, '');
  return cleaned.length > 0 ? cleaned : 'unknown';
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYYMMDDTHHMMSSZ` of a UTC instant. */
export function formatStamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`
  );
}

/** `<root>/YYYY/MM/DD` of the UTC day containing `ms`. */
export function archiveDayDir(root: string, ms: number): string {
  const d = new Date(ms);
  return path.join(root, pad(d.getUTCFullYear(), 4), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()));
}

/** File name of the `seq`-th file (0 = first, no suffix) of a period; `host` must already be sanitised. */
export function archiveFileName(host: string, periodStart: number, seq = 0): string {
  return `${ARCHIVE_PREFIX}${host}_${formatStamp(periodStart)}${seq > 0 ? `_${seq}` : ''}${ARCHIVE_SUFFIX}`;
}

/** Full final path of a period's `seq`-th file. */
export function archivePath(root: string, host: string, periodStart: number, seq = 0): string {
  return path.join(archiveDayDir(root, periodStart), archiveFileName(host, periodStart, seq));
}

/** The `n`-th `_recovered` variant (n ≥ 1) of a final archive path, used when the plain name is taken. */
export function recoveredPath(finalPath: string, n: number): string {
  const base = finalPath.endsWith(ARCHIVE_SUFFIX) ? finalPath.slice(0, -ARCHIVE_SUFFIX.length) : finalPath;
  return `${base}${RECOVERED_TAG}${n > 1 ? `_${n}` : ''}${ARCHIVE_SUFFIX}`;
}

export interface ParsedArchiveName {
  host: string;
  /** UTC start of the rotation period the file was opened in. */
  start: Date;
  /** 0 for the first file of the period, n for the `_n` size-rotated successors. */
  seq: number;
  /** 0 normally; 1 for `_recovered`, n for `_recovered_n` (a leftover finalised beside an existing file). */
  recovered: number;
  /** true for a `.part` file (still being written, or left by a crash). */
  part: boolean;
}

const NAME_RE = /^tessdb_([A-Za-z0-9.-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:_(\d+))?(?:_recovered(?:_(\d+))?)?\.ndjson\.gz(\.part)?$/;

/** Parses an archive file's base name (or path); null when it is not a tessdb archive name. */
export function parseArchiveName(fileName: string): ParsedArchiveName | null {
  const m = NAME_RE.exec(path.basename(fileName));
  if (!m) return null;
  const [, host, y, mo, d, h, mi, s, seq, rec] = m;
  const start = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  if (Number.isNaN(start.getTime()) || formatStamp(start.getTime()) !== `${y}${mo}${d}T${h}${mi}${s}Z`) return null;
  const recovered = m[0].includes(RECOVERED_TAG) ? (rec ? Number(rec) : 1) : 0;
  return { host, start, seq: seq ? Number(seq) : 0, recovered, part: m[10] !== undefined };
}
