/**
 * IDA ingest benchmark (issue 4): `tessdb ingest` of monthly IDA files, measured against `psql \copy` of
 * the same rows into an identical readings table, on the same server, in the same run (as bench/ingest.ts).
 *
 *   npm run bench:ida [-- --photometers 40 --days 30 --jobs 1 --batch-rows 10000]
 *
 * Database: TESSDB_BENCH_DATABASE_URL, else a throwaway embedded PostgreSQL.
 * Baseline: `psql \copy` when psql is on PATH, else the same COPY streamed from the file by pg-copy-streams.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { baselineCopy, benchDatabase, checkpoint, numberOption as opt, OUT, tessdb } from './common.js';

const PHOTOMETERS = opt('photometers', 40);
const DAYS = opt('days', 30);
const JOBS = opt('jobs', 1);
/** ingest.batch_rows for the run (0: the configuration's default). */
const BATCH_ROWS = opt('batch-rows', 0);
const MONTH = Date.UTC(2026, 0, 1);

const HEADER = (name: string, mac: string, zp: number) => [
  '# Definition of the community standard for skyglow observations 1.0',
  '# URL: http://www.darksky.org/NSBM/sdf1.0.pdf',
  '# Number of header lines: 35',
  '# This data is released under the following license: ODbL 1.0 http://opendatacommons.org/licenses/odbl/summary/',
  '# Device type: TESS-W',
  `# Instrument ID: ${name}`,
  '# Data supplier: bench / bench',
  '# Location name: bench',
  '# Position: 40.4, -3.7, 650',
  '# Local timezone: Etc/UTC',
  '# Time Synchronization: timestamp added by MQTT subscriber',
  '# Moving / Stationary position: STATIONARY',
  '# Moving / Fixed look direction: FIXED',
  '# Number of channels: 1',
  '# Filters per channel: UVIR',
  '# Measurement direction per channel: 0., 0.',
  '# Field of view: 17',
  '# Number of fields per line: 8',
  `# TESS MAC address: ${mac}`,
  '# TESS firmware version: Sep 21 2022',
  '# TESS cover offset value: 0.0',
  `# TESS zero point: ${zp}`,
  ...Array.from({ length: 7 }, () => '# Comment:'),
  '# blank line 30',
  '# blank line 31',
  '# blank line 32',
  '# UTC Date & Time, Local Date & Time, Enclosure Temperature, Sky Temperature, Frequency, MSAS, ZP, Sequence Number',
  '# YYYY-MM-DDTHH:mm:ss.fff;YYYY-MM-DDTHH:mm:ss.fff;Celsius;Celsius;Hz;mag/arcsec^2;mag/arcsec^2; Multiple of Tx period',
  '# END OF HEADER',
];

/** `photometers` monthly IDA files with one reading a minute for `days` days, and the same rows as COPY text for the baseline. */
function dataset(photometers: number, days: number): { dir: string; copyFile: string; readings: number; bytes: number } {
  const dir = path.join(OUT, `ida-${photometers}x${days}`);
  const copyFile = `${dir}.copy`;
  const marker = path.join(dir, '.complete.json');
  if (fs.existsSync(marker) && fs.existsSync(copyFile)) return { dir, copyFile, ...JSON.parse(fs.readFileSync(marker, 'utf8')) };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  console.log(`generating ${photometers} IDA files × ${days} days into ${dir} …`);
  const copy = fs.openSync(copyFile, 'w');
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const iso = (t: number) => new Date(t).toISOString().slice(0, 23);
  let readings = 0;
  let bytes = 0;
  for (let p = 1; p <= photometers; p++) {
    const name = `stars${p}`;
    const mac = `AA:BB:CC:DD:${((p >> 8) & 255).toString(16).padStart(2, '0')}:${(p & 255).toString(16).padStart(2, '0')}`.toUpperCase();
    const file = path.join(dir, `${name}_2026-01.dat`);
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, HEADER(name, mac, 20.5).join('\n') + '\n');
    const offset = (p * 7) % 60;
    let lines: string[] = [];
    let rows: string[] = [];
    for (let m = 0; m < days * 1440; m++) {
      const t = MONTH + m * 60_000 + offset * 1000;
      const hour = new Date(t).getUTCHours();
      const day = hour >= 7 && hour < 18;
      const mag = day ? 0 : Math.round((18 + rnd() * 3) * 100) / 100;
      const freq = day ? 50000 : Math.round(rnd() * 3000) / 100;
      const tamb = Math.round((5 + rnd() * 10) * 10) / 10;
      const tsky = Math.round((-20 + rnd() * 10) * 10) / 10;
      const seq = m + 1;
      lines.push(`${iso(t)};${iso(t + 3_600_000)};${tamb};${tsky};${freq};${mag};20.5;${seq}`);
      rows.push(`${p}\t${new Date(t).toISOString()}\tsubscriber\tida\t${seq}\t${freq}\t${mag}\t${tamb}\t${tsky}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n`);
      if (lines.length === 10_000) {
        fs.writeSync(fd, lines.join('\n') + '\n');
        fs.writeSync(copy, rows.join(''));
        lines = [];
        rows = [];
      }
      readings++;
    }
    if (lines.length) fs.writeSync(fd, lines.join('\n') + '\n');
    if (rows.length) fs.writeSync(copy, rows.join(''));
    fs.closeSync(fd);
    bytes += fs.statSync(file).size;
  }
  fs.closeSync(copy);
  const info = { readings, bytes };
  fs.writeFileSync(marker, JSON.stringify(info));
  return { dir, copyFile, ...info };
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const data = dataset(PHOTOMETERS, DAYS);

  const database = await benchDatabase();
  const { url } = database;
  try {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    for (const s of ['bench_ida_baseline', 'bench_ida']) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
    const env = (schema: string) => ({ TESSDB_DATABASE_URL: url, TESSDB_HOST: `bench-${schema}` });

    // Baseline: the same schema, the month's partition made beforehand, then \copy of the same rows.
    await tessdb(['setup', '-q', 'database.schema=bench_ida_baseline'], env('bench_ida_baseline'));
    const pool = new pg.Pool({ connectionString: url, options: '-c search_path=bench_ida_baseline' });
    await pool.query(`CREATE TABLE readings_202601 PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')`);
    await pool.end();
    await checkpoint(url);
    const baselineSeconds = await baselineCopy(url, 'bench_ida_baseline', data.copyFile);
    const baselineRate = data.readings / baselineSeconds;

    await tessdb(['setup', '-q', 'database.schema=bench_ida'], env('bench_ida'));
    await tessdb(['inventory', '-q', 'database.schema=bench_ida', `data_dirs=['${data.dir}']`], env('bench_ida'));
    const batch = BATCH_ROWS > 0 ? [`ingest.batch_rows=${BATCH_ROWS}`] : [];
    await checkpoint(url);
    const fresh = await tessdb(['ingest', '--json', '-q', `--jobs=${JOBS}`, 'database.schema=bench_ida', ...batch], env('bench_ida'));
    await checkpoint(url);
    const reprocess = await tessdb(['ingest', '--json', '-q', '--reprocess', `--jobs=${JOBS}`, 'database.schema=bench_ida', ...batch], env('bench_ida'));
    const freshSummary = JSON.parse(fresh.stdout);
    const reSummary = JSON.parse(reprocess.stdout);
    if (freshSummary.inserted !== data.readings) throw new Error(`ingest inserted ${freshSummary.inserted} of ${data.readings} readings`);

    const rate = (rows: number, s: number) => Math.round(rows / s);
    const freshRate = rate(data.readings, freshSummary.seconds);
    const reRate = rate(data.readings, reSummary.seconds);
    const table = [
      ['baseline: psql \\copy of the same rows (PK, partitioned)', `${Math.round(baselineRate)} rows/s`, '1.00', ''],
      ['tessdb ingest of the IDA files, fresh database', `${freshRate} rows/s`, (freshRate / baselineRate).toFixed(2), `${fresh.peakRssMb} MB`],
      ['tessdb ingest --reprocess (all duplicates)', `${reRate} rows/s`, (reRate / baselineRate).toFixed(2), `${reprocess.peakRssMb} MB`],
    ];
    console.log(`\nIDA ingest benchmark: ${data.readings} readings in ${PHOTOMETERS} files (${(data.bytes / 1e6).toFixed(0)} MB, ${DAYS} days each), jobs=${JOBS}${BATCH_ROWS ? `, batch_rows=${BATCH_ROWS}` : ''}, ${os.cpus().length} cores`);
    console.log(`${'measurement'.padEnd(58)} ${'figure'.padStart(16)} ${'ratio'.padStart(6)} ${'peak RSS'.padStart(9)}`);
    for (const [a, b, c, d] of table) console.log(`${a.padEnd(58)} ${b.padStart(16)} ${c.padStart(6)} ${d.padStart(9)}`);
    fs.writeFileSync(path.join(OUT, 'ida-results.json'), JSON.stringify({ readings: data.readings, baselineRate, freshRate, reRate, ratio: freshRate / baselineRate, fresh, reprocess }, null, 2));
  } finally {
    await database.close();
  }
}

await main();
