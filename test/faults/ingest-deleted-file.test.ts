/**
 * A file deleted between `tessdb inventory` and `tessdb ingest` (issue #7). A file that changes
 * after the inventory (it is then rolled back whole, and loads after a new inventory) is covered by
 * test/ingest/bad-files.test.ts ("a file that changes during ingest…"), files that become unreadable
 * or a directory by the same file's first test.
 *
 * Done: 24 hourly archive files (10 photometers, 14 400 readings) inventoried into two databases;
 * hour 5 deleted; `tessdb ingest --jobs 2`. Then (a) the file restored from a copy with its mtime and
 * `tessdb ingest` again; (b) in the other database, `tessdb inventory` again while it is missing,
 * `tessdb ingest`, then the file restored, inventory, ingest.
 * Must hold: the deleted file is reported by exactly one line on stderr, naming it and saying it was
 * deleted or moved since the inventory; it is recorded as failed with nothing of it loaded; every
 * other file loads whole; exit code 1. (a) The re-run after restoring loads only that file, exits 0,
 * and the database equals a clean ingest. (b) While it is missing, ingest has nothing to do and exits
 * 0, and status counts it as missing; once restored and inventoried it loads, and the database equals
 * a clean ingest.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../helpers/db.js';
import { generate, removeDir, setupDatabase, tempDir, tessdb, tessdbJson, writeConfig } from '../ingest/helpers.js';
import { assertSameState, checkRecords, dbState, describeFiles, type DbState, type FileInfo } from './ingest-helpers.js';

let dir: string;
let config: string;
let files: FileInfo[];
let reference: TestDatabase;
let referenceState: DbState;
let restored: TestDatabase;
let reinventoried: TestDatabase;
let victim: string;
let backup: string;

function deleteVictim(): void {
  fs.rmSync(victim);
}

/** The victim's modification time, in whole seconds (fs.utimesSync with a Date can land a hair below the millisecond it was given). */
let victimMtime: number;

/** Back from the backup, with its size and modification time, as `cp -p` would. */
function restoreVictim(): void {
  fs.copyFileSync(backup, victim);
  fs.utimesSync(victim, victimMtime, victimMtime);
}

before(async () => {
  dir = tempDir('ingest-deleted');
  const made = Promise.all([setupDatabase('ingest_deleted'), setupDatabase('ingest_deleted'), setupDatabase('ingest_deleted')]);
  const g = generate(path.join(dir, 'data'), { photometers: 10, days: 1 });
  files = describeFiles(g.files);
  victim = files[5].path;
  assert.equal(files[5].registers, 0);
  victimMtime = Math.floor(fs.statSync(victim).mtimeMs / 1000) - 60;
  fs.utimesSync(victim, victimMtime, victimMtime);
  backup = path.join(dir, 'backup.ndjson.gz');
  fs.copyFileSync(victim, backup);
  config = writeConfig(dir, { host: 'deleted', data_dirs: [path.join(dir, 'data')] });
  [reference, restored, reinventoried] = await made;
  for (const d of [reference, restored, reinventoried]) {
    const inv = await tessdb(d, ['inventory', '-q', '-c', config]);
    assert.equal(inv.code, 0, inv.stderr);
  }
  const clean = await tessdb(reference, ['ingest', '-q', '-c', config]);
  assert.equal(clean.code, 0, clean.stderr);
  referenceState = await dbState(reference);
});

after(async () => {
  await Promise.all([reference?.drop(), restored?.drop(), reinventoried?.drop()]);
  removeDir(dir);
});

/** Ingest with the victim deleted: one line naming it, the rest loaded, exit 1. */
async function ingestWithoutVictim(d: TestDatabase): Promise<string> {
  deleteVictim();
  const r = await tessdb(d, ['ingest', '-c', config, '--jobs', '2', '--json']);
  assert.equal(r.code, 1, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.files, files.length);
  assert.equal(summary.failed, 1);
  assert.equal(summary.withErrors, 0);
  assert.equal(summary.results.length, 1);
  assert.equal(summary.results[0].path, victim);
  const problems = r.stderr.split('\n').filter((l) => /\b(WARN|ERROR|warn:|error:)/.test(l));
  assert.equal(problems.length, 1, r.stderr);
  assert.ok(problems[0].includes(victim), problems[0]);
  assert.match(problems[0], /failed: file not found: deleted or moved since the inventory \(restore it, or run `tessdb inventory` again\)$/);
  const check = await checkRecords(d.pool, files, 'with the file deleted', { failed: [victim] });
  assert.equal(check.recorded, files.length - 1);
  assert.equal(check.readings, referenceState.readings.count - files[5].readings);
  return problems[0];
}

test('a file deleted after the inventory: one line naming it, the rest loaded, exit 1; restored, it loads and all is as a clean ingest', async (t) => {
  const line = await ingestWithoutVictim(restored);
  restoreVictim();
  const again = await tessdbJson(restored, ['ingest', '-c', config]);
  assert.equal(again.files, 1);
  assert.equal(again.inserted, files[5].readings);
  const check = await checkRecords(restored.pool, files, 'after restoring');
  assert.equal(check.recorded, files.length);
  await assertSameState(restored, reference, referenceState, 'deleted, restored');
  t.diagnostic(`stderr: ${line.replace(dir, '…')}`);
  t.diagnostic(`1 file of ${files.length} deleted (${files[5].readings} readings): the other ${files.length - 1} loaded, exit 1; restored + ingest: exit 0, lost 0, duplicated 0`);
});

test('a file deleted after the inventory, then inventoried as missing: nothing left to do; restored and inventoried, it loads', async () => {
  await ingestWithoutVictim(reinventoried);
  const inv = await tessdbJson(reinventoried, ['inventory', '-c', config]);
  assert.equal(inv.origins.missing, 1);
  const nothing = await tessdbJson(reinventoried, ['ingest', '-c', config]);
  assert.equal(nothing.files, 0);
  const status = await tessdbJson(reinventoried, ['status', '-c', config]);
  assert.equal(status.inventory.missing, 1);
  assert.equal(status.inventory.pending, 0);
  restoreVictim();
  const back = await tessdbJson(reinventoried, ['inventory', '-c', config]);
  assert.equal(back.origins.missing, 0);
  const ok = await tessdbJson(reinventoried, ['ingest', '-c', config]);
  assert.equal(ok.files, 1);
  assert.equal(ok.inserted, files[5].readings);
  await checkRecords(reinventoried.pool, files, 'after restoring and inventory');
  await assertSameState(reinventoried, reference, referenceState, 'deleted, inventoried missing, restored');
  const status2 = await tessdbJson(reinventoried, ['status', '-c', config]);
  assert.equal(status2.inventory.failed, 0);
  assert.equal(status2.inventory.missing, 0);
});
