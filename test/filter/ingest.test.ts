/**
 * The daylight flag through the real pipeline: archive files ingested by `tessdb ingest` in reverse
 * order, one run per file, give the flags of the whole series; `setup`/`ingest` write filter.daylight
 * into `settings`, which tess_readings_t follows.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import { daylightFlags } from '../../src/filter/daylight.js';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let dir: string;
before(async () => {
  db = await freshDatabase('dlingest');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-daylight-'));
  fs.chmodSync(dir, 0o755);
});
after(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const MAC = 'AA:00:00:00:00:42';

function archive(file: string, name: string, startMs: number, pattern: string, firstSeq: number): string {
  const lines = [
    { rx: new Date(startMs - 1000).toISOString(), topic: 'STARS4ALL/register', qos: 1, retain: false, payload: { name, mac: MAC, calib: 20.5, rev: 1 } },
    ...[...pattern].map((c, i) => {
      const t = new Date(startMs + i * 60_000);
      return {
        rx: new Date(t.getTime() + 200).toISOString(),
        topic: `STARS4ALL/${name}/reading`,
        qos: 1,
        retain: false,
        payload: { seq: firstSeq + i, name, freq: c === 's' ? 50000 : 10, mag: c === 's' ? 0 : 19.5, tamb: 10, tsky: -10, rev: 1, tstamp: t.toISOString().slice(0, 19) },
      };
    }),
  ];
  const p = path.join(dir, file);
  fs.writeFileSync(p, zlib.gzipSync(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  return p;
}

async function tessdb(args: string[]) {
  const r = await runCli(args, { env: dbEnv(db.url) });
  assert.equal(r.code, 0, `tessdb ${args.join(' ')}:\n${r.stderr}`);
  return r;
}

test('a daylight run split over two files ingested in reverse order is flagged as a whole', async () => {
  await tessdb(['setup', '-q']);
  const t0 = Date.parse('2024-06-01T05:00:00Z');
  // The morning transition crosses the file boundary: 4 clear, then saturated.
  const p1 = '....sss';
  const p2 = 'sssssss..';
  const f1 = archive('tessdb_h_20240601T050000Z.ndjson.gz', 'stars77', t0, p1, 1);
  const f2 = archive('tessdb_h_20240601T060000Z.ndjson.gz', 'stars77', t0 + p1.length * 60_000, p2, 1 + p1.length);
  await tessdb(['ingest', '-q', '--file', f2]);
  await tessdb(['ingest', '-q', '--file', f1]);
  const { rows } = await db.pool.query(`SELECT string_agg(CASE WHEN daylight THEN 'D' WHEN mag = 0 THEN 's' ELSE '.' END, '' ORDER BY tstamp) AS f FROM readings`);
  const whole = p1 + p2;
  const expected = [...whole].map((c, i) => (daylightFlags([...whole].map((x) => (x === 's' ? 0 : 19.5)))[i] ? 'D' : c)).join('');
  assert.equal(rows[0].f, expected);
  assert.equal(expected, '....sssDDDDsss..');

  // filter.daylight = drop (the default, written by setup and ingest): the view leaves them out.
  const visible = async () => Number((await db.pool.query('SELECT count(*) AS n FROM tess_readings_t')).rows[0].n);
  assert.equal(await visible(), whole.length - 4);
  await tessdb(['setup', '-q', 'filter.daylight=keep']);
  assert.equal((await db.pool.query(`SELECT value FROM settings WHERE key = 'filter.daylight'`)).rows[0].value, 'keep');
  assert.equal(await visible(), whole.length);
  const st = JSON.parse((await tessdb(['status', '--json', 'filter.daylight=keep'])).stdout);
  assert.deepEqual(st.daylight, { setting: 'keep', flagged: 4, config: 'keep' });
});
