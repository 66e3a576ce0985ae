/**
 * Issue 4, "Done when" 1: an IDA file, the same readings in an archive, and the same readings in CSV
 * load to the same rows, with no duplicates, whichever is ingested first. The three files are written
 * here from one set of generated readings.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../helpers/db.js';
import { archiveLine, rows, setupDatabase, tempDir, tessdbJson, writeArchive, writeConfig } from './helpers.js';

const NAME = 'stars950';
const MAC = 'AA:BB:CC:09:50:00';
const ZP = 20.47;
const N = 120;

interface Gen {
  t: number;
  seq: number;
  freq: number;
  mag: number;
  tamb: number;
  tsky: number;
}

/** One reading a minute from 2026-02-03T20:00:00.250Z, values at the precision the formats carry. */
function generate(): Gen[] {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const t0 = Date.parse('2026-02-03T20:00:00.250Z');
  return Array.from({ length: N }, (_, i) => ({
    t: t0 + i * 60_000 + (i % 7) * 13, // a few odd milliseconds
    seq: 500 + i,
    freq: Math.round((1 + rnd() * 20) * 100) / 100,
    mag: Math.round((17 + rnd() * 4) * 100) / 100,
    tamb: Math.round((5 + rnd() * 10) * 10) / 10,
    tsky: Math.round((-20 + rnd() * 10) * 10) / 10,
  }));
}

const isoMs = (t: number) => new Date(t).toISOString().replace('Z', '');

function writeIda(file: string, g: Gen[]): void {
  const header = [
    '# Definition of the community standard for skyglow observations 1.0',
    '# URL: http://www.darksky.org/NSBM/sdf1.0.pdf',
    '# Number of header lines: 35',
    '# This data is released under the following license: ODbL 1.0 http://opendatacommons.org/licenses/odbl/summary/',
    '# Device type: TESS-W',
    `# Instrument ID: ${NAME}`,
    '# Data supplier: Someone / Somewhere',
    '# Location name: Somewhere/Town/Province/Region/Country',
    '# Position: 40.4, -3.7, 650',
    '# Local timezone: Europe/Madrid',
    '# Time Synchronization: timestamp added by MQTT subscriber',
    '# Moving / Stationary position: STATIONARY',
    '# Moving / Fixed look direction: FIXED',
    '# Number of channels: 1',
    '# Filters per channel: UVIR',
    '# Measurement direction per channel: 0., 0.',
    '# Field of view: 17',
    '# Number of fields per line: 8',
    `# TESS MAC address: ${MAC}`,
    '# TESS firmware version: Sep 21 2022',
    '# TESS cover offset value: 0.0',
    `# TESS zero point: ${ZP}`,
    ...Array.from({ length: 7 }, () => '# Comment:'),
    '# blank line 30',
    '# blank line 31',
    '# blank line 32',
    '# UTC Date & Time, Local Date & Time, Enclosure Temperature, Sky Temperature, Frequency, MSAS, ZP, Sequence Number',
    '# YYYY-MM-DDTHH:mm:ss.fff;YYYY-MM-DDTHH:mm:ss.fff;Celsius;Celsius;Hz;mag/arcsec^2;mag/arcsec^2; Multiple of Tx period',
    '# END OF HEADER',
  ];
  const lines = g.map((r) => [isoMs(r.t), isoMs(r.t + 3_600_000), r.tamb, r.tsky, r.freq, r.mag, ZP, r.seq].join(';'));
  fs.writeFileSync(file, [...header, ...lines].join('\n') + '\n');
}

function writeArchiveFile(file: string, g: Gen[]): void {
  writeArchive(file, [
    archiveLine(new Date(g[0].t - 60_000), 'STARS4ALL/register', { name: NAME, mac: MAC, calib: ZP, rev: 1, firmware: 'Sep 21 2022' }),
    // No tstamp: the time of receipt is the reading's time (timestamp source "subscriber").
    ...g.map((r) => archiveLine(new Date(r.t), `STARS4ALL/${NAME}/reading`, { name: NAME, seq: r.seq, freq: r.freq, mag: r.mag, tamb: r.tamb, tsky: r.tsky, rev: 1, wdBm: -65 })),
  ]);
}

function writeCsv(file: string, g: Gen[]): void {
  const lines = ['name,time,freq,mag,rev,seq,tamb,tsky,wdBm', ...g.map((r) => [NAME, isoMs(r.t), r.freq, r.mag, 1, r.seq, r.tamb, r.tsky, -65].join(','))];
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

let dir: string;
let files: Record<'ida' | 'archive' | 'csv', string>;
const gen = generate();
const dbs: TestDatabase[] = [];

before(() => {
  dir = tempDir('same');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  files = {
    ida: path.join(data, `${NAME}_2026-02.dat`),
    archive: path.join(data, 'tessdb_gen_20260203T200000Z.ndjson.gz'),
    csv: path.join(data, `${NAME}_capture.csv`),
  };
  writeIda(files.ida, gen);
  writeArchiveFile(files.archive, gen);
  writeCsv(files.csv, gen);
});

after(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const EXPECTED = gen.map((r) => ({ name: NAME, tstamp: new Date(r.t).toISOString(), tstamp_src: 'subscriber', seq: r.seq, freq: r.freq, mag: r.mag, tamb: r.tamb, tsky: r.tsky }));

async function loaded(db: TestDatabase): Promise<unknown[]> {
  const r = await rows(db, `SELECT n.name, r.tstamp, r.tstamp_src::text, r.seq, r.freq, r.mag, r.tamb, r.tsky FROM readings r JOIN names n USING (name_id) ORDER BY r.tstamp`);
  // real columns come back as float4 values printed shortest: compare at the files' precision
  return r.map((x) => ({ ...x, tstamp: x.tstamp.toISOString(), freq: Math.round(x.freq * 100) / 100, mag: Math.round(x.mag * 100) / 100, tamb: Math.round(x.tamb * 10) / 10, tsky: Math.round(x.tsky * 10) / 10 }));
}

for (const order of [
  ['ida', 'archive', 'csv'],
  ['archive', 'csv', 'ida'],
  ['csv', 'ida', 'archive'],
] as const) {
  test(`the same readings as IDA, archive and CSV load to the same ${N} rows: ${order.join(' → ')}`, async () => {
    const db = await setupDatabase('same');
    dbs.push(db);
    let inserted = 0;
    for (const kind of order) {
      const r = await tessdbJson(db, ['ingest', '--file', files[kind]]);
      assert.equal(r.failed + r.withErrors, 0, JSON.stringify(r));
      inserted += r.inserted;
    }
    assert.equal(inserted, N, 'each reading inserted once');
    assert.deepEqual(await loaded(db), EXPECTED);
    const { 0: first } = await rows(db, `SELECT DISTINCT load_src::text FROM readings`);
    // CSV has no registration of its own: read first, its rows wait (unregistered) until a header or register message comes.
    const provider = order[0] === 'csv' ? 'ida' : order[0];
    assert.equal(first.load_src, provider === 'archive' ? 'mqtt' : provider, 'the first file whose rows could be attributed provided them');
  });
}

test(`the three files in one inventory + ingest run load the same ${N} rows`, async () => {
  const db = await setupDatabase('same');
  dbs.push(db);
  const config = writeConfig(dir, [path.join(dir, 'data')]);
  const inv = await tessdbJson(db, ['inventory', '-c', config]);
  assert.deepEqual(inv.origins.unknownKind, []);
  const kinds = await rows(db, `SELECT kind FROM file_origins ORDER BY kind`);
  assert.deepEqual(kinds.map((k) => k.kind), ['archive', 'csv', 'ida']);
  const ing = await tessdbJson(db, ['ingest', '-c', config]);
  assert.equal(ing.inserted, N);
  assert.deepEqual(await loaded(db), EXPECTED);
});
