/**
 * Shared SQL of the exports. Readings are attributed like tess_readings_t (the name mapping and the
 * photometer version valid at the reading's time), with the daylight filter taken from the
 * configuration of the exporting process (not from the `settings` row the views read).
 *
 * A name's time line is cut into *segments*, one per (name mapping ∩ photometer version); within a
 * segment every reading has the same photometer version, so each segment is one
 * `COPY (SELECT … FROM readings WHERE name_id = … AND tstamp in the segment ORDER BY tstamp) TO STDOUT`
 * that PostgreSQL answers straight from the primary-key index, in order, without a join or a sort, and
 * the segments in time order give the whole export in time order. Nothing is held in memory: COPY
 * output is piped into the destination with backpressure.
 */
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

type Queryable = pg.ClientBase;

/** COPY (query) cannot take bind parameters: values are inlined as escaped literals. */
export function literal(client: pg.ClientBase, value: string): string {
  return client.escapeLiteral(value);
}

export function tsLiteral(client: pg.ClientBase, t: Date): string {
  return `${client.escapeLiteral(t.toISOString())}::timestamptz`;
}

/** One stretch of a name's time line during which its readings belong to one photometer version. */
export interface Segment {
  name: string;
  nameId: number;
  since: Date;
  until: Date;
  tessId: number;
  locationId: number;
  nchannels: number;
}

/** The segments of `name` overlapping [from, to), in time order (none when the name has no readings). */
export async function segmentsOf(client: Queryable, name: string, from?: Date, to?: Date): Promise<Segment[]> {
  const { rows } = await client.query<{ name_id: number; since: Date; until: Date; tess_id: number; location_id: number; nchannels: number }>(
    `SELECT n.name_id,
            greatest(m.valid_since, p.valid_since, coalesce($2::timestamptz, '-infinity')) AS since,
            least(m.valid_until, p.valid_until, coalesce($3::timestamptz, 'infinity')) AS until,
            p.tess_id, p.location_id, p.nchannels
       FROM names n
       JOIN name_to_mac m ON m.name = n.name
       JOIN photometers p ON p.mac_address = m.mac_address AND p.valid_since < m.valid_until AND p.valid_until > m.valid_since
      WHERE n.name = $1
        AND greatest(m.valid_since, p.valid_since, coalesce($2::timestamptz, '-infinity'))
          < least(m.valid_until, p.valid_until, coalesce($3::timestamptz, 'infinity'))
      ORDER BY 2`,
    [name, from?.toISOString() ?? null, to?.toISOString() ?? null],
  );
  return rows.map((r) => ({ name, nameId: r.name_id, since: r.since, until: r.until, tessId: r.tess_id, locationId: r.location_id, nchannels: r.nchannels }));
}

/** `FROM readings r WHERE …` for the readings of one segment. */
export function segmentFrom(client: pg.ClientBase, s: Segment, dropDaylight: boolean): string {
  return `FROM readings r
   WHERE r.name_id = ${Math.trunc(s.nameId)} AND r.tstamp >= ${tsLiteral(client, s.since)} AND r.tstamp < ${tsLiteral(client, s.until)}${
     dropDaylight ? ' AND r.daylight IS NOT TRUE' : ''
   }`;
}

/** A column of the segment's photometer version (evaluated once per COPY: an uncorrelated subquery). */
export function versionColumn(s: Segment, column: string): string {
  return `(SELECT p.${column} FROM photometers p WHERE p.tess_id = ${Math.trunc(s.tessId)})`;
}

export function locationColumn(s: Segment, column: string): string {
  return `(SELECT l.${column} FROM locations l WHERE l.location_id = ${Math.trunc(s.locationId)})`;
}

/** Readings of the segment (daylight filter applied), counted from the index. */
export async function countSegment(client: Queryable, s: Segment, dropDaylight: boolean): Promise<{ n: number; subscriber: boolean }> {
  const { rows } = await client.query<{ n: string; subscriber: boolean | null }>(
    `SELECT count(*) AS n, bool_or(r.tstamp_src = 'subscriber') AS subscriber ${segmentFrom(client, s, dropDaylight)}`,
  );
  return { n: Number(rows[0].n), subscriber: rows[0].subscriber === true };
}

/**
 * Stream `COPY (query) TO STDOUT …` into `out`, which is left open for more. Resolves with the row count
 * (read once the server's CommandComplete has been handled, i.e. after the next round trip).
 */
export async function copyOut(client: pg.ClientBase, copySql: string, out: Writable): Promise<number> {
  const source = client.query(copyTo(copySql));
  await pipeline(source, out, { end: false });
  await client.query('SELECT 1');
  return source.rowCount ?? 0;
}

/** End a writable stream and wait until everything is flushed. */
export async function finish(out: Writable): Promise<void> {
  out.end();
  if (!out.writableFinished) await once(out, 'finish');
}

/** Write a string, respecting backpressure. */
export async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** name → name_id for the names that have readings (unknown names are left out). */
export async function nameIds(db: pg.ClientBase | pg.Pool, names: string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ name: string; name_id: number }>('SELECT name, name_id FROM names WHERE name = ANY($1::text[])', [names]);
  return new Map(rows.map((r) => [r.name, r.name_id]));
}
