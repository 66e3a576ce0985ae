/**
 * Issue 4: IDA and CSV files through inventory + ingest, from the committed fixtures in
 * test/fixtures/historical: every variant loads, bad lines are rejected with the file, line and field
 * named and the good ones loaded, and an IDA header that disagrees with the registry becomes history.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../helpers/db.js';
import { archiveLine, copyFixtures, rows, setupDatabase, tempDir, tessdb, tessdbJson, writeArchive, writeConfig } from './helpers.js';

let dir: string;
const dbs: TestDatabase[] = [];

before(() => {
  dir = tempDir('hist');
});

after(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function database(): Promise<TestDatabase> {
  const db = await setupDatabase('hist');
  dbs.push(db);
  return db;
}

const IDA = ['ida/stars901_2023-05.dat', 'ida/stars902_2019-03.dat', 'ida/stars903_2023-06.dat', 'ida/stars904_2023-07.dat', 'ida/stars906_2023-09.dat.gz'];

async function perName(db: TestDatabase): Promise<Record<string, number>> {
  const r = await rows(db, `SELECT n.name, count(*)::int AS n FROM readings JOIN names n USING (name_id) GROUP BY 1 ORDER BY 1`);
  return Object.fromEntries(r.map((x) => [x.name, x.n]));
}

test('IDA files: every variant loads; bad lines are rejected naming file, line and field; good lines load', async () => {
  const db = await database();
  const data = path.join(dir, 'ida-data');
  copyFixtures(data, [...IDA, 'other/notes.dat']);
  const config = writeConfig(dir, [data]);

  const inv = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(inv.origins.added, IDA.length + 1);
  assert.deepEqual(
    inv.origins.unknownKind.map((u: { path: string; reason: string }) => [path.basename(u.path), u.reason.slice(0, 40)]),
    [['notes.dat', '"#" header lines but not an IDA file (no']],
  );
  const kinds = await rows(db, `SELECT kind, count(*)::int AS n FROM file_origins GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(kinds, [{ kind: 'ida', n: IDA.length }, { kind: 'unknown', n: 1 }]);

  // stars904 has bad lines: the run reports it and exits 1, the good lines are loaded.
  const run = await tessdb(db, ['ingest', '-c', config, '--json']);
  assert.equal(run.code, 1, run.stderr);
  const ing = JSON.parse(run.stdout);
  // Each bad line is named on stderr with its file, line and field.
  for (const line of [38, 40, 42, 44, 45]) assert.match(run.stderr, new RegExp(`ida-data/stars904_2023-07\\.dat line ${line}: `));
  assert.match(run.stderr, /stars904_2023-07\.dat: more bad lines; all are counted in reject_counts/);
  assert.equal(ing.files, IDA.length);
  assert.equal(ing.failed, 0);
  assert.equal(ing.withErrors, 1);
  assert.deepEqual(await perName(db), { stars901: 20, stars902: 10, stars903: 6, stars904: 6, stars906: 4 });

  // reject_counts keeps one row per (file, day, name, reason) with the first line's detail.
  const bad = await rows(db, `SELECT reason, count::int, detail FROM reject_counts ORDER BY detail`);
  assert.deepEqual(bad, [
    { reason: 'bad_line', count: 1, detail: 'stars904_2023-07.dat line 38: 7 fields, the header declares 8 (UTC Date & Time, Local Date & Time, Enclosure Temperature, Sky Temperature, Frequency, MSAS, ZP, Sequence Number)' },
    { reason: 'invalid_timestamp', count: 2, detail: 'stars904_2023-07.dat line 40: field "UTC Date & Time": unparseable timestamp "2023-07-32T01:04:00.000"' },
    { reason: 'invalid_payload', count: 3, detail: 'stars904_2023-07.dat line 42: field "Frequency": not a number ("abc")' },
  ]);
  const byReason = await rows(db, `SELECT reason, sum(count)::int AS n FROM reject_counts GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(byReason, [
    { reason: 'bad_line', n: 1 },
    { reason: 'invalid_payload', n: 3 },
    { reason: 'invalid_timestamp', n: 2 },
  ]);
  const ingest = await rows(db, `SELECT o.path, i.status, i.rows_read::int, i.rows_inserted::int, i.rows_rejected::int, i.error FROM file_ingests i JOIN file_origins o USING (origin_id) WHERE o.path LIKE '%stars904%'`);
  assert.equal(ingest[0].status, 'loaded_with_errors');
  assert.deepEqual([ingest[0].rows_read, ingest[0].rows_inserted, ingest[0].rows_rejected], [12, 6, 6]);
  assert.match(ingest[0].error, /6 bad input lines, e\.g\. stars904_2023-07\.dat line \d+: /);

  // What was loaded: load source ida, timestamp source as declared ("timestamp added by MQTT subscriber").
  const src = await rows(db, `SELECT DISTINCT load_src::text, tstamp_src::text FROM readings`);
  assert.deepEqual(src, [{ load_src: 'ida', tstamp_src: 'subscriber' }]);
  const legacy = await rows(db, `SELECT tstamp, seq, freq, mag, tamb, tsky FROM readings JOIN names USING (name_id) WHERE name = 'stars902' ORDER BY tstamp LIMIT 4`);
  assert.deepEqual(legacy[0], { tstamp: new Date('2019-03-10T22:00:00Z'), seq: null, freq: 1.2, mag: 20.5, tamb: 8, tsky: -12 });
  assert.equal(legacy[3].tsky, null, '"None" is no value');
  const fourc = await rows(db, `SELECT seq, freq, mag, freq2, mag2, freq3, mag3, freq4, mag4 FROM readings JOIN names USING (name_id) WHERE name = 'stars903' ORDER BY tstamp LIMIT 1`);
  assert.deepEqual(fourc[0], { seq: 50, freq: 1, mag: 20, freq2: 2, mag2: 19.5, freq3: 3, mag3: 19, freq4: 4, mag4: 18.5 });

  // Headers registered their photometers as imported registrations; the ZP change inside stars901's
  // month is a new version at the line where the ZP column changed.
  const phot = await rows(
    db,
    `SELECT m.name, p.mac_address, p.model, p.zp1, p.zp4, p.filter2, p.registered, p.valid_since, p.valid_state
       FROM photometers p JOIN name_to_mac m USING (mac_address) ORDER BY m.name, p.valid_since`,
  );
  const short = phot.map((p) => [p.name, p.mac_address, p.model, Math.round(p.zp1 * 100) / 100, p.registered, p.valid_since.toISOString(), p.valid_state]);
  assert.deepEqual(short, [
    ['stars901', '60:01:94:2E:CE:EB', 'TESS-W', 20.5, 'Imported', '2023-05-01T20:00:00.000Z', 'Expired'],
    ['stars901', '60:01:94:2E:CE:EB', 'TESS-W', 20.44, 'Imported', '2023-05-01T20:10:00.000Z', 'Current'],
    ['stars902', '5C:CF:7F:76:65:BA', 'TESS-W', 20.45, 'Imported', '2019-03-10T22:00:00.000Z', 'Current'],
    ['stars903', 'AC:67:B2:1B:21:04', 'TESS4C', 20.1, 'Imported', '2023-06-15T23:00:00.000Z', 'Current'],
    ['stars904', 'AC:67:B2:1B:21:05', 'TESS-W', 20.3, 'Imported', '2023-07-03T01:00:00.000Z', 'Current'],
    ['stars906', 'AC:67:B2:1B:21:06', 'TESS-W', 20.5, 'Imported', '2023-09-02T03:00:00.000Z', 'Current'],
  ]);
  assert.equal(phot[3].filter2, 'UVIR650');
  const events = await rows(db, `SELECT source, count(*)::int AS n FROM register_events GROUP BY 1`);
  assert.deepEqual(events, [{ source: 'ida', n: 6 }]);
  const payload = await rows(db, `SELECT payload FROM register_events WHERE name = 'stars901' ORDER BY received_at LIMIT 1`);
  assert.equal(payload[0].payload.ida.location, 'Observatorio UCM/Madrid/Madrid/Comunidad de Madrid/Spain');
  assert.deepEqual(payload[0].payload.ida.position, { latitude: 40.450941, longitude: -3.726065, elevation: 650 });

  // Ingesting again changes nothing.
  const again = await tessdbJson(db, ['ingest', '-c', config, '--reprocess'], [1]);
  assert.equal(again.inserted, 0);
  assert.equal(again.duplicates, 46);
  assert.deepEqual(await rows(db, `SELECT count(*)::int AS n FROM register_events`), [{ n: 6 }]);
  assert.deepEqual(await rows(db, `SELECT sum(count)::int AS n FROM reject_counts`), [{ n: 6 }]);
});

test('IDA values PostgreSQL cannot store as real (1e-46, 1e39) are rejected per line; the file and its good lines load', async () => {
  const db = await database();
  const data = path.join(dir, 'ida-tiny');
  const [file] = copyFixtures(data, ['ida/stars901_2023-05.dat']);
  fs.appendFileSync(file, '2023-05-01T20:20:00.000;2023-05-01T22:20:00.000;10.5;-9.9;1e-46;19.7;20.44;1020\n');
  fs.appendFileSync(file, '2023-05-01T20:21:00.000;2023-05-01T22:21:00.000;10.5;-9.9;2.7;1e39;20.44;1021\n');
  fs.appendFileSync(file, '2023-05-01T20:22:00.000;2023-05-01T22:22:00.000;10.5;-9.9;0.000000000000000000000000000000000000000001;19.7;20.44;1022\n');
  const config = writeConfig(dir, [data]);
  const run = await tessdb(db, ['backfill', '-c', config, '--json']);
  assert.equal(run.code, 1, run.stderr);
  const ing = JSON.parse(run.stdout);
  assert.equal(ing.failed, 0, run.stderr);
  assert.deepEqual(await perName(db), { stars901: 20 });
  const bad = await rows(db, `SELECT reason, sum(count)::int AS n FROM reject_counts GROUP BY 1`);
  assert.deepEqual(bad, [{ reason: 'invalid_payload', n: 3 }]);
});

test('an IDA header whose MAC and zero point differ from the registry is recorded as history, not overwritten', async () => {
  const db = await database();
  const data = path.join(dir, 'conflict');
  // The registry knows stars905 as another device since July (a register message in an archive).
  writeArchive(path.join(data, 'tessdb_x_20230701T000000Z.ndjson.gz'), [
    archiveLine(new Date('2023-07-01T00:00:00Z'), 'STARS4ALL/register', { name: 'stars905', mac: 'AA:BB:CC:00:00:05', calib: 20.5, rev: 1 }),
    archiveLine(new Date('2023-07-01T00:01:00Z'), 'STARS4ALL/stars905/reading', { name: 'stars905', seq: 1, freq: 3, mag: 19.8, tamb: 14, tsky: -5, rev: 1 }),
  ]);
  copyFixtures(data, ['ida/stars905_2023-08.dat']);
  const config = writeConfig(dir, [data]);
  await tessdbJson(db, ['inventory', '-c', config]);
  const ing = await tessdbJson(db, ['ingest', '-c', config]);
  assert.equal(ing.inserted, 6);

  const mappings = await rows(db, `SELECT name, mac_address, valid_since, valid_until, valid_state FROM name_to_mac ORDER BY valid_since`);
  assert.deepEqual(
    mappings.map((m) => [m.name, m.mac_address, m.valid_since.toISOString(), m.valid_until.toISOString(), m.valid_state]),
    [
      ['stars905', 'AA:BB:CC:00:00:05', '2023-07-01T00:00:00.000Z', '2023-08-01T00:00:00.000Z', 'Expired'],
      ['stars905', 'AC:67:B2:1B:99:99', '2023-08-01T00:00:00.000Z', '2999-12-31T23:59:59.000Z', 'Current'],
    ],
  );
  const phot = await rows(db, `SELECT mac_address, zp1, registered, valid_state FROM photometers ORDER BY mac_address`);
  assert.deepEqual(
    phot.map((p) => [p.mac_address, Math.round(p.zp1 * 100) / 100, p.registered, p.valid_state]),
    [
      ['AA:BB:CC:00:00:05', 20.5, 'Automatic', 'Current'],
      ['AC:67:B2:1B:99:99', 20.61, 'Imported', 'Current'],
    ],
  );
  // July's reading stays with the old device, August's go to the one the IDA header names.
  const attributed = await rows(db, `SELECT to_char(tstamp AT TIME ZONE 'UTC', 'YYYY-MM') AS month, t.mac_address, count(*)::int AS n
                                       FROM tess_readings_t r JOIN tess_t t USING (tess_id) GROUP BY 1, 2 ORDER BY 1`);
  assert.deepEqual(attributed, [
    { month: '2023-07', mac_address: 'AA:BB:CC:00:00:05', n: 1 },
    { month: '2023-08', mac_address: 'AC:67:B2:1B:99:99', n: 5 },
  ]);
  const events = await rows(db, `SELECT source, mac_address FROM register_events ORDER BY received_at`);
  assert.deepEqual(events, [
    { source: 'mqtt', mac_address: 'AA:BB:CC:00:00:05' },
    { source: 'ida', mac_address: 'AC:67:B2:1B:99:99' },
  ]);
});

test('CSV files: tessdb-server exports (comma, semicolon), tessdb-gaps captures and a configured format', async () => {
  const db = await database();
  const idaDir = path.join(dir, 'csv-ida');
  copyFixtures(idaDir, ['ida/stars901_2023-05.dat', 'ida/stars902_2019-03.dat']);
  const csvDir = path.join(dir, 'csv-data');
  copyFixtures(csvDir, [
    'csv/tessdb-dump-stars901.csv',
    'csv/stars902.csv',
    'csv/stars901_gaps_20230502.csv',
    'csv/gaps-capture.csv',
    'csv/mylogger-20230501.csv',
    'csv/bad-rows.csv',
    'csv/unknown-layout.csv',
    'other/plain.csv',
  ]);
  const format = `
[[csv.formats]]
label = "mylogger"
glob = "mylogger-*.csv"
delimiter = "auto"
decimal = ","
columns = { "Fecha" = "date", "Hora" = "clock", "Temperatura" = "tamb", "Frecuencia" = "freq", "Magnitud" = "mag", "Notas" = "ignore" }
time_format = "%d/%m/%Y %H:%M:%S"
timezone = "Europe/Madrid"
name_source = "fixed"
name = "stars901"
`;
  // The IDA files register stars901 and stars902 first.
  await tessdbJson(db, ['ingest', '--file', path.join(idaDir, 'stars901_2023-05.dat'), '--file', path.join(idaDir, 'stars902_2019-03.dat')]);
  const config = writeConfig(dir, [csvDir], format);
  const inv = await tessdbJson(db, ['inventory', '-c', config]);
  assert.deepEqual(
    inv.origins.unknownKind.map((u: { path: string; reason: string }) => [path.basename(u.path), u.reason]),
    [['plain.csv', 'not a tessdb archive, IDA, CSV or SQLite file (starts with "just some text")']],
  );
  const ing = await tessdbJson(db, ['ingest', '-c', config], [1]);
  assert.equal(ing.files, 7);
  assert.equal(ing.failed, 1);
  const results = await rows(db, `SELECT o.path, i.status, i.rows_read::int, i.rows_inserted::int, i.rows_rejected::int, i.error
                                    FROM file_ingests i JOIN file_origins o USING (origin_id) WHERE o.path LIKE '%.csv' ORDER BY o.path`);
  const byFile = Object.fromEntries(results.map((r) => [path.basename(r.path), r]));
  assert.deepEqual(
    Object.fromEntries(Object.entries(byFile).map(([f, r]) => [f, [r.status, r.rows_inserted, r.rows_rejected]])),
    {
      'bad-rows.csv': ['loaded_with_errors', 4, 5],
      'gaps-capture.csv': ['loaded', 8, 0],
      'mylogger-20230501.csv': ['loaded', 4, 0],
      'stars901_gaps_20230502.csv': ['loaded', 5, 0],
      'stars902.csv': ['loaded', 5, 0],
      'tessdb-dump-stars901.csv': ['loaded', 6, 0],
      'unknown-layout.csv': ['failed', 0, 0],
    },
  );
  assert.match(byFile['unknown-layout.csv'].error, /unknown-layout\.csv: header "a,b,c" is neither a tessdb export .* nor a tessdb-gaps capture .* and no \[\[csv\.formats\]\] glob matches the file/);

  const rejects = await rows(db, `SELECT reason, detail FROM reject_counts rc JOIN file_origins o USING (origin_id) WHERE o.path LIKE '%bad-rows.csv' ORDER BY detail`);
  assert.deepEqual(rejects, [
    { reason: 'bad_line', detail: 'bad-rows.csv line 10: Quote Not Closed: the parsing is finished with an opening quote at line 10' },
    { reason: 'bad_line', detail: 'bad-rows.csv line 3: 7 fields, the header has 9 (name, time, freq, mag, rev, seq, tamb, tsky, wdBm)' },
    { reason: 'invalid_timestamp', detail: 'bad-rows.csv line 5: field "time": unparseable time "2023-13-01T00:00:00"' },
    { reason: 'invalid_payload', detail: 'bad-rows.csv line 7: field "mag": not a number ("n/a")' },
    { reason: 'invalid_payload', detail: 'bad-rows.csv line 9: field "name": not a photometer name ("Not A Name!")' },
  ].sort((a, b) => (a.detail < b.detail ? -1 : 1)));

  // The configured format: local time (CEST) to UTC, decimal commas.
  const mine = await rows(db, `SELECT tstamp, freq, mag, tamb, load_src::text, tstamp_src::text FROM readings r JOIN names USING (name_id)
                                WHERE name = 'stars901' AND tstamp >= '2023-05-01T21:30:00Z' AND tstamp < '2023-05-01T22:00:00Z' ORDER BY tstamp`);
  assert.deepEqual(mine[0], { tstamp: new Date('2023-05-01T21:30:00Z'), freq: 2.9, mag: 19.9, tamb: 12, load_src: 'csv', tstamp_src: 'subscriber' });
  assert.equal(mine.length, 4);
  // tessdb-gaps: milliseconds kept, rev and wdBm loaded.
  const gaps = await rows(db, `SELECT tstamp, seq, rev, wdbm FROM readings JOIN names USING (name_id) WHERE name = 'stars901' AND seq = 3000`);
  assert.deepEqual(gaps, [{ tstamp: new Date('2023-05-02T01:00:07.123Z'), seq: 3000, rev: 1, wdbm: -70 }]);
  // The semicolon export with a quoted ';' in a field and the name from the file name.
  const semi = await rows(db, `SELECT count(*)::int AS n FROM readings JOIN names USING (name_id) WHERE name = 'stars902' AND load_src = 'csv'`);
  assert.deepEqual(semi, [{ n: 5 + 4 }]);
});
