/**
 * Shared by the `tessdb ingest` fault tests (test/faults/ingest-*.test.ts, test/faults/slow/ingest-*):
 * the real CLI as a child process that can be killed, what each archive file holds, and the two
 * checks every scenario ends with:
 * - `checkRecords`: the database is a set of whole files — every file either has its ingest record
 *   with exactly its readings, register events and reject counts in the database, or has no record
 *   and nothing of it is there (no half-recorded file);
 * - `assertSameState`: the readings (count and md5 over every column of every row, in key order),
 *   photometer history, name mappings, register events, reject counts and ingest records equal those
 *   of a clean ingest of the same files into another database.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import pg from 'pg';
import { BIN, ROOT } from '../helpers/cli.js';
import type { TestDatabase } from '../helpers/db.js';
import path from 'node:path';
import { dumpRegistry, fileOutcomes, generate, removeDir, setupDatabase, tempDir, tessdb, writeConfig } from '../ingest/helpers.js';

// ---------------------------------------------------------------------------------------------------
// The CLI as a child process
// ---------------------------------------------------------------------------------------------------

export interface TessdbProcess {
  child: ChildProcess;
  startedAt: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stdout(): string;
  stderr(): string;
  running(): boolean;
}

/** `tessdb ARGS` against the database at `url`, without the developer's environment (as runCli). */
export function spawnTessdb(url: string, args: string[], env: NodeJS.ProcessEnv = {}): TessdbProcess {
  const inherited = { ...process.env };
  for (const k of ['TESSDB_DATABASE_URL', 'TESSDB_MQTT_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD']) delete inherited[k];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...inherited, TESSDB_DATABASE_URL: url, ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal, at: Date.now() });
    });
  });
  return { child, startedAt: Date.now(), exited, stdout: () => out, stderr: () => err, running: () => !done };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it holds (errors count as "not yet"). */
export async function waitFor(what: string | (() => string), check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    if (Date.now() > until) assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(50);
  }
}

/** Seeded PRNG (mulberry32): the seed comes from TESSDB_FAULT_SEED or is drawn, and is printed by the tests. */
export function faultSeed(): number {
  const s = process.env.TESSDB_FAULT_SEED;
  return s ? Number(s) >>> 0 : Math.floor(Math.random() * 2 ** 31);
}

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------
// What the archive files hold
// ---------------------------------------------------------------------------------------------------

export interface FileInfo {
  path: string;
  lines: number;
  /** Non-retained reading lines and their tstamp range (ISO, inclusive). */
  readings: number;
  readingsFrom: string | null;
  readingsTo: string | null;
  /** Register lines and their receipt (rx) range. */
  registers: number;
  registersFrom: string | null;
  registersTo: string | null;
}

/**
 * Reads every line of the (generated) archive files. The files' reading and register time ranges must
 * not overlap, so that what the database holds can be attributed to the file it came from.
 */
export function describeFiles(paths: string[]): FileInfo[] {
  const infos = paths.map((p) => {
    const text = zlib.gunzipSync(fs.readFileSync(p)).toString('utf8');
    const info: FileInfo = { path: p, lines: 0, readings: 0, readingsFrom: null, readingsTo: null, registers: 0, registersFrom: null, registersTo: null };
    const widen = (from: 'readingsFrom' | 'registersFrom', to: 'readingsTo' | 'registersTo', t: string) => {
      if (info[from] === null || t < info[from]!) info[from] = t;
      if (info[to] === null || t > info[to]!) info[to] = t;
    };
    for (const line of text.split('\n')) {
      if (line === '') continue;
      info.lines++;
      const m = JSON.parse(line) as { rx: string; topic: string; retain: boolean; payload: { tstamp?: string } };
      if (m.topic.endsWith('/register')) {
        info.registers++;
        widen('registersFrom', 'registersTo', new Date(m.rx).toISOString());
      } else if (!m.retain && m.payload?.tstamp) {
        info.readings++;
        widen('readingsFrom', 'readingsTo', new Date(`${m.payload.tstamp}Z`).toISOString());
      }
    }
    return info;
  });
  const sorted = infos.filter((i) => i.readingsFrom).sort((a, b) => a.readingsFrom!.localeCompare(b.readingsFrom!));
  for (let i = 1; i < sorted.length; i++) {
    assert.ok(sorted[i - 1].readingsTo! < sorted[i].readingsFrom!, `readings of ${sorted[i - 1].path} and ${sorted[i].path} overlap in time`);
  }
  return infos;
}

// ---------------------------------------------------------------------------------------------------
// Whole files only
// ---------------------------------------------------------------------------------------------------

export interface RecordCheck {
  files: number;
  recorded: number;
  readings: number;
  registerEvents: number;
  rejected: number;
  /** Reading lines of the files not recorded yet. */
  unrecordedReadings: number;
  /** Files recorded as failed (only those named in `opts.failed` may be). */
  failed: number;
}

/**
 * Every file is either recorded (status loaded / loaded_with_errors) with exactly its rows in the
 * database — readings in its time range = rows_inserted + rows_duplicate, its register events, reject
 * counts summing to rows_rejected, rows_read = its lines — or not recorded with nothing of it there.
 * Nothing in the database belongs to no file. No file is recorded as failed but those in
 * `opts.failed`, which must be, with nothing of them in the database.
 */
export async function checkRecords(pool: pg.Pool, files: FileInfo[], label: string, opts: { failed?: string[] } = {}): Promise<RecordCheck> {
  const { rows } = await pool.query<{
    path: string; status: string | null; rows_read: string | null; accepted: string | null; rows_rejected: string | null;
    rejects: string; events: string;
  }>(
    `SELECT w.path, i.status, i.rows_read, i.rows_inserted + i.rows_duplicate AS accepted, i.rows_rejected,
            (SELECT coalesce(sum(rc.count), 0) FROM reject_counts rc WHERE rc.origin_id = o.origin_id) AS rejects,
            (SELECT count(*) FROM register_events e WHERE e.received_at BETWEEN w.ef AND w.et) AS events
       FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS w(path, ef, et)
       LEFT JOIN file_origins o ON o.path = w.path
       LEFT JOIN file_ingests i ON i.origin_id = o.origin_id AND i.content_hash = o.content_hash`,
    [files.map((f) => f.path), files.map((f) => f.registersFrom), files.map((f) => f.registersTo)],
  );
  // Readings per file in one scan: the files' time ranges, in order, are the buckets.
  const ranged = files.filter((f) => f.readingsFrom !== null).sort((a, b) => a.readingsFrom!.localeCompare(b.readingsFrom!));
  const buckets = await pool.query<{ b: number; n: string; lo: Date; hi: Date }>(
    `SELECT width_bucket(tstamp, $1::timestamptz[]) AS b, count(*) AS n, min(tstamp) AS lo, max(tstamp) AS hi FROM readings GROUP BY 1`,
    [ranged.map((f) => f.readingsFrom)],
  );
  const readingsOf = new Map<string, number>();
  for (const b of buckets.rows) {
    const f = ranged[b.b - 1];
    assert.ok(f && b.lo.toISOString() >= f.readingsFrom! && b.hi.toISOString() <= f.readingsTo!, `${label}: ${b.n} readings from ${b.lo.toISOString()} to ${b.hi.toISOString()} belong to no file`);
    readingsOf.set(f.path, Number(b.n));
  }
  const byPath = new Map(files.map((f) => [f.path, f]));
  const check: RecordCheck = { files: files.length, recorded: 0, readings: 0, registerEvents: 0, rejected: 0, unrecordedReadings: 0, failed: 0 };
  for (const r of rows) {
    const f = byPath.get(r.path)!;
    const name = `${label}: ${r.path}`;
    const readings = readingsOf.get(r.path) ?? 0;
    if (opts.failed?.includes(r.path)) {
      assert.equal(r.status, 'failed', `${name}: expected to be recorded as failed`);
      assert.deepEqual([readings, Number(r.events), Number(r.rejects), Number(r.accepted)], [0, 0, 0, 0], `${name}: failed, yet readings/register events/rejects of it are in the database`);
      check.failed++;
      continue;
    }
    assert.notEqual(r.status, 'failed', `${name} is recorded as failed`);
    if (r.status === null) {
      check.unrecordedReadings += f.readings;
      assert.deepEqual([readings, Number(r.events), Number(r.rejects)], [0, 0, 0], `${name}: not recorded, yet readings/register events/rejects of it are in the database`);
      continue;
    }
    check.recorded++;
    assert.equal(Number(r.rows_read), f.lines, `${name}: rows_read`);
    assert.equal(readings, Number(r.accepted), `${name}: readings in the database vs its record's rows_inserted + rows_duplicate`);
    assert.equal(Number(r.events), f.registers, `${name}: register events`);
    assert.equal(Number(r.rejects), Number(r.rows_rejected), `${name}: reject_counts vs its record's rows_rejected`);
    check.readings += readings;
    check.registerEvents += Number(r.events);
    check.rejected += Number(r.rejects);
  }
  const totals = await pool.query<{ events: string; rejects: string; ingests: string }>(
    `SELECT (SELECT count(*) FROM register_events) AS events,
            (SELECT coalesce(sum(count), 0) FROM reject_counts) AS rejects, (SELECT count(*) FROM file_ingests) AS ingests`,
  );
  const t = totals.rows[0];
  assert.equal(Number(t.events), check.registerEvents, `${label}: register events of no file`);
  assert.equal(Number(t.rejects), check.rejected, `${label}: reject counts of no recorded file`);
  assert.equal(Number(t.ingests), check.recorded + check.failed, `${label}: ingest records of other files`);
  return check;
}

// ---------------------------------------------------------------------------------------------------
// The same database as a clean ingest
// ---------------------------------------------------------------------------------------------------

/** Every column of every reading (name instead of name_id; epoch instead of the session's time zone). */
const READING_ROW = `row(nm.name, extract(epoch FROM r.tstamp), r.tstamp_src, r.load_src, r.seq, r.freq, r.mag, r.tamb, r.tsky,
  r.wdbm, r.rev, r.azimuth, r.altitude, r.longitude, r.latitude, r.height, r.freq2, r.mag2, r.freq3, r.mag3, r.freq4, r.mag4, r.daylight)::text`;

export async function readingsDigest(pool: pg.Pool): Promise<{ count: number; md5: string }> {
  const { rows } = await pool.query<{ n: string; md5: string | null }>(
    `SELECT count(*) AS n, md5(string_agg(x, E'\\n' ORDER BY name, tstamp)) AS md5
       FROM (SELECT nm.name, r.tstamp, ${READING_ROW} AS x FROM readings r JOIN names nm USING (name_id)) s`,
  );
  return { count: Number(rows[0].n), md5: rows[0].md5 ?? '' };
}

/** Readings per name and UTC hour: where two databases differ, when their digests do. */
async function readingsPerHour(pool: pg.Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ k: string; n: string; md5: string }>(
    `SELECT nm.name || ' ' || to_char(r.tstamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS k, count(*) AS n,
            md5(string_agg(${READING_ROW}, E'\\n' ORDER BY r.tstamp)) AS md5
       FROM readings r JOIN names nm USING (name_id) GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.k, `${r.n} rows, md5 ${r.md5}`]));
}

export interface DbState {
  readings: { count: number; md5: string };
  registry: Awaited<ReturnType<typeof dumpRegistry>>;
  rejects: unknown[];
  ingests: unknown[];
}

export async function dbState(db: Pick<TestDatabase, 'pool'>): Promise<DbState> {
  return { readings: await readingsDigest(db.pool), registry: await dumpRegistry(db as TestDatabase), ...(await fileOutcomes(db)) };
}

/** Asserts `actual` equals the clean ingest `reference`; on a readings mismatch, names the hours that differ. */
export async function assertSameState(actualDb: Pick<TestDatabase, 'pool'>, referenceDb: Pick<TestDatabase, 'pool'>, reference: DbState, label: string): Promise<DbState> {
  const actual = await dbState(actualDb);
  if (actual.readings.md5 !== reference.readings.md5 || actual.readings.count !== reference.readings.count) {
    const [a, r] = await Promise.all([readingsPerHour(actualDb.pool), readingsPerHour(referenceDb.pool)]);
    const keys = [...new Set([...a.keys(), ...r.keys()])].sort().filter((k) => a.get(k) !== r.get(k));
    assert.fail(
      `${label}: readings differ from the clean ingest (${actual.readings.count} vs ${reference.readings.count} rows); ` +
        `${keys.length} name-hours differ, e.g.\n${keys.slice(0, 10).map((k) => `  ${k}: ${a.get(k) ?? 'none'} vs ${r.get(k) ?? 'none'}`).join('\n')}`,
    );
  }
  assert.deepEqual(actual.registry, reference.registry, `${label}: photometers / name_to_mac / register events`);
  assert.deepEqual(actual.rejects, reference.rejects, `${label}: reject_counts`);
  assert.deepEqual(actual.ingests, reference.ingests, `${label}: file_ingests`);
  return actual;
}

/** The `ingest.reread_pending` marker (src/ingest/pending.ts): set while registrations wait for a re-read of other files. */
export async function rereadPending(pool: pg.Pool): Promise<boolean> {
  const { rowCount } = await pool.query(`SELECT 1 FROM settings WHERE key = 'ingest.reread_pending'`);
  return (rowCount ?? 0) > 0;
}

export { databaseOn } from '../helpers/db.js';

// ---------------------------------------------------------------------------------------------------
// The world of a kill test
// ---------------------------------------------------------------------------------------------------

export interface KillWorld {
  dir: string;
  config: string;
  files: FileInfo[];
  /** Cleanly ingested (timed): what every other database must end up equal to. */
  reference: TestDatabase;
  referenceState: DbState;
  /** Inventoried, not ingested: for the runs under test. */
  others: TestDatabase[];
  /** How long the clean ingest took (kills are drawn within a file's load time of a commit). */
  loadMs: number;
  drop(): Promise<void>;
}

/** Generated archives (`gen`), inventoried into 1 + `others` databases; the first gets a clean, timed ingest. */
export async function killWorld(label: string, others: number, gen: { photometers: number; days: number }): Promise<KillWorld> {
  const dir = tempDir(label);
  const made = Promise.all(Array.from({ length: others + 1 }, () => setupDatabase(label.replace(/-/g, '_'))));
  const g = generate(path.join(dir, 'data'), gen);
  const config = writeConfig(dir, { host: label, data_dirs: [path.join(dir, 'data')] });
  const [reference, ...rest] = await made;
  for (const d of [reference, ...rest]) {
    const inv = await tessdb(d, ['inventory', '-q', '-c', config]);
    assert.equal(inv.code, 0, inv.stderr);
  }
  const p = spawnTessdb(reference.url, ['ingest', '-q', '-c', config]);
  const exit = await p.exited;
  assert.equal(exit.code, 0, p.stderr());
  const referenceState = await dbState(reference);
  assert.equal(referenceState.readings.count, g.readings);
  return {
    dir,
    config,
    files: describeFiles(g.files),
    reference,
    referenceState,
    others: rest,
    loadMs: exit.at - p.startedAt,
    async drop() {
      await Promise.all([reference, ...rest].map((d) => d.drop()));
      removeDir(dir);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// kill -9 at random moments
// ---------------------------------------------------------------------------------------------------

/**
 * Runs `tessdb ARGS` and SIGKILLs it once `when` resolves, unless it ended before. `when` gets a
 * function telling whether the process still runs (to stop waiting when it ended).
 */
export async function runAndKill(
  url: string,
  args: string[],
  when: (running: () => boolean) => Promise<void>,
): Promise<{ killed: boolean; code: number | null; stderr: string; ms: number; killedAfterMs: number }> {
  const p = spawnTessdb(url, args);
  let killed = false;
  let killedAfterMs = 0;
  const killer = when(p.running).then(() => {
    if (p.running()) {
      killed = p.child.kill('SIGKILL');
      killedAfterMs = Date.now() - p.startedAt;
    }
  });
  const exit = await p.exited;
  await killer;
  return { killed: killed && exit.signal === 'SIGKILL', code: exit.code, stderr: p.stderr(), ms: exit.at - p.startedAt, killedAfterMs };
}

/** Waits `ms`, or less if the process ends. */
async function sleepWhile(running: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (running() && Date.now() < until) await sleep(Math.min(20, until - Date.now()));
}

/** Whether a tessdb process (application_name 'tessdb') is connected to this database. */
async function tessdbConnected(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tessdb' AND pid <> pg_backend_pid()`,
  );
  return Number(rows[0].n) > 0;
}

async function recordedFiles(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM file_ingests WHERE status <> 'failed'`);
  return Number(rows[0].n);
}

export interface KillFigures {
  seed: number;
  kills: number;
  /** Kills that hit a running process (the others found it finished). */
  hit: number;
  /** Kills that left registrations waiting for the re-read of other files (the `ingest.reread_pending` marker). */
  hitBeforeReread: number;
  /** Readings committed by runs that were then killed (the rest by the normal run). */
  readingsByKilledRuns: number;
  /** Files committed by runs that were then killed. */
  filesByKilledRuns: number;
  finalRun: { code: number | null; ms: number; files: number };
  lines: string[];
}

/**
 * `kills` times: `tessdb ingest -c CONFIG --jobs J` SIGKILLed at a random point of its run, the
 * records checked after each kill; then a normal run, which must exit 0 and leave every file recorded.
 * The point is drawn in terms of the work, so that it does not depend on how fast the machine is
 * today: once the process has connected and k more files are committed (k uniform from 0 to
 * 1.5 × files / kills, so that the kills spread over the whole set), after a further random part of one
 * file's load time (`loadMs` / files). With k = 0 that is the start-up or the first files' transactions;
 * once every file is recorded, the re-read pass if one is pending.
 */
export async function killScenario(o: {
  db: TestDatabase;
  config: string;
  files: FileInfo[];
  kills: number;
  seed: number;
  /** How long a clean run over all the files took. */
  loadMs: number;
  jobsFor: (i: number) => number;
  log?: (line: string) => void;
}): Promise<KillFigures> {
  const random = rng(o.seed);
  const fileMs = o.loadMs / o.files.length;
  const maxK = Math.max(1, Math.ceil((1.5 * o.files.length) / o.kills));
  const fig: KillFigures = { seed: o.seed, kills: o.kills, hit: 0, hitBeforeReread: 0, readingsByKilledRuns: 0, filesByKilledRuns: 0, finalRun: { code: null, ms: 0, files: 0 }, lines: [] };
  for (let i = 0; i < o.kills; i++) {
    const jobs = o.jobsFor(i);
    const committed = await checkRecords(o.db.pool, o.files, `before kill ${i + 1}`);
    const left = o.files.length - committed.recorded;
    const k = left === 0 ? 0 : Math.min(left - 1, Math.floor(random() * (maxK + 1)));
    const extra = Math.round(random() * fileMs);
    const target = committed.recorded + k;
    const r = await runAndKill(o.db.url, ['ingest', '-q', '-c', o.config, '--jobs', String(jobs)], async (running) => {
      while (running() && !(await tessdbConnected(o.db.pool))) await sleep(20);
      while (running() && (await recordedFiles(o.db.pool)) < target) await sleep(20);
      await sleepWhile(running, extra);
    });
    const after = await checkRecords(o.db.pool, o.files, `after kill ${i + 1} (--jobs ${jobs}, ${k} files + ${extra} ms)`);
    const pending = await rereadPending(o.db.pool);
    if (r.killed) {
      fig.hit++;
      fig.readingsByKilledRuns += after.readings - committed.readings;
      fig.filesByKilledRuns += after.recorded - committed.recorded;
      if (pending) fig.hitBeforeReread++;
    } else {
      assert.equal(r.code, 0, `run ${i + 1} ended by itself before its kill, but with exit code ${r.code}:\n${r.stderr}`);
    }
    const line = `kill ${i + 1}: --jobs ${jobs}, after ${k} more files + ${extra} ms: ${r.killed ? `killed at ${r.killedAfterMs} ms` : `had exited ${r.code} after ${r.ms} ms`}; ` +
      `files recorded ${committed.recorded} → ${after.recorded} of ${o.files.length}, readings ${committed.readings} → ${after.readings}${pending ? ', re-read pending' : ''}`;
    fig.lines.push(line);
    o.log?.(line);
  }
  const started = Date.now();
  const final = spawnTessdb(o.db.url, ['ingest', '-c', o.config, '--json']);
  const exit = await final.exited;
  assert.equal(exit.code, 0, `the normal run after the kills exited ${exit.code}:\n${final.stderr()}`);
  const summary = JSON.parse(final.stdout()) as { files: number };
  fig.finalRun = { code: exit.code, ms: Date.now() - started, files: summary.files };
  const done = await checkRecords(o.db.pool, o.files, 'after the normal run');
  assert.equal(done.recorded, o.files.length, 'every file is recorded after the normal run');
  assert.equal(await rereadPending(o.db.pool), false, 'no re-read left pending after the normal run');
  return fig;
}
