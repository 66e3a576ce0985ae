/**
 * Issue 3, "Done when" 1: ingesting the same files twice, in a different order, with parallel jobs,
 * or split across two runs gives identical readings, photometer history and counts; a re-run
 * reports 0 inserted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../helpers/db.js';
import {
  dumpReadings,
  dumpRegistry,
  fileOutcomes,
  generate,
  ingestRows,
  mkdirp,
  readingCount,
  rejectsByReason,
  removeDir,
  setupDatabase,
  shuffled,
  tempDir,
  tessdbJson,
  writeConfig,
} from './helpers.js';

let dir: string;
/** Files holding register messages (hour 0 and the rename hour) and all the others, in two data dirs. */
let part1: string;
let part2: string;
let files: string[]; // every archive, chronological
let expectedReadings: number;
let config: string;
let reference: TestDatabase;
let referenceState: Awaited<ReturnType<typeof state>>;
let dbs: TestDatabase[] = [];
/** Databases made (and set up) in parallel in before(), handed out one per test. */
function db(): TestDatabase {
  const d = spare.shift();
  assert.ok(d, 'not enough databases prepared in before()');
  return d;
}
let spare: TestDatabase[] = [];

/** Everything that must not depend on how the files were ingested. */
async function state(d: TestDatabase) {
  return { readings: await dumpReadings(d), registry: await dumpRegistry(d), ...(await fileOutcomes(d)) };
}

function assertSameState(actual: Awaited<ReturnType<typeof state>>, label: string) {
  assert.equal(actual.readings.length, referenceState.readings.length, `${label}: number of readings`);
  assert.deepEqual(actual.readings, referenceState.readings, `${label}: readings`);
  assert.deepEqual(actual.registry, referenceState.registry, `${label}: photometers / name_to_mac / register events`);
  assert.deepEqual(actual.rejects, referenceState.rejects, `${label}: reject_counts`);
  assert.deepEqual(actual.ingests, referenceState.ingests, `${label}: file_ingests`);
}

/** A complete load of the sample: every file read, the 8 with invalid lines loaded with errors. */
function assertLoadedWithInvalidLines(s: { files: number; failed: number; withErrors: number }) {
  assert.equal(s.files, files.length);
  assert.equal(s.failed, 0);
  assert.equal(s.withErrors, 8);
}

const fileArgs = (list: string[]) => list.flatMap((f) => ['--file', f]);

before(async () => {
  dir = tempDir('ingest-idem');
  const gen = path.join(dir, 'gen');
  const made = Promise.all(Array.from({ length: 5 }, () => setupDatabase('ingest_idem')));
  // 2 photometers over 2 days: boot registrations, a rename and a recalibration on day 2, retained
  // replays after the reconnect, and a few invalid lines.
  const g = generate(gen, { photometers: 2, days: 2, invalidLines: true });
  expectedReadings = g.readings;
  part1 = mkdirp(path.join(dir, 'part1'));
  part2 = mkdirp(path.join(dir, 'part2'));
  const registerHours = new Set([0, g.files.length / 2]);
  files = g.files.map((f, h) => {
    const to = path.join(registerHours.has(h) ? part1 : part2, path.basename(f));
    fs.renameSync(f, to);
    return to;
  });
  files.sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
  config = writeConfig(dir, { host: 'idem', data_dirs: [part1, part2] });
  dbs = await made;
  spare = [...dbs];
  reference = db();
  // The reference: one backfill, files in their natural (time) order.
  // Invalid lines make the first backfill exit 1.
  assertLoadedWithInvalidLines(await tessdbJson(reference, ['backfill', '-c', config], 1));
  referenceState = await state(reference);
});

after(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  removeDir(dir);
});

test('the reference load has every valid reading of a registered photometer, and counts the rest', async () => {
  assert.equal(await readingCount(reference), expectedReadings);
  const rejects = await rejectsByReason(reference);
  assert.deepEqual(rejects, { bad_line: 8, invalid_json: 8, retained: 2 });
  assert.equal(referenceState.ingests.length, files.length);
  assert.deepEqual(referenceState.registry.nameToMac.map((m: any) => m.name), ['stars1', 'stars1r', 'stars2']);
});

test('ingesting the same files again changes nothing and reports 0 inserted', async () => {
  const again = await tessdbJson(reference, ['ingest', '-c', config]);
  assert.equal(again.files, 0);
  assert.equal(again.inserted, 0);
  const re = await tessdbJson(reference, ['ingest', '-c', config, '--reprocess'], 1);
  assert.equal(re.files, files.length);
  assert.equal(re.inserted, 0);
  assert.equal(re.duplicates, expectedReadings);
  assert.equal(re.read, referenceState.ingests.reduce((n, i) => n + i.read, 0));
  // Reject counts are replaced per file, never added up.
  assert.deepEqual(await rejectsByReason(reference), { bad_line: 8, invalid_json: 8, retained: 2 });
  const after = await state(reference);
  assert.deepEqual(after.readings, referenceState.readings);
  assert.deepEqual(after.registry, referenceState.registry);
  assert.deepEqual(after.rejects, referenceState.rejects);
  // file_ingests keeps one row per file and content, now recording the duplicates.
  const rows = await ingestRows(reference);
  assert.equal(rows.size, files.length);
  for (const r of rows.values()) assert.equal(r.rows_inserted, 0, r.path);
  const backfill = await tessdbJson(reference, ['backfill', '-c', config]);
  assert.equal(backfill.inserted, 0);
  assert.equal(backfill.files, 0);
});

test('files ingested newest first (ingest --file) give the same database', async () => {
  const d = db();
  assertLoadedWithInvalidLines(await tessdbJson(d, ['ingest', '-c', config, ...fileArgs([...files].reverse())], 1));
  assertSameState(await state(d), 'reverse order');
  const again = await tessdbJson(d, ['ingest', '-c', config, ...fileArgs(files)]);
  assert.equal(again.files, 0);
  assert.equal(again.inserted, 0);
});

test('files ingested in a shuffled order give the same database', async () => {
  const d = db();
  assertLoadedWithInvalidLines(await tessdbJson(d, ['ingest', '-c', config, ...fileArgs(shuffled(files, 11))], 1));
  assertSameState(await state(d), 'shuffled');
});

test('parallel jobs (backfill --jobs 3) give the same database', async () => {
  const d = db();
  assertLoadedWithInvalidLines(await tessdbJson(d, ['backfill', '-c', config, '--jobs', '3'], 1));
  assertSameState(await state(d), '--jobs 3');
});

test('split across two runs (the files with the registrations last) gives the same database', async () => {
  const d = db();
  const first = await tessdbJson(d, ['backfill', '-c', config, `data_dirs=['${part2}']`], 1);
  // Without the registrations nothing is attributable yet: counted, not loaded.
  assert.equal(first.inserted, 0);
  assert.ok(first.rejectsByReason.unregistered > 0, JSON.stringify(first.rejectsByReason));
  assert.equal(await readingCount(d), 0);
  // The second run brings the register messages: the readings rejected before become loadable.
  const second = await tessdbJson(d, ['backfill', '-c', config]);
  assert.equal(second.inserted, expectedReadings);
  assertSameState(await state(d), 'split runs');
  const third = await tessdbJson(d, ['backfill', '-c', config]);
  assert.equal(third.files, 0);
  assert.equal(third.inserted, 0);
});
