/**
 * Exports stream: 1 M readings exported as CSV and as one IDA file by the real CLI, with the peak
 * resident memory of the process (getrusage maxRSS) under 200 MB.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';
import { migrate } from '../../src/db/migrate.js';
import { applyRegistry, tesswEvent } from '../compat/fixture.js';
import { ROOT } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

const N = 1_000_000;
const LIMIT_KB = 200 * 1024;

let db: TestDatabase;
let dir: string;
before(async () => {
  db = await freshDatabase('exportmem');
  await migrate(db.pool, 'public');
  const c = await db.pool.connect();
  try {
    await applyRegistry(c, [tesswEvent('stars1', 'AA:00:00:00:00:01', '2024-01-01T00:00:00Z', 20.5)]);
  } finally {
    c.release();
  }
  await db.pool.query(`CREATE TABLE readings_202401 PARTITION OF readings FOR VALUES FROM ('2024-01-01Z') TO ('2024-02-01Z')`);
  await db.pool.query(`INSERT INTO names (name) VALUES ('stars1')`);
  // 1 M readings in January 2024, one every 2.6784 s.
  await db.pool.query(
    `INSERT INTO readings (name_id, tstamp, tstamp_src, load_src, seq, freq, mag, tamb, tsky)
     SELECT 1, timestamptz '2024-01-01T00:00:00Z' + i * interval '2678.4 milliseconds', 'publisher', 'mqtt',
            i, 10 + (i % 1000) / 100.0, 18 + (i % 300) / 100.0, 5.5, -15.25
       FROM generate_series(0, $1::int - 1) AS i`,
    [N],
  );
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-exportmem-'));
  fs.chmodSync(dir, 0o755);
});
after(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run the CLI in a child process that reports its peak RSS (KB) on exit. */
function runMeasured(args: string[]): Promise<{ code: number; stderr: string; maxRssKb: number }> {
  const script = `
    import v8 from 'node:v8';
    v8.setFlagsFromString('--max-semi-space-size=32');
    const { main } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'cli', 'main.js'))});
    const code = await main(['node', 'tessdb', ...JSON.parse(process.env.TESSDB_TEST_ARGS)]);
    process.stderr.write('\\nMAXRSS ' + process.resourceUsage().maxRSS + '\\n');
    process.exitCode = code;`;
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TESSDB_DATABASE_URL: db.url, TESSDB_TEST_ARGS: JSON.stringify(args) };
    for (const k of ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD']) delete env[k];
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /MAXRSS (\d+)/.exec(stderr);
      resolve({ code: code ?? -1, stderr, maxRssKb: m ? Number(m[1]) : Infinity });
    });
  });
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const _ of readline.createInterface({ input: fs.createReadStream(file) })) n++;
  return n;
}

test('export csv and export ida of 1 M readings (run side by side): streamed, peak RSS under 200 MB each', async (t) => {
  const file = path.join(dir, 'all.csv');
  const [csv, ida] = await Promise.all([
    runMeasured(['export', 'csv', 'stars1', '--out', file]),
    runMeasured(['export', 'ida', 'stars1', '--month', '2024-01', '--out', dir]),
  ]);
  t.diagnostic(`peak RSS: csv ${Math.round(csv.maxRssKb / 1024)} MB, ida ${Math.round(ida.maxRssKb / 1024)} MB`);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(ida.code, 0, ida.stderr);
  assert.equal(await countLines(file), N + 1);
  assert.equal(await countLines(path.join(dir, 'stars1', 'stars1_2024-01.dat')), N + 35);
  assert.ok(csv.maxRssKb < LIMIT_KB, `csv: peak RSS ${Math.round(csv.maxRssKb / 1024)} MB`);
  assert.ok(ida.maxRssKb < LIMIT_KB, `ida: peak RSS ${Math.round(ida.maxRssKb / 1024)} MB`);
});
