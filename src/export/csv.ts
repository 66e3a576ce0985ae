/**
 * CSV export of readings with the columns of tessdb-server's sample query 2 (julian_day, timestamp,
 * sequence_number, site, mac_address, frequency, magnitude, zero_point, sky_temperature,
 * ambient_temperature), with the values that query gives through date_t / time_t, computed straight
 * from the tables. Streamed with COPY … TO STDOUT (FORMAT csv), one COPY per segment (./sql.ts): the
 * result is never held in memory.
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { UserError } from '../util/errors.js';
import { copyOut, finish, literal, locationColumn, nameIds, segmentFrom, segmentsOf, versionColumn, write, type Segment } from './sql.js';

export const CSV_COLUMNS = [
  'julian_day',
  'timestamp',
  'sequence_number',
  'site',
  'mac_address',
  'frequency',
  'magnitude',
  'zero_point',
  'sky_temperature',
  'ambient_temperature',
] as const;

export interface CsvExportOptions {
  names: string[];
  from?: Date;
  to?: Date;
  delimiter: string;
  header: boolean;
  /** Prepend a `name` column (useful with several photometers). */
  withName: boolean;
  dropDaylight: boolean;
}

function checkDelimiter(d: string): void {
  if (d.length !== 1 || /[\r\n"]/.test(d)) throw new UserError(`--delimiter must be one character (not a quote or newline), not ${JSON.stringify(d)}`);
}

/** The COPY statement of one segment (no header). */
export function csvSegmentSql(client: pg.ClientBase, s: Segment, o: CsvExportOptions): string {
  const utc = `(r.tstamp AT TIME ZONE 'UTC')`;
  const columns = [
    // date_t.julian_day + time_t.day_fraction, with the same numeric types and operations.
    `(((${utc})::date - date '1970-01-01') + 2440587.5) + (to_char(${utc}, 'SSSS')::integer / 86400.0)`,
    `to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS')`,
    'r.seq',
    locationColumn(s, 'site'),
    versionColumn(s, 'mac_address'),
    'r.freq',
    'r.mag',
    versionColumn(s, 'zp1'),
    'r.tsky',
    'r.tamb',
  ];
  if (o.withName) columns.unshift(literal(client, s.name));
  return `COPY (SELECT ${columns.join(', ')} ${segmentFrom(client, s, o.dropDaylight)} ORDER BY r.tstamp)
          TO STDOUT WITH (FORMAT csv, HEADER false, DELIMITER ${literal(client, o.delimiter)})`;
}

/**
 * Stream the CSV into `out` (a file path, created, or a writable stream left open). Rows are ordered by
 * name, then time. Resolves with the row count.
 */
export async function exportCsv(client: pg.ClientBase, o: CsvExportOptions, out: string | Writable): Promise<number> {
  checkDelimiter(o.delimiter);
  const names = [...new Set(o.names)].sort();
  const ids = await nameIds(client, names);
  const unknown = names.filter((n) => !ids.has(n));
  if (unknown.length) throw new UserError(`no readings of ${unknown.map((n) => `"${n}"`).join(', ')}`);
  const stream = typeof out === 'string' ? fs.createWriteStream(out) : out;
  let rows = 0;
  try {
    if (o.header) await write(stream, [...(o.withName ? ['name'] : []), ...CSV_COLUMNS].join(o.delimiter) + '\n');
    for (const name of names) {
      for (const s of await segmentsOf(client, name, o.from, o.to)) rows += await copyOut(client, csvSegmentSql(client, s, o), stream);
    }
  } finally {
    if (typeof out === 'string') await finish(stream);
  }
  return rows;
}
