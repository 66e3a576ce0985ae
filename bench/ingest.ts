/**
 * Ingest benchmark (issue 3): measured against `psql \copy` of the same rows into an identical
 * readings table, on the same server, in the same run. Prints rows/s, ratios and peak RSS.
 *
 *   npm run bench:ingest [-- --photometers 700 --days 2 --jobs 1 --rounds 1]
 *
 * `--rounds N` repeats the baseline, the fresh ingest and the reprocess N times, one after the other, and
 * reports each round and the median ratios: on a machine whose speed drifts, one round's ratio says little.
 *
 * Database: TESSDB_BENCH_DATABASE_URL, else a throwaway embedded PostgreSQL.
 * Baseline: `psql \copy` when psql is on PATH, else the same COPY streamed from the file by pg-copy-streams.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { generateArchive } from '../scripts/generate-archive.js';
import { baselineCopy, benchDatabase, checkpoint, numberOption as opt, OUT, tessdb } from './common.js';

const PHOTOMETERS = opt('photometers', 700);
const DAYS = opt('days', 2);
const JOBS = opt('jobs', 1);
const ROUNDS = Math.max(1, opt('rounds', 1));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function dataset(name: string, photometers: number, days: number, withCopyRows: boolean) {
  const dir = path.join(OUT, `${name}-${photometers}x${days}`);
  const copyFile = `${dir}.copy`;
  const marker = path.join(dir, '.complete.json');
  if (fs.existsSync(marker) && (!withCopyRows || fs.existsSync(copyFile))) return { dir, copyFile, ...JSON.parse(fs.readFileSync(marker, 'utf8')) };
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`generating ${photometers} photometers × ${days} days into ${dir} …`);
  const r = generateArchive({ out: dir, photometers, days, start: new Date('2026-10-01T00:00:00Z'), seed: 7, invalidLines: false, copyRows: withCopyRows ? copyFile : undefined, gzipLevel: 6 });
  const info = { readings: r.readings, files: r.files.length };
  fs.writeFileSync(marker, JSON.stringify(info));
  return { dir, copyFile, ...info };
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const big = dataset('ingest', PHOTOMETERS, DAYS, true);
  const many = dataset('files', 1, 42, false);

  const database = await benchDatabase();
  const { url } = database;
  try {
    const env = (schema: string) => ({ TESSDB_DATABASE_URL: url, TESSDB_HOST: `bench-${schema}` });
    const dirs = (d: string) => `data_dirs=['${d}']`;
    const dropSchemas = async (schemas: string[]) => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await admin.end();
    };
    await dropSchemas(['bench_files']);

    /** One round: the baseline, then a fresh ingest and a reprocess of the same rows, each on a fresh schema. */
    const round = async () => {
      await dropSchemas(['bench_baseline', 'bench_tessdb']);
      // Baseline: the same schema, partitions made beforehand, then \copy of the equivalent rows.
      await tessdb(['setup', '-q', 'database.schema=bench_baseline'], env('bench_baseline'));
      const pool = new pg.Pool({ connectionString: url, options: '-c search_path=bench_baseline' });
      for (const month of ['2026-10-01', '2026-11-01']) {
        const name = `readings_${month.slice(0, 7).replace('-', '')}`;
        await pool.query(`CREATE TABLE ${name} PARTITION OF readings FOR VALUES FROM ('${month}') TO ('${month}'::date + interval '1 month')`);
      }
      await pool.end();
      await checkpoint(url);
      const baselineRate = big.readings / (await baselineCopy(url, 'bench_baseline', big.copyFile));

      await tessdb(['setup', '-q', 'database.schema=bench_tessdb'], env('bench_tessdb'));
      const inventory = await tessdb(['inventory', '-q', 'database.schema=bench_tessdb', dirs(big.dir)], env('bench_tessdb'));
      await checkpoint(url);
      const fresh = await tessdb(['ingest', '--json', '-q', `--jobs=${JOBS}`, 'database.schema=bench_tessdb'], env('bench_tessdb'));
      await checkpoint(url);
      const reprocess = await tessdb(['ingest', '--json', '-q', '--reprocess', `--jobs=${JOBS}`, 'database.schema=bench_tessdb'], env('bench_tessdb'));
      const freshRate = big.readings / JSON.parse(fresh.stdout).seconds;
      const reRate = big.readings / JSON.parse(reprocess.stdout).seconds;
      return { baselineRate, freshRate, reRate, inventory, fresh, reprocess };
    };
    const rounds: Array<Awaited<ReturnType<typeof round>>> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await round();
      rounds.push(r);
      if (ROUNDS > 1) {
        console.log(`round ${i + 1}: baseline ${Math.round(r.baselineRate)} rows/s, fresh ${(r.freshRate / r.baselineRate).toFixed(2)} ×, reprocess ${(r.reRate / r.baselineRate).toFixed(2)} ×`);
      }
    }
    const last = rounds[rounds.length - 1];
    const { inventory, fresh, reprocess } = last;
    const baselineRate = median(rounds.map((r) => r.baselineRate));
    const freshRatio = median(rounds.map((r) => r.freshRate / r.baselineRate));
    const reRatio = median(rounds.map((r) => r.reRate / r.baselineRate));

    await tessdb(['setup', '-q', 'database.schema=bench_files'], env('bench_files'));
    await tessdb(['backfill', '-q', '--json', 'database.schema=bench_files', dirs(many.dir)], env('bench_files'));
    const inv2 = await tessdb(['inventory', '-q', 'database.schema=bench_files', dirs(many.dir)], env('bench_files'));
    const ing2 = await tessdb(['ingest', '-q', '--json', 'database.schema=bench_files', dirs(many.dir)], env('bench_files'));

    const med = ROUNDS > 1 ? ` (median of ${ROUNDS})` : '';
    const peak = (key: 'fresh' | 'reprocess') => `${Math.max(...rounds.map((r) => r[key].peakRssMb))} MB`;
    const rows = [
      [`baseline: psql \\copy into readings (PK, partitioned)${med}`, `${Math.round(baselineRate)} rows/s`, '1.00', ''],
      [`tessdb ingest, fresh database${med}`, `${Math.round(median(rounds.map((r) => r.freshRate)))} rows/s`, freshRatio.toFixed(2), peak('fresh')],
      [`tessdb ingest --reprocess (all duplicates)${med}`, `${Math.round(median(rounds.map((r) => r.reRate)))} rows/s`, reRatio.toFixed(2), peak('reprocess')],
      [`tessdb inventory (${big.files} files, first scan + hash)`, `${inventory.seconds.toFixed(2)} s`, '', `${inventory.peakRssMb} MB`],
      [`inventory + ingest, nothing changed (${many.files} files)`, `${(inv2.seconds + ing2.seconds).toFixed(2)} s`, '', `${Math.max(inv2.peakRssMb, ing2.peakRssMb)} MB`],
    ];
    console.log(`\ningest benchmark: ${big.readings} readings in ${big.files} files (${PHOTOMETERS} photometers × ${DAYS} days), jobs=${JOBS}, ${os.cpus().length} cores`);
    console.log(`${'measurement'.padEnd(70)} ${'figure'.padStart(16)} ${'ratio'.padStart(6)} ${'peak RSS'.padStart(9)}`);
    for (const [a, b, c, d] of rows) console.log(`${a.padEnd(70)} ${b.padStart(16)} ${c.padStart(6)} ${d.padStart(9)}`);
    fs.writeFileSync(
      path.join(OUT, 'ingest-results.json'),
      JSON.stringify({ baselineRate, freshRatio, reRatio, rounds: rounds.map(({ baselineRate: b, freshRate: f, reRate: r }) => ({ baselineRate: b, freshRate: f, reRate: r })), inventorySeconds: inventory.seconds, nothingChangedSeconds: inv2.seconds + ing2.seconds, fresh, reprocess }, null, 2),
    );
  } finally {
    await database.close();
  }
}

await main();
