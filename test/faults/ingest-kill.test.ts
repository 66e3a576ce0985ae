/**
 * kill -9 of `tessdb ingest`, quick variant (the long one, 20 kills over ~200 k readings, is
 * test/faults/slow/ingest-kill.test.ts).
 *
 * Done: 24 hourly archive files (20 photometers, 28 800 readings, boot registrations in hour 0, a
 * rename and a recalibration in hour 12, retained replays) are inventoried; `tessdb ingest` (--jobs 3,
 * 2, 1) is SIGKILLed 3 times at random points of its run (seeded: TESSDB_FAULT_SEED; see
 * killScenario in ingest-helpers.ts), then run normally.
 * Must hold: after every kill each file is either recorded with exactly its readings, register events
 * and reject counts in the database or not recorded with nothing of it there; the normal run exits 0;
 * then every file is recorded once, and readings (md5 over all rows), photometers, name mappings,
 * register events, reject counts and ingest records equal a clean ingest into another database.
 *
 * Also: a run killed after committing registrations but before reading again the files they make
 * loadable (files loaded in parallel with the registrations, their readings rejected as
 * unregistered): the next run reads them again — before the `ingest.reread_pending` marker those
 * readings stayed out of the database for good.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { ingestFile } from '../../src/ingest/ingest-file.js';
import { pendingFiles } from '../../src/ingest/pending.js';
import { RegistryCache } from '../../src/ingest/registry-cache.js';
import { ReadingLoader } from '../../src/load/loader.js';
import { NameIds } from '../../src/load/names.js';
import { PartitionManager } from '../../src/load/partitions.js';
import type { TestDatabase } from '../helpers/db.js';
import { count, tessdb, tessdbJson } from '../ingest/helpers.js';
import { assertSameState, checkRecords, faultSeed, killScenario, killWorld, rereadPending, type DbState, type FileInfo, type KillWorld } from './ingest-helpers.js';

let w: KillWorld;
let files: FileInfo[];
let config: string;
let reference: TestDatabase;
let referenceState: DbState;
let killed: TestDatabase;
let interrupted: TestDatabase;
let loadMs: number;

before(async () => {
  w = await killWorld('ingest-kill', 2, { photometers: 20, days: 1 });
  ({ files, config, reference, referenceState, loadMs } = w);
  [killed, interrupted] = w.others;
});

after(async () => w?.drop());

test('3 kills at random moments, then a normal run: the same database as a clean ingest', async (t) => {
  const seed = faultSeed();
  t.diagnostic(`seed ${seed} (TESSDB_FAULT_SEED=${seed} repeats this run); clean run ${loadMs} ms`);
  const fig = await killScenario({
    db: killed, config, files, kills: 3, seed, loadMs, jobsFor: (i) => [3, 2, 1][i % 3],
  });
  for (const line of fig.lines) t.diagnostic(line);
  await assertSameState(killed, reference, referenceState, `after 3 kills (seed ${seed})`);
  t.diagnostic(
    `kill -9 ×${fig.kills} (${fig.hit} hit a running ingest, ${fig.hitBeforeReread} before a pending re-read): ` +
      `${referenceState.readings.count} readings at risk, lost 0, duplicated 0; final run ${fig.finalRun.ms} ms over ${fig.finalRun.files} files, exit 0`,
  );
});

test('a run killed after committing registrations, before re-reading the files they make loadable: the next run re-reads them', async () => {
  const hour = (h: number) => files[h].path;
  // Hours 1 and 2 loaded first, e.g. by parallel jobs that read the registry before hour 0 committed:
  // every reading unregistered.
  const first = await tessdbJson(interrupted, ['ingest', '-c', config, '--file', hour(1), '--file', hour(2)]);
  assert.equal(first.inserted, 0);
  assert.equal(first.rejectsByReason.unregistered, files[1].readings + files[2].readings);
  // Hour 0 (the registrations) committed the way a run's worker commits it; the run then dies
  // before its re-read pass: that is ingestFile without the rest of ingestFiles.
  const pool = new pg.Pool({ connectionString: interrupted.url, max: 2 });
  try {
    const [file0] = (await pendingFiles(pool, { host: 'ingest-kill', reprocess: false })).filter((f) => f.path === hour(0));
    assert.ok(file0, 'hour 0 is pending');
    const r = await ingestFile(file0, {
      pool,
      loader: new ReadingLoader(new NameIds(pool), new PartitionManager(), { requireAuthorisation: false }),
      registry: new RegistryCache(),
      source: { topicPrefix: 'STARS4ALL', batchLines: 5000 },
      batchRows: 10_000,
    });
    assert.equal(r.status, 'loaded');
    assert.equal(r.inserted, files[0].readings);
  } finally {
    await pool.end();
  }
  assert.equal(await rereadPending(interrupted.pool), true, 'the registrations left the re-read marker');
  await checkRecords(interrupted.pool, files, 'after the interrupted run');

  // The next run has nothing new to load, and reads hours 1 and 2 again.
  const next = await tessdbJson(interrupted, ['ingest', '-c', config, '--file', hour(0), '--file', hour(1), '--file', hour(2)]);
  assert.equal(next.files, 0);
  assert.equal(next.reread, 2);
  assert.equal(next.inserted, files[1].readings + files[2].readings);
  assert.equal(await rereadPending(interrupted.pool), false);
  const check = await checkRecords(interrupted.pool, files, 'after the next run');
  assert.equal(check.readings, files[0].readings + files[1].readings + files[2].readings);
  assert.equal(await count(interrupted, `SELECT count(*) FROM reject_counts WHERE reason = 'unregistered'`), 0);
  // And the rest loads into the same database as a clean ingest.
  const rest = await tessdb(interrupted, ['ingest', '-q', '-c', config, '--jobs', '2']);
  assert.equal(rest.code, 0, rest.stderr);
  await assertSameState(interrupted, reference, referenceState, 'interrupted before the re-read, then completed');
});
