/**
 * `tessdb export`: IDA files in tessdb-reports' format (35 header lines, 8 / 17 `;` fields, one file per
 * location when the unit moved) and CSV with the columns and values of sample query 2, streamed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { exportCsv } from '../../src/export/csv.js';
import { exportIdaMonth, IDA_HEADER_LINES } from '../../src/export/ida.js';
import { copyOut } from '../../src/export/sql.js';
import { buildFixture, MAC_A, MAC_B, type Fixture } from '../compat/fixture.js';
import { Q2 } from '../compat/queries.js';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let fx: Fixture;
let dir: string;
let client: pg.PoolClient;
before(async () => {
  db = await freshDatabase('export');
  fx = await buildFixture(db.pool);
  client = await db.pool.connect();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-export-'));
  fs.chmodSync(dir, 0o755);
});
after(async () => {
  client?.release();
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const JAN = new Date('2024-01-01T00:00:00Z');

function readIda(file: string): { header: string[]; lines: string[][] } {
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'));
  const all = text.slice(0, -1).split('\n');
  return { header: all.slice(0, IDA_HEADER_LINES), lines: all.slice(IDA_HEADER_LINES).map((l) => l.split(';')) };
}

function headerValue(header: string[], key: string): string {
  const line = header.find((l) => l.startsWith(`# ${key}:`));
  assert.ok(line, `no "${key}" line`);
  return line.slice(key.length + 3).trim();
}

test('IDA, TESS-W that moved during the month: one file per location, 35 header lines, 8 fields with the ZP of each reading', async () => {
  const out = path.join(dir, 'ida1');
  const files = await exportIdaMonth(client, { name: 'stars1', month: JAN, outDir: out, dropDaylight: true });
  assert.deepEqual(
    files.map((f) => [path.relative(out, f.path), f.site, f.readings]),
    [
      [`stars1/stars1_2024-01_${fx.siteA}.dat`, 'Site A', 9],
      [`stars1/stars1_2024-01_${fx.siteB}.dat`, 'Site B', 6],
    ],
  );
  const a = readIda(files[0].path);
  assert.equal(a.header.length, 35);
  assert.ok(a.header.every((l) => l.startsWith('# ')));
  assert.equal(a.header[0], '# Definition of the community standard for skyglow observations 1.0');
  assert.equal(a.header[2], '# Number of header lines: 35');
  assert.equal(a.header[34], '# END OF HEADER');
  assert.equal(headerValue(a.header, 'Device type'), 'TESS-W');
  assert.equal(headerValue(a.header, 'Instrument ID'), 'stars1');
  assert.equal(headerValue(a.header, 'Data supplier'), 'Obs One / AAM');
  assert.equal(headerValue(a.header, 'Location name'), 'Madrid/Madrid/Spain - Site A');
  assert.equal(headerValue(a.header, 'Position'), '40.4, -3.7, 650.0');
  assert.equal(headerValue(a.header, 'Local timezone'), 'Europe/Madrid');
  assert.equal(headerValue(a.header, 'Time Synchronization'), 'timestamp added by MQTT subscriber');
  assert.equal(headerValue(a.header, 'Number of fields per line'), '8');
  assert.equal(headerValue(a.header, 'TESS MAC address'), MAC_A);
  assert.equal(headerValue(a.header, 'TESS zero point'), '20.5');
  assert.ok(a.header.includes('# Comment: ZP changes: 20.44,20.5'));
  assert.equal(a.header[32], '# UTC Date & Time, Local Date & Time, Enclosure Temperature, Sky Temperature, Frequency, MSAS, ZP, Sequence Number');
  assert.equal(a.lines.length, 9);
  assert.ok(a.lines.every((f) => f.length === 8));
  assert.deepEqual(a.lines[0], ['2024-01-10T21:00:00.000', '2024-01-10T22:00:00.000', '5.5', '-12.5', '10.5', '19', '20.44', '101']);
  assert.deepEqual(a.lines[1].slice(5), ['19.1', '20.44', '102']);
  assert.deepEqual(a.lines[6], ['2024-01-16T22:00:00.000', '2024-01-16T23:00:00.000', '3', '-20', '5.25', '20', '20.5', '201']);

  const b = readIda(files[1].path);
  assert.equal(headerValue(b.header, 'Local timezone'), 'America/Santiago');
  assert.equal(headerValue(b.header, 'Time Synchronization'), 'timestamp added by the photometer (MQTT publisher)');
  // Daylight readings (seq 304, 305) are left out with filter.daylight = drop; local time UTC−3 (summer).
  assert.deepEqual(b.lines.map((f) => f[7]), ['301', '302', '303', '306', '307', '308']);
  assert.deepEqual(b.lines[0].slice(0, 2), ['2024-01-21T10:00:00.000', '2024-01-21T07:00:00.000']);

  const kept = await exportIdaMonth(client, { name: 'stars1', month: JAN, outDir: path.join(dir, 'ida1keep'), dropDaylight: false });
  assert.equal(kept[1].readings, 8);
  assert.deepEqual(await exportIdaMonth(client, { name: 'stars1', month: new Date('2024-02-01T00:00:00Z'), outDir: out, dropDaylight: true }), []);
});

test('IDA, TESS4C: one file, 17 fields', async () => {
  const out = path.join(dir, 'ida2');
  const [f] = await exportIdaMonth(client, { name: 'stars2', month: JAN, outDir: out, dropDaylight: true });
  assert.equal(path.relative(out, f.path), 'stars2/stars2_2024-01.dat');
  const { header, lines } = readIda(f.path);
  assert.equal(header.length, 35);
  assert.equal(headerValue(header, 'Device type'), 'TESS4C');
  assert.equal(headerValue(header, 'Number of channels'), '4');
  assert.equal(headerValue(header, 'Number of fields per line'), '17');
  assert.equal(headerValue(header, 'Filters per channel'), 'UVIR, R, G, B');
  assert.equal(headerValue(header, 'TESS zero point'), '20.1, 20.2, 20.3, 20.4');
  assert.equal(headerValue(header, 'TESS MAC address'), MAC_B);
  assert.equal(
    header[32],
    '# UTC Date & Time, Local Date & Time, Enclosure Temperature, Sky Temperature, Freq1, MSAS1, ZP1, Freq2, MSAS2, ZP2, Freq3, MSAS3, ZP3, Freq4, MSAS4, ZP4, Sequence Number',
  );
  assert.equal(header[33].split(';').length, 17);
  assert.equal(lines.length, 3);
  assert.ok(lines.every((l) => l.length === 17));
  assert.deepEqual(lines[0], [
    '2024-01-10T22:00:00.000', '2024-01-10T19:00:00.000', '4', '-15',
    '12', '19.5', '20.1', '13', '19.25', '20.2', '14', '19.125', '20.3', '15', '18.75', '20.4', '1',
  ]);
});

class Collect extends Writable {
  text = '';
  _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

test('CSV: the columns and values of sample query 2, streamed with COPY', async () => {
  const out = new Collect();
  const n = await exportCsv(client, { names: ['stars1'], delimiter: ';', header: true, withName: false, dropDaylight: true }, out);
  assert.equal(n, 15);
  // The same rows as sample query 2 run on the views, printed by COPY the same way.
  const reference = new Collect();
  await copyOut(client, `COPY (${Q2('stars1').replace(/;\s*$/, '')}) TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER ';')`, reference);
  assert.equal(out.text, reference.text);
  const lines = out.text.trimEnd().split('\n');
  assert.equal(lines[0], 'julian_day;timestamp;sequence_number;site;mac_address;frequency;magnitude;zero_point;sky_temperature;ambient_temperature');
  assert.match(lines[1], /^2460320\.375\d*;2024-01-10T21:00:00;101;Site A;60:01:94:2E:CE:EB;10\.5;19;20\.44;-12\.5;5\.5$/);

  const file = path.join(dir, 'range.csv');
  const m = await exportCsv(
    client,
    { names: ['stars1', 'stars2'], from: new Date('2024-01-10T00:00:00Z'), to: new Date('2024-01-11T00:00:00Z'), delimiter: ',', header: false, withName: true, dropDaylight: true },
    file,
  );
  assert.equal(m, 9);
  const rows = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.split(','));
  assert.deepEqual(rows.map((r) => r[0]), [...Array(6).fill('stars1'), ...Array(3).fill('stars2')]);
  assert.ok(rows.every((r) => r.length === 11));
  await assert.rejects(exportCsv(client, { names: ['nobody'], delimiter: ';', header: true, withName: false, dropDaylight: true }, new Collect()), /no readings of "nobody"/);
});

test('CLI: export ida --all over a range, export csv to stdout', async () => {
  const out = path.join(dir, 'cli');
  const ida = await runCli(['export', 'ida', '--all', '--from', '2023-12', '--to', '2024-02', '--out', out, '--json'], { env: dbEnv(db.url) });
  assert.equal(ida.code, 0, ida.stderr);
  const files = JSON.parse(ida.stdout) as Array<{ path: string; readings: number }>;
  assert.deepEqual(
    files.map((f) => [path.relative(out, f.path), f.readings]),
    [
      [`stars1/stars1_2024-01_${fx.siteA}.dat`, 9],
      [`stars1/stars1_2024-01_${fx.siteB}.dat`, 6],
      ['stars2/stars2_2024-01.dat', 3],
    ],
  );
  const csv = await runCli(['export', 'csv', 'stars2', '--delimiter', ',', 'filter.daylight=keep'], { env: dbEnv(db.url) });
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[0], 'julian_day,timestamp,sequence_number,site,mac_address,frequency,magnitude,zero_point,sky_temperature,ambient_temperature');
  assert.match(lines[1], /^2460320\.4166\d*,2024-01-10T22:00:00,1,Site B,AA:BB:CC:00:00:02,12,19\.5,20\.1,-15,4$/);
  const usage = await runCli(['export', 'ida', 'stars1'], { env: dbEnv(db.url) });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /give --month YYYY-MM or --from YYYY-MM/);
});
