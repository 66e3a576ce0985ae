/**
 * Photometer, location and observer administration: each change does exactly what it says, from its
 * date, as a new version (older versions untouched), visible in tess_v / tess_t / location_t; bad
 * values are refused with a clear message and change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { migrate } from '../../src/db/migrate.js';
import {
  createLocation,
  createObserver,
  listLocations,
  listObservers,
  showLocation,
  updateLocation,
  updateObserver,
} from '../../src/admin/locations.js';
import {
  assign,
  createPhotometer,
  listPhotometers,
  rename,
  setAttributes,
  setAuthorised,
  showPhotometer,
} from '../../src/admin/photometers.js';
import * as v from '../../src/admin/validate.js';
import { UserError } from '../../src/util/errors.js';
import { insertReadings } from '../compat/fixture.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('admin');
  await migrate(db.pool, 'public');
});
after(async () => {
  await db?.drop();
});

const d = (s: string) => new Date(s);
const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;

async function expiredSnapshot(mac: string): Promise<string> {
  return JSON.stringify(await q(`SELECT * FROM photometers WHERE mac_address = $1 AND valid_state = 'Expired' ORDER BY valid_since`, [mac]));
}

test('validation refuses out-of-range values with a clear message', () => {
  const refuses = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: Error) => e instanceof UserError && re.test(e.message));
  refuses(() => v.zeroPoint('9.99'), /zero point 9.99 .* between 10 and 30/);
  refuses(() => v.zeroPoint('30.5'), /between 10 and 30/);
  refuses(() => v.zeroPoint('abc'), /not a number/);
  assert.equal(v.zeroPoint('20.44'), 20.44);
  refuses(() => v.latitude('90.1'), /latitude 90.1° is out of range/);
  refuses(() => v.longitude('-180.5'), /longitude/);
  assert.equal(v.longitude('-180'), -180);
  refuses(() => v.timezone('Europe/Atlantis'), /unknown time zone "Europe\/Atlantis"/);
  refuses(() => v.timezone(''), /unknown time zone/);
  assert.equal(v.timezone('europe/madrid'), 'Europe/Madrid');
  refuses(() => v.azimuth('361'), /azimuth/);
  refuses(() => v.altitude('-91'), /altitude/);
  refuses(() => v.channel('5'), /channel/);
  refuses(() => v.photometerName('Stars 1'), /not a valid photometer name/);
  refuses(() => v.macAddress('60:01:94:2E:CE'), /not a MAC address/);
  refuses(() => v.instant('2024-13-01'), /not a date/);
  refuses(() => v.instant('2009-12-31'), /before 2010/);
  assert.equal(v.instant('2024-05-01').toISOString(), '2024-05-01T00:00:00.000Z');
  assert.equal(v.instant('2024-05-01T18:30').toISOString(), '2024-05-01T18:30:00.000Z');
  assert.equal(v.instant('2024-05-01T18:30:00+02:00').toISOString(), '2024-05-01T16:30:00.000Z');
  assert.ok(Math.abs(v.sinceAgo('2h').getTime() - (Date.now() - 7_200_000)) < 5000);
});

test('locations: create, update keeps every version, refuses bad values, lists unused ones', async () => {
  const a = await createLocation(db.pool, { site: 'Site A', place: 'Madrid', country: 'Spain', latitude: '40.4', longitude: '-3.7', timezone: 'Europe/Madrid' });
  await createLocation(db.pool, { site: 'Site B', timezone: 'America/Santiago', latitude: '-33.45', longitude: '-70.66' });
  await assert.rejects(createLocation(db.pool, { site: 'Site A' }), /already exists/);
  await assert.rejects(createLocation(db.pool, { site: 'Bad', latitude: '95' }), /latitude 95° is out of range/);
  await assert.rejects(updateLocation(db.pool, 'Site A', { timezone: 'Mars/Olympus' }), /unknown time zone/);
  assert.equal((await q(`SELECT count(*)::int AS n FROM locations WHERE site = 'Bad'`))[0].n, 0);

  const u = await updateLocation(db.pool, 'site a', { latitude: '40.45', place: '' });
  assert.deepEqual(u.changed.sort(), ['latitude', 'place']);
  assert.equal(u.after.place, null);
  const shown = await showLocation(db.pool, String(a.location_id));
  assert.deepEqual(
    shown.versions.map((x) => [x.valid_state, x.data.latitude, x.data.place]),
    [
      ['Expired', 40.4, 'Madrid'],
      ['Current', 40.45, null],
    ],
  );
  assert.equal(shown.versions[0].valid_until.getTime(), shown.versions[1].valid_since.getTime());
  // location_t (tessdb-server's view) shows the current values.
  assert.deepEqual(await q(`SELECT location, latitude FROM location_t WHERE site = 'Site A'`), [{ location: null, latitude: 40.45 }]);
  // A change that changes nothing adds no version.
  assert.deepEqual((await updateLocation(db.pool, 'Site A', { latitude: '40.45' })).changed, []);
  assert.equal((await showLocation(db.pool, 'Site A')).versions.length, 2);
});

test('observers: create and update keep history', async () => {
  await createObserver(db.pool, { name: 'Ana', affiliation: 'UCM', email: 'ana@example.org' });
  await assert.rejects(createObserver(db.pool, { name: 'Bob', email: 'not-an-email' }), /not an e-mail/);
  await assert.rejects(createObserver(db.pool, { name: 'Bob', type: 'robot' }), /person or organization/);
  const u = await updateObserver(db.pool, 'Ana', { affiliation: 'AAM' });
  assert.deepEqual(u.changed, ['affiliation']);
  const versions = await q(`SELECT data->>'affiliation' AS a, valid_state FROM observer_versions o JOIN observers USING (observer_id) WHERE observers.name = 'Ana' ORDER BY valid_since`);
  assert.deepEqual(versions, [
    { a: 'UCM', valid_state: 'Expired' },
    { a: 'AAM', valid_state: 'Current' },
  ]);
});

const MAC = '60:01:94:2E:CE:EB';

test('photometer: create, authorise, assign, set, rename — each a new version from its date, visible in tess_v', async () => {
  const created = await createPhotometer(db.pool, { name: 'stars1', mac: '60:1:94:2e:ce:eb', model: 'TESS-W', zps: [20.44], location: 'Site A' }, d('2024-01-01'));
  assert.equal(created.mac, MAC);
  assert.deepEqual(await q(`SELECT name, mac_address, site, zero_point, authorised, registered, valid_state FROM tess_v`), [
    { name: 'stars1', mac_address: MAC, site: 'Site A', zero_point: 20.44, authorised: 0, registered: 'Manual', valid_state: 'Current' },
  ]);
  await assert.rejects(createPhotometer(db.pool, { name: 'stars9', mac: MAC, model: 'TESS-W' }, d('2024-01-02')), /already registered \(as "stars1"\)/);

  const auth = await setAuthorised(db.pool, 'stars1', true, d('2024-02-01'));
  assert.deepEqual(auth.changes, ['authorised']);
  assert.deepEqual((await setAuthorised(db.pool, MAC, true, d('2024-02-05'))).changes, [], 'already authorised: nothing recorded');

  let before = await expiredSnapshot(MAC);
  const moved = await assign(db.pool, 'stars1', { location: 'Site B', observer: 'Ana' }, d('2024-03-01'));
  assert.deepEqual(moved.changes, ['location Site A → Site B', 'observer Unknown → Ana']);
  assert.ok((await expiredSnapshot(MAC)).startsWith(before.slice(0, -1)), 'older versions are untouched');

  before = await expiredSnapshot(MAC);
  const set = await setAttributes(db.pool, 'stars1', { zp: 20.61, filter: 'BG39', azimuth: 45, altitude: 80 }, d('2024-04-01'));
  assert.equal(set.changes.length, 4);
  assert.ok((await expiredSnapshot(MAC)).startsWith(before.slice(0, -1)), 'older versions are untouched');
  await assert.rejects(setAttributes(db.pool, 'stars1', { zp: 20.7, channel: 2 }, d('2024-04-02')), /channel 2: stars1 is a TESS-W with 1 channel/);
  await assert.rejects(setAttributes(db.pool, MAC, { zp: 20.7 }, d('2023-06-01')), /has no version at 2023-06-01T00:00:00.000Z: it is known from 2024-01-01/);
  await assert.rejects(setAttributes(db.pool, 'stars1', { zp: 20.7 }, d('2023-06-01')), /"stars1" had no device at 2023-06-01/);
  await assert.rejects(setAttributes(db.pool, 'stars1', {}, d('2024-04-02')), /nothing to set/);

  const renamed = await rename(db.pool, 'stars1', 'stars100', d('2024-05-01'));
  assert.deepEqual(renamed.changes, ['name stars1 → stars100']);

  // The whole history, as tessdb-server users read it (tess_v: versions with their location).
  const history = await q(
    `SELECT name, zero_point, filter, azimuth, altitude, site, authorised, observer_id > 0 AS has_observer,
            to_char(valid_since AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS since, valid_state
       FROM tess_v WHERE mac_address = $1 ORDER BY valid_since`,
    [MAC],
  );
  assert.deepEqual(history, [
    { name: 'stars1', zero_point: 20.44, filter: 'UVIR', azimuth: 0, altitude: 90, site: 'Site A', authorised: 0, has_observer: false, since: '2024-01-01', valid_state: 'Expired' },
    { name: 'stars1', zero_point: 20.44, filter: 'UVIR', azimuth: 0, altitude: 90, site: 'Site A', authorised: 1, has_observer: false, since: '2024-02-01', valid_state: 'Expired' },
    { name: 'stars1', zero_point: 20.44, filter: 'UVIR', azimuth: 0, altitude: 90, site: 'Site B', authorised: 1, has_observer: true, since: '2024-03-01', valid_state: 'Expired' },
    { name: 'stars100', zero_point: 20.61, filter: 'BG39', azimuth: 45, altitude: 80, site: 'Site B', authorised: 1, has_observer: true, since: '2024-04-01', valid_state: 'Current' },
  ]);
  assert.deepEqual(
    await q(`SELECT name, to_char(valid_since AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS since, valid_state FROM name_to_mac_t WHERE mac_address = $1 ORDER BY valid_since`, [MAC]),
    [
      { name: 'stars1', since: '2024-01-01', valid_state: 'Expired' },
      { name: 'stars100', since: '2024-05-01', valid_state: 'Current' },
    ],
  );
  // Every change is an event in the log, with who made it.
  const ops = await q(`SELECT payload->>'op' AS op, payload ? 'user' AS has_user FROM register_events WHERE source = 'manual' AND mac_address = $1 ORDER BY received_at, event_id`, [MAC]);
  assert.deepEqual(
    ops.map((o) => o.op),
    [null, 'set_location', 'authorise', 'set_location', 'set_observer', 'set_zero_point', 'set_filter', 'set_azimuth', 'set_altitude', 'rename'],
  );
  assert.ok(ops.every((o) => o.has_user));
});

test('readings follow the version valid at their time (tess_readings_t)', async () => {
  const c = await db.pool.connect();
  try {
    await insertReadings(c, [
      { name: 'stars1', tstamp: '2024-02-15T22:00:00Z', seq: 1, freq: 10, mag: 19, tamb: 1, tsky: -10 },
      { name: 'stars1', tstamp: '2024-04-15T22:00:00Z', seq: 2, freq: 10, mag: 19, tamb: 1, tsky: -10 },
      { name: 'stars100', tstamp: '2024-05-15T22:00:00Z', seq: 3, freq: 10, mag: 19, tamb: 1, tsky: -10 },
      { name: 'stars1', tstamp: '2024-05-16T22:00:00Z', seq: 4, freq: 10, mag: 19, tamb: 1, tsky: -10 }, // after the rename: nobody
    ]);
  } finally {
    c.release();
  }
  const rows = await q(
    `SELECT r.sequence_number AS seq, l.site, t.zero_point FROM tess_readings_t r JOIN tess_t t USING (tess_id) JOIN location_t l ON l.location_id = r.location_id ORDER BY r.tstamp`,
  );
  assert.deepEqual(rows, [
    { seq: 1, site: 'Site A', zero_point: 20.44 },
    { seq: 2, site: 'Site B', zero_point: 20.61 },
    { seq: 3, site: 'Site B', zero_point: 20.61 },
  ]);
});

test('rename is refused when the name belongs to another device; show and list report the history', async () => {
  await createPhotometer(db.pool, { name: 'stars2', mac: 'AA:BB:CC:00:00:02', model: 'TESS4C', zps: [20.1, 20.2, 20.3, 20.4], filters: ['a', 'b', 'c', 'd'] }, d('2024-01-01'));
  await assert.rejects(rename(db.pool, 'stars2', 'stars100', d('2024-06-01')), /the name "stars100" belongs to 60:01:94:2E:CE:EB/);
  const four = await setAttributes(db.pool, 'stars2', { channel: 3, zp: 21 }, d('2024-06-01'));
  assert.deepEqual(four.changes, ['zero point (channel 3) 20.3 → 21']);
  assert.deepEqual([four.version!.zp1, four.version!.zp3], [20.1, 21]);

  const show = await showPhotometer(db.pool, 'stars100');
  assert.equal(show.versions.length, 4);
  assert.deepEqual(show.names.map((n) => n.name), ['stars1', 'stars100']);
  assert.equal(show.location?.site, 'Site B');
  assert.equal((show.latest_reading?.tstamp as Date).toISOString(), '2024-05-15T22:00:00.000Z');
  assert.equal(show.readings.count, 1);

  const current = await listPhotometers(db.pool);
  assert.deepEqual(current.map((r) => [r.name, r.valid_state]), [
    ['stars100', 'Current'],
    ['stars2', 'Current'],
  ]);
  assert.deepEqual((await listPhotometers(db.pool, { unauthorised: true })).map((r) => r.name), ['stars2']);
  assert.deepEqual((await listPhotometers(db.pool, { unassigned: true })).map((r) => r.name), ['stars2']);
  assert.equal((await listPhotometers(db.pool, { state: 'expired' })).length, 4);
  assert.equal((await listPhotometers(db.pool, { state: 'all' })).length, 6);
  assert.deepEqual((await listPhotometers(db.pool, { silentSince: d('2024-05-01') })).map((r) => r.name), ['stars2']);
  assert.deepEqual((await listPhotometers(db.pool, { silentSince: d('2024-06-01') })).map((r) => r.name), ['stars100', 'stars2']);

  assert.deepEqual((await listLocations(db.pool, { unused: true })).map((l) => l.site), ['Site A']);
  assert.deepEqual((await listObservers(db.pool, { unused: true })).map((o) => o.name), []); // Ana: stars100, Unknown: stars2
  assert.deepEqual((await listObservers(db.pool)).map((o) => [o.name, o.photometers]), [['Ana', 1], ['Unknown', 1]]);
});
