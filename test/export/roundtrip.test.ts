/**
 * IDA export → ingest into an empty database → the same readings: every stored value an IDA line
 * carries (time to the millisecond, sequence number, frequencies, magnitudes, temperatures), the same
 * zero point for each reading, and the same daylight flags (recomputed from the same data).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { exportIdaMonth } from '../../src/export/ida.js';
import { applyRegistry, buildFixture, insertReadings, tesswEvent } from '../compat/fixture.js';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

let source: TestDatabase;
let target: TestDatabase;
let dir: string;
before(async () => {
  [source, target] = await Promise.all([freshDatabase('rtsrc'), freshDatabase('rtdst')]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-roundtrip-'));
  fs.chmodSync(dir, 0o755);
});
after(async () => {
  await Promise.all([source?.drop(), target?.drop()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const READINGS = `SELECT n.name, r.tstamp, r.seq, r.freq, r.mag, r.tamb, r.tsky, r.freq2, r.mag2, r.freq3, r.mag3, r.freq4, r.mag4, r.daylight
                    FROM readings r JOIN names n USING (name_id) ORDER BY n.name, r.tstamp`;
const ZERO_POINTS = `SELECT r.name, r.tstamp, t.zp1, t.zp2, t.zp3, t.zp4, t.mac_address, t.model
                       FROM tess_readings_t r JOIN tess_t t USING (tess_id) ORDER BY r.name, r.tstamp`;

test('export IDA, ingest it into an empty database: the same readings', async () => {
  await buildFixture(source.pool);
  // Sub-second times, a missing sequence number and a reading at the last millisecond of the month.
  const c = await source.pool.connect();
  try {
    await applyRegistry(c, [
      tesswEvent('stars5', 'AA:00:00:00:00:05', '2024-01-02T00:00:00Z', 19.87),
      // stars6: the unit is replaced in mid-month (a new MAC takes the name).
      tesswEvent('stars6', 'AA:00:00:00:00:06', '2024-01-02T00:00:00Z', 20.3),
      tesswEvent('stars6', 'AA:00:00:00:00:07', '2024-01-10T12:00:00Z', 20.8),
    ]);
    await insertReadings(c, [
      ...[1, 2, 3].map((k) => ({ name: 'stars6', tstamp: `2024-01-0${k + 2}T22:00:00.000Z`, seq: k, freq: 9, mag: 20.5, tamb: 2, tsky: -9 })),
      ...[1, 2, 3].map((k) => ({ name: 'stars6', tstamp: `2024-01-1${k + 2}T22:00:00.000Z`, seq: k, freq: 8, mag: 20.7, tamb: 2, tsky: -9 })),
    ]);
    await insertReadings(c, [
      { name: 'stars5', tstamp: '2024-01-05T03:04:05.678Z', seq: 7, freq: 0.123, mag: 21.987, tamb: -3.25, tsky: -30.5 },
      { name: 'stars5', tstamp: '2024-01-05T03:05:05.001Z', seq: null, freq: 1234.5, mag: 12.34, tamb: -3.3, tsky: -30.4 },
      { name: 'stars5', tstamp: '2024-01-31T23:59:59.999Z', seq: 9, freq: 7.7, mag: 18.8, tamb: 1.1, tsky: -2.2 },
    ]);
  } finally {
    c.release();
  }
  const files: string[] = [];
  const client = await source.pool.connect();
  try {
    for (const name of ['stars1', 'stars2', 'stars5', 'stars6']) {
      for (const f of await exportIdaMonth(client, { name, month: new Date('2024-01-01T00:00:00Z'), outDir: dir, dropDaylight: false })) files.push(f.path);
    }
  } finally {
    client.release();
  }
  assert.equal(files.length, 5);
  const six = fs.readFileSync(files[4], 'utf8').split('\n');
  assert.equal(six[18], '# TESS MAC address: AA:00:00:00:00:07 (from 2024-01-13T22:00:00.000Z)');
  assert.ok(six.includes('# Comment: MAC address was AA:00:00:00:00:06 (until 2024-01-13T22:00:00.000Z)'));

  const env = dbEnv(target.url);
  const setup = await runCli(['setup', '-q'], { env });
  assert.equal(setup.code, 0, setup.stderr);
  const ingest = await runCli(['ingest', '--json', ...files.flatMap((f) => ['--file', f])], { env });
  assert.equal(ingest.code, 0, ingest.stderr);
  const summary = JSON.parse(ingest.stdout);
  assert.equal(summary.failed, 0, JSON.stringify(summary.results));
  assert.equal(summary.rejected, 0, JSON.stringify(summary.rejectsByReason));

  const [a, b] = await Promise.all([source.pool.query(READINGS), target.pool.query(READINGS)]);
  assert.equal(b.rows.length, 29);
  assert.deepEqual(b.rows, a.rows);
  // Each reading is attributed to a photometer with the zero point it had.
  const [za, zb] = await Promise.all([source.pool.query(ZERO_POINTS), target.pool.query(ZERO_POINTS)]);
  assert.deepEqual(zb.rows, za.rows);
});
