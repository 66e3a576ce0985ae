/**
 * The edge-only daylight refresh of file ingest (sql/006, src/filter/daylight-claims.ts): the claims
 * themselves (lock held elsewhere, rows already in the range, the part claimed before left out), and
 * the flags it leaves through the real pipeline, compared with the reference function over each
 * name's whole series and with a full `daylight_refresh`, whatever the order, batching, overlap of
 * files, duplicates and interleaved captures.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { DaylightClaims } from '../../src/filter/daylight-claims.js';
import { DaylightGuess } from '../../src/filter/daylight-guess.js';
import { daylightFlags } from '../../src/filter/daylight.js';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let dir: string;
before(async () => {
  db = await freshDatabase('dlclaims');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-claims-'));
  fs.chmodSync(dir, 0o755);
  const r = await runCli(['setup', '-q'], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2025-03-01T00:00:00Z');
const HOUR = 3_600_000;

async function inTransaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await db.pool.connect();
  try {
    await c.query('BEGIN');
    return await fn(c);
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    c.release();
  }
}

async function nameId(name: string): Promise<number> {
  await db.pool.query('INSERT INTO names (name) VALUES ($1) ON CONFLICT DO NOTHING', [name]);
  return (await db.pool.query('SELECT name_id FROM names WHERE name = $1', [name])).rows[0].name_id;
}

test('a daylight claim: a lock held by another transaction, rows in the range, the part claimed before', async () => {
  const a = await nameId('claim-a');
  const b = await nameId('claim-b');
  await db.pool.query(`SELECT tessdb_ensure_partition('202503')`);
  await db.pool.query(`INSERT INTO readings (name_id, tstamp, tstamp_src, load_src, mag) VALUES ($1, $2, 'publisher', 'mqtt', 0)`, [b, new Date(T0 + 30_000)]);
  const range = (id: number, lo: number, hi: number) => new Map([[`n${id}`, { id, lo, hi }]]);
  await inTransaction(async (first) => {
    const claims = new DaylightClaims(new DaylightGuess());
    assert.equal(await claims.claim(first, range(a, T0, T0 + 60_000)), false);
    assert.ok(claims.isClean(`n${a}`));
    // The lock stays with the first transaction until it ends: another one cannot claim the name.
    await inTransaction(async (second) => {
      const other = new DaylightClaims(new DaylightGuess());
      assert.equal(await other.claim(second, range(a, T0 + HOUR, T0 + 2 * HOUR)), false, 'a busy lock does not mean duplicates');
      assert.equal(other.isClean(`n${a}`), false);
    });
    // b has a stored row inside the range: occupied (duplicates possible), not clean.
    assert.equal(await claims.claim(first, range(b, T0, T0 + 60_000)), true);
    assert.equal(claims.isClean(`n${b}`), false);
  });
  await inTransaction(async (c) => {
    const claims = new DaylightClaims(new DaylightGuess());
    // The stored row of b is before this range, then a second batch claims only what follows the first.
    assert.equal(await claims.claim(c, range(b, T0 + 40_000, T0 + 50_000)), false);
    assert.equal(await claims.claim(c, range(b, T0 + 60_000, T0 + 70_000)), false);
    assert.ok(claims.isClean(`n${b}`));
    assert.deepEqual(claims.clean(), [{ name: `n${b}`, id: b, lo: T0 + 40_000, hi: T0 + 70_000 }]);
    // A batch reaching back into the part claimed before: not clean any more.
    assert.equal(await claims.claim(c, range(b, T0 + 65_000, T0 + 80_000)), false);
    assert.equal(claims.isClean(`n${b}`), false);
  });
});

/** A seeded generator (mulberry32): the same patterns on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs of saturated and clear readings, as a string of 's' and '.'. */
function pattern(rand: () => number, length: number): string {
  let out = '';
  let saturated = rand() < 0.5;
  while (out.length < length) {
    out += (saturated ? 's' : '.').repeat(1 + Math.floor(rand() * 25));
    saturated = !saturated;
  }
  return out.slice(0, length);
}

interface Reading {
  name: string;
  ms: number;
  saturated: boolean;
}

function writeArchive(file: string, readings: Reading[], macs: Map<string, string>): string {
  const registers = [...new Set(readings.map((r) => r.name))].map((name) => ({
    rx: new Date(T0 - 60_000).toISOString(), topic: 'STARS4ALL/register', qos: 1, retain: false,
    payload: { name, mac: macs.get(name), calib: 20.5, rev: 1 },
  }));
  const lines = [
    ...registers,
    ...readings.map((r) => ({
      rx: new Date(r.ms + 300).toISOString(), topic: `STARS4ALL/${r.name}/reading`, qos: 1, retain: false,
      payload: { seq: 1, name: r.name, freq: r.saturated ? 50000 : 10, mag: r.saturated ? 0 : 19.5, tamb: 10, tsky: -10, rev: 1, tstamp: new Date(r.ms).toISOString() },
    })),
  ];
  const p = path.join(dir, file);
  fs.writeFileSync(p, zlib.gzipSync(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  return p;
}

test('ingest with claims: flags of every series as the reference says, whatever the order, batches and overlaps', async () => {
  const rand = random(42);
  const names = ['edge-a', 'edge-b', 'edge-c'];
  const macs = new Map(names.map((n, i) => [n, `AA:00:00:00:10:0${i}`]));
  // 6 hourly files, one reading every 15 s per name (240 per name per file), names interleaved in time.
  const HOURS = 6;
  const series = new Map(names.map((n) => [n, pattern(rand, HOURS * 240)]));
  const hourly: string[] = [];
  for (let h = 0; h < HOURS; h++) {
    const readings: Reading[] = [];
    for (let i = 0; i < 240; i++) {
      for (const [k, name] of names.entries()) {
        readings.push({ name, ms: T0 + h * HOUR + i * 15_000 + k * 1000, saturated: series.get(name)![h * 240 + i] === 's' });
      }
    }
    hourly.push(writeArchive(`tessdb_e_2025030${1}T0${h}0000Z.ndjson.gz`, readings, macs));
  }
  // A second capture of edge-a during hour 1: 20 readings 7 s after the others (other keys, inside the
  // range of hourly file 1), and 20 exact copies of readings of that file.
  const extra: Reading[] = [];
  for (let i = 100; i < 120; i++) extra.push({ name: 'edge-a', ms: T0 + HOUR + i * 15_000 + 7000, saturated: rand() < 0.5 });
  for (let i = 150; i < 170; i++) extra.push({ name: 'edge-a', ms: T0 + HOUR + i * 15_000, saturated: series.get('edge-a')![240 + i] === 's' });
  const capture = writeArchive('capture_edge-a.ndjson.gz', extra.sort((x, y) => x.ms - y.ms), macs);
  // Two tiny files of edge-b after the last hour: ranges of fewer than 12 rows, the second one first.
  const tiny = (file: string, from: number, pattern: string) =>
    writeArchive(file, [...pattern].map((c, i) => ({ name: 'edge-b', ms: T0 + HOURS * HOUR + (from + i) * 15_000, saturated: c === 's' })), macs);
  const tiny1 = tiny('tiny1.ndjson.gz', 0, 'sssss');
  const tiny2 = tiny('tiny2.ndjson.gz', 5, 'ss.s');
  series.set('edge-b', series.get('edge-b')! + 'sssss' + 'ss.s');

  const env = dbEnv(db.url);
  const cli = async (args: string[]) => {
    const r = await runCli([...args, 'ingest.batch_rows=100', `data_dirs=['${dir}']`], { env });
    assert.equal(r.code, 0, `tessdb ${args.join(' ')}:\n${r.stderr}`);
  };
  await cli(['ingest', '-q', '--file', hourly[2]]); // the middle first
  await cli(['ingest', '-q', '--file', capture]); // interleaved rows and duplicates, before their file
  await cli(['ingest', '-q', '--file', hourly[4], '--file', hourly[0]]); // overlapped files, batches of 100 rows
  await cli(['ingest', '-q', '--file', tiny2]);
  await cli(['backfill', '-q', '--jobs=2']); // the rest two at a time (no claims then: the full refresh)
  await cli(['ingest', '-q', '--file', tiny1, '--reprocess']); // nothing new: no refresh
  await cli(['ingest', '-q', '--file', tiny(`tiny3.ndjson.gz`, 9, 'sss'), '--file', tiny('tiny4.ndjson.gz', 12, 'ssss')]);
  series.set('edge-b', series.get('edge-b')! + 'sss' + 'ssss');
  await cli(['ingest', '-q', '--reprocess']);

  const stored = await db.pool.query<{ name: string; mag: number; daylight: boolean }>(
    `SELECT n.name, r.mag, r.daylight FROM readings r JOIN names n USING (name_id) WHERE n.name LIKE 'edge-%' ORDER BY n.name, r.tstamp`,
  );
  for (const name of names) {
    const rows = stored.rows.filter((r) => r.name === name);
    assert.equal(rows.length, HOURS * 240 + (name === 'edge-a' ? 20 : name === 'edge-b' ? 16 : 0), name);
    const expected = daylightFlags(rows.map((r) => r.mag));
    const show = (flags: boolean[]) => flags.map((f, i) => (f ? 'D' : rows[i].mag === 0 ? 's' : '.')).join('');
    assert.equal(show(rows.map((r) => r.daylight)), show(expected), name);
    assert.ok(expected.some(Boolean), `${name}: the series has daylight runs`);
  }
  const full = await db.pool.query<{ n: string }>(
    `SELECT daylight_refresh(array_agg(name), array_agg('-infinity'::timestamptz), array_agg('infinity'::timestamptz)) AS n FROM names`,
  );
  assert.equal(Number(full.rows[0].n), 0, 'a full refresh finds nothing to change');
});

test('a batch staged without a claim (duplicates expected) leaves its names to the full refresh, whatever the batches after it', async () => {
  // One loader serves every other file of a job: after a file of duplicates, its next file's first batch is
  // staged without a claim. A later batch of that file must not claim the name as clean: the junction with
  // the rows stored before the file (a daylight run across the hour) would never be recomputed.
  const macs = new Map([['skip-a', 'AA:00:00:00:20:01'], ['skip-b', 'AA:00:00:00:20:02']]);
  const start = T0 + 30 * HOUR;
  const hour = (h: number, name = 'skip-a') =>
    Array.from({ length: 240 }, (_, i) => ({ name, ms: start + h * HOUR + i * 15_000, saturated: true }));
  const h0 = writeArchive('skip_h0.ndjson.gz', hour(0), macs);
  const h0again = writeArchive('skip_h0_copy.ndjson.gz', hour(0), macs); // same readings, another file
  const other = writeArchive('skip_other.ndjson.gz', hour(0, 'skip-b'), macs);
  const h1 = writeArchive('skip_h1.ndjson.gz', hour(1), macs);
  const env = dbEnv(db.url);
  const cli = async (args: string[]) => {
    const r = await runCli([...args, 'ingest.batch_rows=100', `data_dirs=['${dir}']`], { env });
    assert.equal(r.code, 0, `tessdb ${args.join(' ')}:\n${r.stderr}`);
  };
  await cli(['ingest', '-q', '--file', h0]);
  // h0again (all duplicates) and h1 go through the same loader, `other` through the second one.
  await cli(['ingest', '-q', '--file', h0again, '--file', other, '--file', h1]);
  const stored = await db.pool.query<{ mag: number; daylight: boolean }>(
    `SELECT r.mag, r.daylight FROM readings r JOIN names n USING (name_id) WHERE n.name = 'skip-a' ORDER BY r.tstamp`,
  );
  assert.equal(stored.rows.length, 480);
  const expected = daylightFlags(stored.rows.map((r) => r.mag));
  const show = (flags: boolean[]) => flags.map((f) => (f ? 'D' : 's')).join('');
  assert.equal(show(stored.rows.map((r) => r.daylight)), show(expected));
});
