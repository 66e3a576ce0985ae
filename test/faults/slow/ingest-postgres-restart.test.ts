/**
 * PostgreSQL stopped for 60 s and started again during `tessdb ingest` (issue #7). The quick
 * variant (connections refused and cut on the shared server) is test/faults/ingest-db-outage.test.ts.
 *
 * Done: an own embedded PostgreSQL on a free port (the shared test server is never stopped); 24
 * hourly archive files (40 photometers over a day: 57 600 readings, boot registrations, a rename and
 * a recalibration) inventoried into three databases on it; a clean ingest into the first. Then
 * `tessdb ingest --jobs 2` into the second; once 6 files are recorded the server is stopped (`pg_ctl stop -m fast`:
 * every session terminated mid-transaction), kept down 60 s, started again. Then, into the third
 * database, the same with `ingest.db_retry_s = 5`: the server stays down until ingest has given up.
 * Must hold: within the default budget (ingest.db_retry_s = 300) ingest waits, says so (one warning
 * when the outage starts, at most one a minute while it lasts, one when it ends), resumes by itself and exits
 * 0, and the database equals the clean ingest (readings md5 over every row, registry, rejects, ingest
 * records: no loss, no duplicates, every file recorded once). Past its budget it exits 1 with one
 * line naming the reason and the setting, the database holds whole files only, and a re-run
 * completes to the same state as the clean ingest.
 */
import assert from 'node:assert/strict';
import { freePort } from '../../helpers/broker.js';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EmbeddedServer } from '../../../src/db/embedded/server.js';
import type { TestDatabase } from '../../helpers/db.js';
import { generate, removeDir, tempDir, writeConfig } from '../../ingest/helpers.js';
import { runCli } from '../../helpers/cli.js';
import { assertSameState, checkRecords, databaseOn, dbState, describeFiles, sleep, spawnTessdb, waitFor, type DbState, type FileInfo } from '../ingest-helpers.js';

const OUTAGE_MS = 60_000;

let dir: string;
let server: EmbeddedServer;
let serverUrl: string;
let config: string;
let files: FileInfo[];
let reference: TestDatabase;
let referenceState: DbState;
let restarted: TestDatabase;
let givesUp: TestDatabase;
/** How long the preparation took, by step (for the diagnostics). */
const prepared: string[] = [];
let stepStarted = Date.now();
function step(what: string): void {
  prepared.push(`${what} ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`);
  stepStarted = Date.now();
}


const tessdbOn = (d: TestDatabase, args: string[]) => runCli(args, { env: { TESSDB_DATABASE_URL: d.url } });

async function recorded(d: TestDatabase): Promise<number> {
  const { rows } = await d.pool.query<{ n: string }>('SELECT count(*) AS n FROM file_ingests');
  return Number(rows[0].n);
}

before(async () => {
  dir = tempDir('ingest-pg-restart');
  server = new EmbeddedServer(path.join(dir, 'pg'), await freePort(), { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  stepStarted = Date.now();
  serverUrl = await server.startKept();
  step('embedded PostgreSQL initdb + start');
  const g = generate(path.join(dir, 'data'), { photometers: 40, days: 1 });
  files = describeFiles(g.files);
  config = writeConfig(dir, { host: 'restart', data_dirs: [path.join(dir, 'data')] });
  step('archive files');
  // Set up and inventoried once, then copied.
  const template = await databaseOn(serverUrl, 'inventoried');
  for (const args of [['setup', '-q'], ['inventory', '-q', '-c', config]]) {
    const r = await tessdbOn(template, args);
    assert.equal(r.code, 0, r.stderr);
  }
  await template.pool.end();
  step('setup + inventory');
  reference = await databaseOn(serverUrl, 'reference', 'inventoried');
  restarted = await databaseOn(serverUrl, 'restarted', 'inventoried');
  givesUp = await databaseOn(serverUrl, 'gives_up', 'inventoried');
  step('3 copies');
  const clean = await tessdbOn(reference, ['ingest', '-q', '-c', config]);
  assert.equal(clean.code, 0, clean.stderr);
  step('clean ingest');
  referenceState = await dbState(reference);
  assert.equal(referenceState.readings.count, g.readings);
});

after(async () => {
  await Promise.all([reference, restarted, givesUp].map((d) => d?.pool.end().catch(() => undefined)));
  await server?.stopNow().catch(() => undefined);
  removeDir(dir);
});

test('PostgreSQL stopped for 60 s mid-ingest, then started: ingest waits, resumes, exits 0, nothing lost or doubled', async (t) => {
  t.diagnostic(`prepared: ${prepared.join(', ')}`);
  const p = spawnTessdb(restarted.url, ['ingest', '-c', config, '--jobs', '2']);
  await waitFor(() => `6 files recorded\n${p.stderr()}`, async () => !p.running() || (await recorded(restarted)) >= 6, 120_000);
  assert.ok(p.running(), `ingest ended before the outage:\n${p.stderr()}`);
  const atStop = await recorded(restarted);
  const stopping = Date.now();
  await server.stopNow();
  const stoppedAt = Date.now();
  await waitFor(() => `ingest to say it waits\n${p.stderr()}`, () => /database unavailable \(/.test(p.stderr()));
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
  assert.ok(p.running(), `ingest did not wait out a 60 s outage:\n${p.stderr()}`);
  await server.startKept();
  const startedAt = Date.now();
  const exit = await p.exited;
  const err = p.stderr();
  assert.equal(exit.code, 0, err);
  assert.equal(err.match(/database unavailable \(/g)?.length, 1, err);
  // (and at most one "still unavailable" a minute later, depending on when the backoff's probes fall)
  assert.ok((err.match(/database still unavailable after \d+ s; ingest gives up in \d+ s/g)?.length ?? 0) <= 1, err);
  assert.equal(err.match(/database available again after \d+ s: ingest resumes/g)?.length, 1, err);
  const check = await checkRecords(restarted.pool, files, 'after the restart');
  assert.equal(check.recorded, files.length);
  await assertSameState(restarted, reference, referenceState, 'after the restart');
  t.diagnostic(
    `stopped after ${atStop} of ${files.length} files (stop took ${stoppedAt - stopping} ms), down ${((startedAt - stoppedAt) / 1000).toFixed(1)} s; ` +
      `ingest resumed and exited 0 ${((exit.at - startedAt) / 1000).toFixed(1)} s after the start; ${referenceState.readings.count} readings at risk: lost 0, duplicated 0`,
  );
  for (const line of err.split('\n').filter((l) => /database/.test(l))) t.diagnostic(`ingest said: ${line}`);
});

test('PostgreSQL down longer than ingest.db_retry_s: exit 1 naming the reason, whole files only, a re-run completes', async (t) => {
  const p = spawnTessdb(givesUp.url, ['ingest', '-c', config, '--jobs', '2', 'ingest.db_retry_s=5']);
  await waitFor(() => `6 files recorded\n${p.stderr()}`, async () => !p.running() || (await recorded(givesUp)) >= 6, 120_000);
  assert.ok(p.running(), `ingest ended before the outage:\n${p.stderr()}`);
  const atStop = await recorded(givesUp);
  let exit: Awaited<typeof p.exited>;
  const stopping = Date.now();
  try {
    await server.stopNow();
    await waitFor(() => `ingest to give up\n${p.stderr()}`, () => !p.running(), 120_000);
    exit = await p.exited;
  } finally {
    await server.startKept();
  }
  assert.equal(exit.code, 1, p.stderr());
  const fatal = p.stderr().split('\n').filter((l) => l.startsWith('tessdb: '));
  assert.equal(fatal.length, 1, p.stderr());
  assert.match(fatal[0], /^tessdb: database unavailable for \d+ s \(ingest\.db_retry_s = 5\): .+; files loaded so far are recorded, run `tessdb ingest` again/);
  const partial = await checkRecords(givesUp.pool, files, 'after giving up');
  assert.ok(partial.recorded < files.length);
  const again = await tessdbOn(givesUp, ['ingest', '-q', '-c', config]);
  assert.equal(again.code, 0, again.stderr);
  const check = await checkRecords(givesUp.pool, files, 'after the re-run');
  assert.equal(check.recorded, files.length);
  await assertSameState(givesUp, reference, referenceState, 'gave up, then re-run');
  t.diagnostic(
    `stopped after ${atStop} files; ingest gave up ${((exit.at - stopping) / 1000).toFixed(1)} s later with exit 1: ${fatal[0]}; ` +
      `${partial.recorded} files recorded whole; re-run exit 0; lost 0, duplicated 0`,
  );
});
