/**
 * Readings → COPY text rows for the readings table. Values that the column types cannot hold are
 * caught here, per reading, so one bad value never fails a whole COPY batch.
 */
import type { Reading } from '../model/types.js';
import { FLOAT4_MIN } from '../model/schemas.js';
import { isoUtc } from '../util/iso-time.js';

export const READING_COLUMNS = [
  'name_id', 'tstamp', 'tstamp_src', 'load_src', 'seq', 'freq', 'mag', 'tamb', 'tsky', 'wdbm', 'rev',
  'azimuth', 'altitude', 'longitude', 'latitude', 'height', 'freq2', 'mag2', 'freq3', 'mag3', 'freq4', 'mag4',
] as const;

const INT32 = 2 ** 31 - 1;
const INT16 = 32767;
const REAL_MAX = 3.4e38;

type Check = (v: number) => boolean;
export const int32: Check = (v) => Number.isInteger(v) && v >= -INT32 - 1 && v <= INT32;
export const int16: Check = (v) => Number.isInteger(v) && v >= -INT16 - 1 && v <= INT16;
/** 0, or a magnitude PostgreSQL's `real` input takes: a tiny value like 1e-46 would fail the whole COPY, not just its row. */
export const real: Check = (v) => v === 0 || (Math.abs(v) >= FLOAT4_MIN && Math.abs(v) <= REAL_MAX);
export const finite: Check = (v) => Number.isFinite(v);

let badField: string | null = null;

function value(field: string, v: number | null, fits: Check): string {
  if (v === null || v === undefined) return '\\N';
  if (fits(v)) return String(v);
  badField ??= field;
  return '';
}

/**
 * The COPY columns after `name_id` (each preceded by a tab, no newline), or the name of the first
 * field that does not fit its column.
 */
export function encodeColumns(r: Reading): string | { badField: string } {
  badField = null;
  const cols =
    `\t${isoUtc(r.tstamp.getTime())}\t${r.tstampSource}\t${r.loadSource}` +
    `\t${value('seq', r.seq, int32)}\t${value('freq', r.freq, real)}\t${value('mag', r.mag, real)}` +
    `\t${value('tamb', r.tamb, real)}\t${value('tsky', r.tsky, real)}\t${value('wdbm', r.wdbm, int16)}` +
    `\t${value('rev', r.rev, int16)}\t${value('azimuth', r.azimuth, real)}\t${value('altitude', r.altitude, real)}` +
    `\t${value('longitude', r.longitude, finite)}\t${value('latitude', r.latitude, finite)}\t${value('height', r.height, real)}` +
    `\t${value('freq2', r.freq2, real)}\t${value('mag2', r.mag2, real)}\t${value('freq3', r.freq3, real)}` +
    `\t${value('mag3', r.mag3, real)}\t${value('freq4', r.freq4, real)}\t${value('mag4', r.mag4, real)}`;
  return badField === null ? cols : { badField };
}

/** Returns the COPY row, or the name of the first field that does not fit its column. */
export function encodeReading(nameId: number, r: Reading): string | { badField: string } {
  const cols = encodeColumns(r);
  return typeof cols === 'string' ? `${nameId}${cols}\n` : cols;
}
