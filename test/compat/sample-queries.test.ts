/**
 * The six sample queries of the tessdb-server README (../shared/seeds/tessdb-server-README.txt), run
 * against the compatibility views on a fixture database. Adapted only where SQLite accepts what
 * PostgreSQL refuses, and nowhere else:
 *   - the sqlite3 dot-commands (.mode, .headers) are dropped (they are client settings);
 *   - "double-quoted" string literals become 'single-quoted' ("Current", "${instrument_name}");
 *   - query 4's alias 'Change State' (a string literal used as a name) becomes "Change State";
 *   - query 1 selects d.sql_date and i.mac_address while grouping by r.date_id, r.tess_id ("bare
 *     columns", SQLite only): they are added to the GROUP BY (same groups, same rows);
 *   - queries 2 and 5 `JOIN location_t AS l USING (location_id)` after joining two views that both have
 *     location_id (tess_readings_t and tess_t; SQLite takes the left one, PostgreSQL refuses the
 *     ambiguity): the join names the reading's location, `ON l.location_id = r.location_id` (in tessdb
 *     the two are always equal: a location change starts a new tess_t version).
 * The verbatim forms are checked to fail in PostgreSQL for exactly those reasons.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { buildFixture, MAC_A, MAC_B, MAC_C } from './fixture.js';
import { Q1, Q2, Q3, Q4, Q5, Q6 } from './queries.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('compat');
  await buildFixture(db.pool);
});
after(async () => {
  await db?.drop();
});

const rows = async (sql: string) => (await db.pool.query(sql)).rows;

test('query 1: daily readings per instrument (daylight readings left out: filter.daylight = drop)', async () => {
  const r = (await rows(Q1)).map((x) => [x.sql_date, x.mac_address, Number(x.readings)]);
  // ORDER BY sql_date DESC leaves the order of the two 2024-01-10 rows open.
  assert.deepEqual(r.slice(0, 2), [
    ['2024-01-21', MAC_A, 6],
    ['2024-01-16', MAC_A, 3],
  ]);
  assert.deepEqual(r.slice(2).sort(), [
    ['2024-01-10', MAC_A, 6],
    ['2024-01-10', MAC_B, 3],
  ]);
});

test('query 2: all readings of an instrument as CSV columns', async () => {
  const r = await rows(Q2('stars1'));
  assert.equal(r.length, 15); // 6 + 3 + (8 - 2 daylight)
  assert.deepEqual(
    { ...r[0], julian_day: Number(r[0].julian_day) },
    {
      julian_day: 2460320.375, // 2024-01-10T21:00Z
      timestamp: '2024-01-10T21:00:00',
      sequence_number: 101,
      site: 'Site A',
      mac_address: MAC_A,
      frequency: 10.5,
      magnitude: 19,
      zero_point: 20.44,
      sky_temperature: -12.5,
      ambient_temperature: 5.5,
    },
  );
  assert.deepEqual(
    r.map((x) => [x.timestamp, x.site, x.zero_point, x.sequence_number]).slice(5, 10),
    [
      ['2024-01-10T21:50:00', 'Site A', 20.44, 106],
      ['2024-01-16T22:00:00', 'Site A', 20.5, 201],
      ['2024-01-16T22:10:00', 'Site A', 20.5, 202],
      ['2024-01-16T22:20:00', 'Site A', 20.5, 203],
      ['2024-01-21T10:00:00', 'Site B', 20.5, 301],
    ],
  );
  assert.deepEqual(
    r.slice(9).map((x) => x.sequence_number),
    [301, 302, 303, 306, 307, 308],
  );
  assert.equal((await rows(Q2('nobody'))).length, 0);
});

test('query 3: current instruments with their location (tess_v)', async () => {
  const r = await rows(Q3);
  // PostgreSQL folds unquoted aliases to lower case.
  assert.deepEqual(r, [
    { name: 'stars1', mac: MAC_A, coordinates: '-33.45 -70.66', location: 'Site B, Santiago, RM', user: 'b@example.org', zp: 20.5, filter: 'UVIR' },
    { name: 'stars2', mac: MAC_B, coordinates: '-33.45 -70.66', location: 'Site B, Santiago, RM', user: 'b@example.org', zp: 20.1, filter: 'UVIR' },
    { name: 'stars3', mac: MAC_C, coordinates: null, location: null, user: null, zp: 20.5, filter: 'UVIR' },
  ]);
});

test('query 4: instrument changes (versions)', async () => {
  const r = (await rows(Q4)).map((x) => [x.name, x.zp, x.filter, x.since.toISOString(), x.until.toISOString(), x['Change State']]);
  const forever = '2999-12-31T23:59:59.000Z';
  assert.deepEqual(r, [
    ['stars1', 20.44, 'UVIR', '2024-01-01T00:00:00.000Z', '2024-01-15T12:00:00.000Z', 'Expired'],
    ['stars1', 20.5, 'UVIR', '2024-01-15T12:00:00.000Z', '2024-01-20T00:00:00.000Z', 'Expired'],
    ['stars1', 20.5, 'UVIR', '2024-01-20T00:00:00.000Z', forever, 'Current'],
    ['stars2', 20.1, 'UVIR', '2024-01-01T00:00:00.000Z', forever, 'Current'],
    ['stars3', 20.5, 'UVIR', '2024-01-05T00:00:00.000Z', forever, 'Current'],
  ]);
});

test('query 5: time span of readings per instrument', async () => {
  const r = (await rows(Q5)).sort((a, b) => (a.mac_address < b.mac_address ? -1 : 1));
  assert.deepEqual(r, [
    { mac_address: MAC_A, earliest: '2024-01-10T21:00:00Z', latest: '2024-01-21T10:07:00Z' },
    { mac_address: MAC_B, earliest: '2024-01-10T22:00:00Z', latest: '2024-01-10T22:20:00Z' },
  ]);
});

test('query 6: locations not assigned to any instrument', async () => {
  assert.deepEqual(await rows(Q6), [{ site: 'Site Unused' }]);
});

test('with filter.daylight = keep the views show the daylight readings too', async () => {
  const c = await db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`UPDATE settings SET value = 'keep' WHERE key = 'filter.daylight'`);
    const r = (await c.query(Q1)).rows;
    assert.equal(Number(r[0].readings), 8);
    const flagged = await c.query(`SELECT sequence_number FROM tess_readings_t WHERE daylight ORDER BY 1`);
    assert.deepEqual(flagged.rows.map((x) => x.sequence_number), [304, 305]);
  } finally {
    await c.query('ROLLBACK');
    c.release();
  }
});

test('the verbatim SQLite forms fail in PostgreSQL only for the reasons adapted', async () => {
  const verbatim1 = Q1.replace('GROUP BY r.date_id, r.tess_id, d.sql_date, i.mac_address', 'GROUP BY r.date_id, r.tess_id');
  await assert.rejects(db.pool.query(verbatim1), /must appear in the GROUP BY clause/);
  const verbatim2 = Q2('stars1').replace('ON l.location_id = r.location_id', 'USING (location_id)');
  await assert.rejects(db.pool.query(verbatim2), /common column name "location_id" appears more than once/);
  await assert.rejects(db.pool.query(Q3.replace(`'Current'`, '"Current"')), /column "Current" does not exist/);
  await assert.rejects(db.pool.query(Q4.replace('"Change State"', `'Change State'`)), /syntax error/);
});
