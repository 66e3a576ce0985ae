/** tessdb-server compatibility views: present, queryable, and giving the columns its users rely on. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { migrate } from '../../src/db/migrate.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { COMPAT_VIEWS } from './catalog.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('compat');
  await migrate(db.pool, 'public');
});
after(async () => {
  await db.drop();
});

async function columns(view: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [view],
  );
  return rows.map((r) => r.column_name);
}

test('every compatibility view exists and SELECT ... LIMIT 1 works on it', async () => {
  for (const view of COMPAT_VIEWS) {
    const { rows } = await db.pool.query(`SELECT * FROM ${view} LIMIT 1`);
    assert.ok(rows.length <= 1, view);
  }
});

test('the views carry the tessdb-server column names', async () => {
  const expected: Record<string, string[]> = {
    tess_t: ['tess_id', 'mac_address', 'name', 'zero_point', 'filter', 'azimuth', 'altitude', 'location_id', 'observer_id', 'authorised', 'registered', 'valid_since', 'valid_until', 'valid_state'],
    tess_v: ['tess_id', 'name', 'mac_address', 'zero_point', 'site', 'location', 'province', 'country', 'longitude', 'latitude', 'elevation', 'timezone'],
    tess_readings_t: ['tess_id', 'date_id', 'time_id', 'location_id', 'observer_id', 'units_id', 'sequence_number', 'frequency', 'magnitude', 'ambient_temperature', 'sky_temperature', 'azimuth', 'altitude', 'longitude', 'latitude', 'height', 'signal_strength'],
    location_t: ['location_id', 'site', 'location', 'province', 'country', 'longitude', 'latitude', 'elevation', 'zipcode', 'timezone', 'contact_name', 'contact_email', 'organization'],
    name_to_mac_t: ['name', 'mac_address', 'valid_since', 'valid_until', 'valid_state'],
    date_t: ['date_id', 'sql_date', 'day', 'day_year', 'julian_day', 'weekday', 'weekday_abbr', 'weekday_num', 'month_num', 'month', 'month_abbr', 'year'],
    time_t: ['time_id', 'time', 'hour', 'minute', 'second', 'day_fraction'],
  };
  for (const [view, cols] of Object.entries(expected)) {
    const have = await columns(view);
    const missing = cols.filter((c) => !have.includes(c));
    assert.deepEqual(missing, [], `${view} lacks ${missing.join(', ')}`);
  }
});

test('date_t: julian_day is the Julian day at 00:00 UTC (2000-01-01 = 2451544.5)', async () => {
  // JD(2000-01-01T00:00Z) = 2451544.5; every row must be that plus its whole days since then,
  // whether or not the view's range reaches back to 2000.
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n,
            count(*) FILTER (WHERE julian_day <> 2451544.5 + (date - date '2000-01-01'))::int AS wrong,
            min(date)::text AS first, max(date)::text AS last
       FROM date_t`,
  );
  assert.ok(rows[0].n > 3650, `date_t has only ${rows[0].n} rows`);
  assert.equal(rows[0].wrong, 0);
  const known = await db.pool.query(
    `SELECT julian_day::float8 AS jd FROM date_t WHERE date_id = 20100101
     UNION ALL SELECT julian_day::float8 FROM date_t WHERE date_id = 20240101`,
  );
  // 2010-01-01 = 2455197.5, 2024-01-01 = 2460310.5 (USNO)
  assert.deepEqual(
    known.rows.map((r) => r.jd),
    [2455197.5, 2460310.5],
  );
  const y2k = await db.pool.query(`SELECT julian_day::float8 AS jd FROM date_t WHERE date = '2000-01-01'`);
  if (y2k.rowCount) assert.equal(y2k.rows[0].jd, 2451544.5);
});

test('date_t: one row per day with consistent calendar fields', async () => {
  const { rows } = await db.pool.query(
    `SELECT date_id, sql_date, day, day_year, weekday, weekday_abbr, weekday_num, month_num, month, month_abbr, year
       FROM date_t WHERE date_id = 20240229`,
  );
  assert.deepEqual(rows[0], {
    date_id: 20240229,
    sql_date: '2024-02-29',
    day: 29,
    day_year: 60,
    weekday: 'Thursday',
    weekday_abbr: 'Thu',
    weekday_num: 4,
    month_num: 2,
    month: 'February',
    month_abbr: 'Feb',
    year: 2024,
  });
  const dup = await db.pool.query(`SELECT count(*) - count(DISTINCT date_id) AS d FROM date_t`);
  assert.equal(Number(dup.rows[0].d), 0);
});

test('time_t: 86400 rows, one per second of the day', async () => {
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n, count(DISTINCT time_id)::int AS ids, min(time_id) AS lo, max(time_id) AS hi FROM time_t`,
  );
  assert.deepEqual(rows[0], { n: 86400, ids: 86400, lo: 0, hi: 235959 });
  const t = await db.pool.query(`SELECT time, hour, minute, second, day_fraction::float8 AS f FROM time_t WHERE time_id = 123456`);
  const { f, ...fields } = t.rows[0];
  assert.deepEqual(fields, { time: '12:34:56', hour: 12, minute: 34, second: 56 });
  assert.ok(Math.abs(f - (12 * 3600 + 34 * 60 + 56) / 86400) < 1e-12);
  const noon = await db.pool.query(`SELECT day_fraction::float8 AS f FROM time_t WHERE time_id = 120000`);
  assert.equal(noon.rows[0].f, 0.5);
});

test('tess_readings_t attributes a reading through the name mapping and photometer version valid at its time', async () => {
  const c = await db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`INSERT INTO locations (site, place, country, longitude, latitude) VALUES ('Site A', 'Town', 'Spain', -3.7, 40.4)`);
    const { rows: loc } = await c.query(`SELECT location_id FROM locations WHERE site = 'Site A'`);
    // Version 1 of the device until 2024-01-15, version 2 (new zero point) after.
    const { rows: v } = await c.query(
      `INSERT INTO photometers (mac_address, zp1, location_id, valid_since, valid_until, valid_state) VALUES
         ('AA:BB:CC:DD:EE:01', 20.40, $1, '2023-01-01Z', '2024-01-15Z', 'Expired'),
         ('AA:BB:CC:DD:EE:01', 20.55, $1, '2024-01-15Z', '2999-12-31T23:59:59Z', 'Current')
       RETURNING tess_id`,
      [loc[0].location_id],
    );
    await c.query(`INSERT INTO name_to_mac (name, mac_address, valid_since) VALUES ('stars901', 'AA:BB:CC:DD:EE:01', '2023-01-01Z')`);
    const { rows: nm } = await c.query(`INSERT INTO names (name) VALUES ('stars901') RETURNING name_id`);
    await c.query(`CREATE TABLE readings_202401 PARTITION OF readings FOR VALUES FROM ('2024-01-01Z') TO ('2024-02-01Z')`);
    await c.query(
      `INSERT INTO readings (name_id, tstamp, tstamp_src, load_src, seq, freq, mag, tamb, tsky, wdbm) VALUES
         ($1, '2024-01-10T21:30:05Z', 'publisher', 'mqtt', 11, 12.5, 19.8, 4.5, -20.1, -70),
         ($1, '2024-01-20T01:02:03Z', 'subscriber', 'csv', 12, 13.0, 20.1, 3.0, -22.0, -65)`,
      [nm[0].name_id],
    );
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  } finally {
    c.release();
  }
  const { rows } = await db.pool.query(
    `SELECT r.tess_id, r.date_id, r.time_id, r.sequence_number, r.magnitude::float8 AS magnitude, r.signal_strength,
            r.tstamp_src, r.load_src, r.name, t.zero_point::float8 AS zp
       FROM tess_readings_t r JOIN tess_t t USING (tess_id) ORDER BY r.tstamp`,
  );
  assert.equal(rows.length, 2);
  assert.equal(rows[0].date_id, 20240110);
  assert.equal(rows[0].time_id, 213005);
  assert.equal(rows[0].sequence_number, 11);
  assert.equal(rows[0].signal_strength, -70);
  assert.equal(rows[0].tstamp_src, 'publisher');
  assert.equal(rows[0].load_src, 'mqtt');
  assert.equal(rows[0].name, 'stars901');
  assert.ok(Math.abs(rows[0].zp - 20.4) < 1e-5, 'first reading belongs to version 1');
  assert.ok(Math.abs(rows[1].zp - 20.55) < 1e-5, 'second reading belongs to version 2');
  assert.notEqual(rows[0].tess_id, rows[1].tess_id);
  assert.equal(rows[1].date_id, 20240120);
  assert.equal(rows[1].time_id, 10203);

  const { rows: tv } = await db.pool.query(`SELECT name, site, country, valid_state FROM tess_v WHERE valid_state = 'Current'`);
  assert.deepEqual(tv, [{ name: 'stars901', site: 'Site A', country: 'Spain', valid_state: 'Current' }]);

  // The same reading cannot be stored twice.
  await assert.rejects(
    db.pool.query(
      `INSERT INTO readings (name_id, tstamp, tstamp_src, load_src) SELECT name_id, '2024-01-10T21:30:05Z', 'subscriber', 'ida' FROM names`,
    ),
    (err: { code?: string }) => err.code === '23505',
  );
});
