/**
 * kill -9 of `tessdb ingest` at random moments of a multi-file run, 20 times, then a normal run
 * (issue #7; the quick variant is test/faults/ingest-kill.test.ts).
 *
 * Done: 48 hourly archive files (70 photometers over 2 days: 201 600 readings, 216 register messages
 * — boot registrations in hour 0, a rename and a recalibration in hour 24 — and 70 retained replays)
 * are inventoried. A clean `tessdb ingest` into a second database is timed. Then 20 times:
 * `tessdb ingest --jobs J` (J = 1, 2, 3 in turn) is SIGKILLed at a random point of its run (seeded,
 * printed; TESSDB_FAULT_SEED repeats the draws): once it has connected and 0–4 more files are
 * committed, after a random part of one file's load time — in the start-up, inside file
 * transactions, around commits, or in the re-read pass (killScenario in test/faults/ingest-helpers.ts);
 * then a normal run.
 * Must hold: after every kill, each file is either recorded with exactly its readings, register
 * events and reject counts in the database, or not recorded with nothing of it there (no half-recorded
 * file; nothing in the database that belongs to no file); the normal run exits 0; then every file is
 * recorded once, no re-read is left pending, and the readings (count and md5 over every column of
 * every row in key order), photometers, name mappings, register events, reject counts and ingest
 * records equal those of the clean ingest.
 */
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../../helpers/db.js';
import { assertSameState, faultSeed, killScenario, killWorld, type DbState, type FileInfo, type KillWorld } from '../ingest-helpers.js';

const KILLS = 20;

let w: KillWorld;
let files: FileInfo[];
let config: string;
let reference: TestDatabase;
let referenceState: DbState;
let db: TestDatabase;
let loadMs: number;

before(async () => {
  w = await killWorld('ingest-kill20', 1, { photometers: 70, days: 2 });
  ({ files, config, reference, referenceState, loadMs } = w);
  [db] = w.others;
});

after(async () => w?.drop());

test(`${KILLS} kills at random moments of a multi-file ingest, then a normal run: the same database as a clean ingest`, async (t) => {
  const seed = faultSeed();
  const registers = files.reduce((n, f) => n + f.registers, 0);
  t.diagnostic(`seed ${seed} (TESSDB_FAULT_SEED=${seed} repeats the draws); ${files.length} files, ${referenceState.readings.count} readings, ${registers} register messages; clean run ${loadMs} ms`);
  const fig = await killScenario({
    db, config, files, kills: KILLS, seed, loadMs, jobsFor: (i) => (i % 3) + 1,
    log: (line) => t.diagnostic(line),
  });
  await assertSameState(db, reference, referenceState, `after ${KILLS} kills (seed ${seed})`);
  t.diagnostic(
    `figures: kill -9 ×${fig.kills}: ${fig.hit} hit a running ingest (${fig.hitBeforeReread} with a re-read pending), ${fig.filesByKilledRuns} files committed by killed runs, ` +
      `${fig.readingsByKilledRuns} readings committed by killed runs; final run exit 0 in ${fig.finalRun.ms} ms over ${fig.finalRun.files} files; ` +
      `${referenceState.readings.count} readings at risk: lost 0, duplicated 0 (table equal to a clean ingest)`,
  );
});
