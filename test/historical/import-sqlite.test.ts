/**
 * Issue 4, `tessdb import-sqlite`: tessdb-server databases made here with their real schemas (legacy 2.x
 * and version 04) load all readings, photometer versions and name mappings; a second run inserts 0 rows;
 * a killed import resumes where it stopped.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN_OPS } from '../../src/registry/index.js';
import { BIN, dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { buildServerDb, fixtureMappings, fixtureVersions, LOCATIONS, OBSERVERS, type ServerSchema } from './tessdb-server-db.js';
import { normaliseMac } from '../../src/model/mac.js';

let dir: string;
const dbs: TestDatabase[] = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-import-'));
  fs.chmodSync(dir, 0o755);
});

after(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function setup(): Promise<TestDatabase> {
  const db = await freshDatabase('imp');
  dbs.push(db);
  const r = await runCli(['setup', '-q'], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, r.stderr);
  return db;
}

async function importJson(db: TestDatabase, file: string, extra: string[] = []): Promise<any> {
  const r = await runCli(['import-sqlite', file, '--json', ...extra], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, `import-sqlite exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout);
}

const iso = (s: string) => new Date(`${s}Z`).toISOString();

async function checkRegistry(db: TestDatabase, schema: ServerSchema): Promise<void> {
  const { rows: versions } = await db.pool.query(
    `SELECT p.mac_address, p.valid_since, p.valid_until, p.zp1, p.zp4, p.filter1, p.model, l.site, o.name AS observer, p.authorised, p.registered
       FROM photometers p JOIN locations l USING (location_id) JOIN observers o USING (observer_id)
      ORDER BY p.mac_address, p.valid_since`,
  );
  const site = (id: number) => LOCATIONS.find((l) => l.id === id)?.site ?? 'Unknown';
  const observer = (id: number) => (schema === 'legacy' ? 'Unknown' : OBSERVERS.find((o) => o.id === id)?.name ?? 'Unknown');
  const filterOp = Object.prototype.hasOwnProperty.call(ADMIN_OPS, 'set_filter');
  const expected = fixtureVersions(schema)
    .map((v) => ({
      mac_address: normaliseMac(v.mac),
      valid_since: iso(v.since),
      valid_until: iso(v.until),
      zp1: v.zp[0],
      zp4: v.zp[3] ?? null,
      filter1: v.model === 'TESS-W' && !filterOp ? 'UVIR' : v.filters[0],
      model: v.model,
      site: site(v.locationId),
      observer: observer(v.observerId),
      authorised: v.authorised === 1,
      registered: 'Imported',
    }))
    .sort((a, b) => (a.mac_address! < b.mac_address! ? -1 : a.mac_address! > b.mac_address! ? 1 : a.valid_since < b.valid_since ? -1 : 1));
  assert.deepEqual(
    versions.map((v) => ({ ...v, valid_since: v.valid_since.toISOString(), valid_until: v.valid_until.toISOString(), zp1: Math.round(v.zp1 * 1000) / 1000, zp4: v.zp4 === null ? null : Math.round(v.zp4 * 1000) / 1000 })),
    expected,
  );
  const { rows: mappings } = await db.pool.query(`SELECT name, mac_address, valid_since, valid_until FROM name_to_mac ORDER BY name, valid_since`);
  assert.deepEqual(
    mappings.map((m) => ({ ...m, valid_since: m.valid_since.toISOString(), valid_until: m.valid_until.toISOString() })),
    fixtureMappings(schema)
      .map((m) => ({ name: m.name, mac_address: normaliseMac(m.mac), valid_since: iso(m.since), valid_until: iso(m.until) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.valid_since < b.valid_since ? -1 : 1)),
  );
}

for (const schema of ['04', 'legacy'] as const) {
  test(`import-sqlite (${schema} schema): all readings, versions and mappings; a second run inserts 0`, async () => {
    const file = path.join(dir, `tess-${schema}.db`);
    const built = buildServerDb(file, schema, { orphan: true });
    const db = await setup();

    const first = await importJson(db, file);
    assert.equal(first.readings.read, Object.values(built.readings).reduce((a, b) => a + b, 0));
    assert.equal(first.readings.inserted, built.loadable);
    assert.equal(first.readings.rejected, 1, 'the replaced device reading after its name moved');
    assert.deepEqual(first.readings.rejectsByReason, { unregistered: 1 });
    assert.equal(first.status, 'loaded');
    assert.equal(first.locations.total, LOCATIONS.length);
    assert.equal(first.locations.created, LOCATIONS.length);
    assert.equal(first.observers.created, schema === '04' ? OBSERVERS.length : 0);
    assert.ok(first.photometers.eventsRecorded > 0);
    await checkRegistry(db, schema);

    const { rows: counts } = await db.pool.query(`SELECT load_src::text, tstamp_src::text, count(*)::int AS n FROM readings GROUP BY 1, 2 ORDER BY 1, 2`);
    assert.deepEqual(counts.map((c) => c.load_src), ['sqlite', 'sqlite']);
    assert.equal(counts.reduce((n, c) => n + c.n, 0), built.loadable);
    // units_id 1 ('Publisher') on odd minutes, 0 ('Subscriber') on even ones.
    assert.ok(Math.abs(counts[0].n - counts[1].n) <= fixtureVersions(schema).length * 3);

    // A reading after the recalibration and move of stars1 is attributed to the new version (compatibility view).
    const { rows: attributed } = await db.pool.query(
      `SELECT r.name, t.zero_point, l.site, r.frequency, r.magnitude, r.sequence_number, r.ambient_temperature, r.sky_temperature, r.signal_strength
         FROM tess_readings_t r JOIN tess_t t USING (tess_id) JOIN locations l ON l.location_id = r.location_id
        WHERE r.name = 'stars1' AND r.tstamp = '2019-07-01T00:02:02Z'`,
    );
    assert.equal(attributed.length, 1);
    assert.equal(Math.round(attributed[0].zero_point * 100) / 100, 20.6);
    assert.equal(attributed[0].site, 'Casa de Juan');
    assert.equal(attributed[0].sequence_number, 3);
    assert.equal(attributed[0].signal_strength, -70);
    // The renamed device: stars2 before the rename, stars2b after it.
    const { rows: renamed } = await db.pool.query(`SELECT n.name, count(*)::int AS n FROM readings r JOIN names n USING (name_id) WHERE n.name LIKE 'stars2%' GROUP BY 1 ORDER BY 1`);
    assert.deepEqual(renamed.map((r) => r.name), ['stars2', 'stars2b']);
    if (schema === '04') {
      const { rows: four } = await db.pool.query(`SELECT freq, mag, freq2, mag2, freq4, mag4 FROM readings r JOIN names n USING (name_id) WHERE n.name = 'stars4' ORDER BY tstamp LIMIT 1`);
      assert.deepEqual(four[0], { freq: 7, mag: 19, freq2: 8, mag2: 18.5, freq4: 10, mag4: 17.5 });
    }

    // Second run: nothing new anywhere.
    const second = await importJson(db, file);
    assert.equal(second.readings.read, 0);
    assert.equal(second.readings.inserted, 0);
    assert.equal(second.photometers.eventsRecorded, 0);
    assert.equal(second.locations.created, 0);
    await checkRegistry(db, schema);

    // Read everything again: all duplicates, still nothing inserted, reject counts not doubled.
    const again = await importJson(db, file, ['--restart']);
    assert.equal(again.readings.inserted, 0);
    assert.equal(again.readings.duplicates, built.loadable);
    const { rows: rc } = await db.pool.query(`SELECT reason, sum(count)::int AS n FROM reject_counts GROUP BY 1`);
    assert.deepEqual(rc, [{ reason: 'unregistered', n: 1 }]);
    const { rows: ing } = await db.pool.query(`SELECT i.status, i.rows_inserted::int, o.kind FROM file_ingests i JOIN file_origins o USING (origin_id)`);
    assert.deepEqual(ing, [{ status: 'loaded', rows_inserted: 0, kind: 'sqlite' }]);
    const { rows: total } = await db.pool.query('SELECT count(*)::int AS n FROM readings');
    assert.equal(total[0].n, built.loadable);
  });
}

test('import-sqlite refuses a file that is not a tessdb-server database, naming why', async () => {
  const db = await setup();
  const notDb = path.join(dir, 'notes.db');
  fs.writeFileSync(notDb, 'not a database');
  const r = await runCli(['import-sqlite', notDb], { env: dbEnv(db.url) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /notes\.db: cannot import: /);
});

test('a killed import continues where it stopped, and the result is the same', async () => {
  const file = path.join(dir, 'tess-kill.db');
  const built = buildServerDb(file, '04', { days: ['2019-03-01', '2019-07-01', '2019-10-01'], perDay: 1200 });
  const db = await setup();

  // Run with small chunks and kill -9 after the third committed chunk.
  const child = spawn(process.execPath, [BIN, 'import-sqlite', file, '-v', '--chunk-rows', '300'], { env: { ...process.env, ...dbEnv(db.url) } });
  let stderr = '';
  let killed = false;
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!killed && (stderr.match(/chunk \d+ committed/g) ?? []).length >= 3) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('close', () => resolve());
  });
  assert.ok(killed, `the import finished before it could be killed:\n${stderr}`);
  const { rows: progress } = await db.pool.query(`SELECT source_table, rows_read::int, rows_inserted::int, done FROM import_progress ORDER BY source_table`);
  const partial = progress.reduce((n, p) => n + p.rows_inserted, 0);
  assert.ok(partial > 0 && partial < built.loadable, `partial import: ${JSON.stringify(progress)}`);
  const { rows: loaded } = await db.pool.query('SELECT count(*)::int AS n FROM readings');
  assert.equal(loaded[0].n, partial, 'what the progress rows say is exactly what was committed');

  const resumed = await importJson(db, file, ['--chunk-rows', '5000']);
  assert.ok(resumed.tables[0].resumedAfter, 'the first table resumed after its last committed key');
  assert.equal(resumed.readings.duplicates, 0, 'nothing committed before is read again');
  assert.equal(resumed.readings.inserted, built.loadable - partial);
  const { rows: all } = await db.pool.query('SELECT count(*)::int AS n, count(DISTINCT (name_id, tstamp))::int AS k FROM readings');
  assert.deepEqual(all[0], { n: built.loadable, k: built.loadable });
  const { rows: done } = await db.pool.query('SELECT bool_and(done) AS done, sum(rows_inserted)::int AS n FROM import_progress');
  assert.deepEqual(done[0], { done: true, n: built.loadable });
});
