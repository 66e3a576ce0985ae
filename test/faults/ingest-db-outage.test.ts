/**
 * The database goes away during `tessdb ingest` (quick variant on the shared test server; the real
 * server stopped for 60 s and restarted is test/faults/slow/ingest-postgres-restart.test.ts).
 *
 * Done: 24 hourly archive files (20 photometers, 28 800 readings) are inventoried and ingested with
 * --jobs 2; once a few files are recorded, the database refuses new connections
 * (ALLOW_CONNECTIONS false) and every connection to it is terminated; the outage lasts until ingest
 * has said it waits and 3 s more, then connections are allowed again.
 * Must hold: ingest waits (one warning when the outage starts, one when it ends), resumes and exits 0;
 * every file recorded once with exactly its rows; readings (md5 over all rows), registry, rejects and
 * ingest records equal a clean ingest. With `ingest.db_retry_s = 2` and an outage that outlasts it:
 * exit 1 with one line naming the reason and the setting, whole files only in the database, and a
 * re-run completes to the same state as a clean ingest.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { onServer, type TestDatabase } from '../helpers/db.js';
import { generate, removeDir, setupDatabase, tempDir, tessdb, writeConfig } from '../ingest/helpers.js';
import { assertSameState, checkRecords, dbState, describeFiles, spawnTessdb, waitFor, sleep, type DbState, type FileInfo } from './ingest-helpers.js';

let dir: string;
let config: string;
let files: FileInfo[];
let reference: TestDatabase;
let referenceState: DbState;
let waits: TestDatabase;
let givesUp: TestDatabase;

const admin = (sql: string): Promise<unknown> => onServer((c) => c.query(sql));

const dbName = (d: TestDatabase) => new URL(d.url).pathname.slice(1);

/** No new connections to `d`, and its open ones terminated. */
async function cutOff(d: TestDatabase): Promise<void> {
  await admin(`ALTER DATABASE "${dbName(d)}" ALLOW_CONNECTIONS false`);
  await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName(d)}'`);
}

async function restore(d: TestDatabase): Promise<void> {
  await admin(`ALTER DATABASE "${dbName(d)}" ALLOW_CONNECTIONS true`);
}

async function recorded(d: TestDatabase): Promise<number> {
  const { rows } = await d.pool.query<{ n: string }>('SELECT count(*) AS n FROM file_ingests');
  return Number(rows[0].n);
}

before(async () => {
  dir = tempDir('ingest-outage');
  const made = Promise.all([setupDatabase('ingest_outage'), setupDatabase('ingest_outage'), setupDatabase('ingest_outage')]);
  const g = generate(path.join(dir, 'data'), { photometers: 20, days: 1 });
  files = describeFiles(g.files);
  config = writeConfig(dir, { host: 'outage', data_dirs: [path.join(dir, 'data')] });
  [reference, waits, givesUp] = await made;
  for (const d of [reference, waits, givesUp]) {
    const inv = await tessdb(d, ['inventory', '-q', '-c', config]);
    assert.equal(inv.code, 0, inv.stderr);
  }
  const clean = await tessdb(reference, ['ingest', '-q', '-c', config]);
  assert.equal(clean.code, 0, clean.stderr);
  referenceState = await dbState(reference);
  assert.equal(referenceState.readings.count, g.readings);
});

after(async () => {
  for (const d of [waits, givesUp]) if (d) await restore(d).catch(() => undefined);
  await Promise.all([reference?.drop(), waits?.drop(), givesUp?.drop()]);
  removeDir(dir);
});

test('connections refused and cut mid-run: ingest waits, resumes and exits 0 with the same database as a clean ingest', async (t) => {
  const p = spawnTessdb(waits.url, ['ingest', '-c', config, '--jobs', '2', 'ingest.db_retry_s=120']);
  let atOutage = 0;
  let outageMs = 0;
  try {
    await waitFor(() => `a few files recorded\n${p.stderr()}`, async () => !p.running() || (await recorded(waits)) >= 2);
    assert.ok(p.running(), `ingest ended before the outage:\n${p.stderr()}`);
    atOutage = await recorded(waits);
    const cut = Date.now();
    await cutOff(waits);
    await waitFor(() => `ingest to say it waits for the database\n${p.stderr()}`, () => /database unavailable \(/.test(p.stderr()));
    await sleep(3000);
    assert.ok(p.running(), `ingest gave up during a short outage:\n${p.stderr()}`);
    await restore(waits);
    outageMs = Date.now() - cut;
  } finally {
    await restore(waits);
  }
  const exit = await p.exited;
  assert.equal(exit.code, 0, p.stderr());
  const err = p.stderr();
  assert.equal(err.match(/database unavailable \(/g)?.length, 1, err);
  assert.equal(err.match(/database available again after \d+ s: ingest resumes/g)?.length, 1, err);
  const check = await checkRecords(waits.pool, files, 'after the outage');
  assert.equal(check.recorded, files.length);
  await assertSameState(waits, reference, referenceState, 'after the outage');
  t.diagnostic(
    `outage of ${(outageMs / 1000).toFixed(1)} s after ${atOutage} of ${files.length} files: exit 0, ` +
      `${referenceState.readings.count} readings at risk, lost 0, duplicated 0; run took ${((exit.at - p.startedAt) / 1000).toFixed(1)} s`,
  );
});

test('an outage longer than ingest.db_retry_s: exit 1 naming the reason, whole files only, a re-run completes', async (t) => {
  const p = spawnTessdb(givesUp.url, ['ingest', '-c', config, '--jobs', '2', 'ingest.db_retry_s=2']);
  let atOutage = 0;
  try {
    await waitFor(() => `a few files recorded\n${p.stderr()}`, async () => !p.running() || (await recorded(givesUp)) >= 2);
    assert.ok(p.running(), `ingest ended before the outage:\n${p.stderr()}`);
    atOutage = await recorded(givesUp);
    await cutOff(givesUp);
    await waitFor(() => `ingest to give up\n${p.stderr()}`, () => !p.running(), 60_000);
  } finally {
    await restore(givesUp);
  }
  const exit = await p.exited;
  assert.equal(exit.code, 1, p.stderr());
  const fatal = p.stderr().split('\n').filter((l) => l.startsWith('tessdb: '));
  assert.equal(fatal.length, 1, p.stderr());
  assert.match(fatal[0], /^tessdb: database unavailable for \d+ s \(ingest\.db_retry_s = 2\): .+; files loaded so far are recorded, run `tessdb ingest` again/);
  const partial = await checkRecords(givesUp.pool, files, 'after giving up');
  assert.ok(partial.recorded < files.length, 'the run stopped before the end');
  const again = await tessdb(givesUp, ['ingest', '-q', '-c', config]);
  assert.equal(again.code, 0, again.stderr);
  const check = await checkRecords(givesUp.pool, files, 'after the re-run');
  assert.equal(check.recorded, files.length);
  await assertSameState(givesUp, reference, referenceState, 'gave up, then re-run');
  t.diagnostic(`outage longer than ingest.db_retry_s=2 after ${atOutage} files: exit 1 (${fatal[0].slice(0, 120)}…); ${partial.recorded} files recorded whole; re-run exit 0, lost 0, duplicated 0`);
});
