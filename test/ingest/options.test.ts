/**
 * `tessdb ingest` options: --file, --since/--until, --reprocess, --dry-run, --jobs, --json; files
 * whose content changes are ingested again; `backfill` is inventory + ingest.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../helpers/db.js';
import {
  count,
  mkdirp,
  readingLines,
  registerLine,
  removeDir,
  setupDatabase,
  tempDir,
  tessdb,
  tessdbJson,
  writeArchive,
  writeConfig,
} from './helpers.js';

let dir: string;
let db: TestDatabase;

const readingsOf = (name: string) => count(db, `SELECT count(*) FROM readings JOIN names USING (name_id) WHERE name = $1`, [name]);

/** A data dir of its own and a config with a host of its own, so tests do not see each other's files. */
function area(name: string): { data: string; config: string } {
  const data = mkdirp(path.join(dir, name, 'data'));
  return { data, config: writeConfig(path.join(dir, name), { host: name, data_dirs: [data] }) };
}

before(async () => {
  dir = tempDir('ingest-options');
  db = await setupDatabase('ingest_opts');
});

after(async () => {
  await db?.drop();
  removeDir(dir);
});

test('--dry-run lists what would be ingested and changes nothing', async () => {
  const { data, config } = area('dry');
  const f1 = writeArchive(path.join(data, '1.ndjson.gz'), [registerLine('dry1', 'AA:00:00:00:00:01', '2026-10-01T00:00:00.000Z'), ...readingLines('dry1', '2026-10-01T00:01:00', 4)]);
  const f2 = writeArchive(path.join(data, '2.ndjson.gz'), readingLines('dry1', '2026-10-01T01:00:00', 4));
  const inv = await tessdb(db, ['inventory', '-c', config, '-q']);
  assert.equal(inv.code, 0, inv.stderr);
  const text = await tessdb(db, ['ingest', '-c', config, '--dry-run']);
  assert.equal(text.code, 0, text.stderr);
  assert.deepEqual(text.stdout.trim().split('\n').sort(), [`archive\t${f1}`, `archive\t${f2}`]);
  assert.match(text.stderr, /2 files would be ingested/);
  const json = await tessdbJson(db, ['ingest', '-c', config, '--dry-run']);
  assert.deepEqual(json.map((f: { path: string }) => f.path).sort(), [f1, f2]);
  for (const f of json) {
    assert.equal(f.kind, 'archive');
    assert.match(f.contentHash, /^[0-9a-f]{64}$/);
  }
  assert.equal(await readingsOf('dry1'), 0);
  assert.equal(await count(db, `SELECT count(*) FROM file_ingests i JOIN file_origins o USING (origin_id) WHERE o.host = 'dry'`), 0);
  assert.equal(await count(db, `SELECT count(*) FROM register_events WHERE name = 'dry1'`), 0);
  // Then for real.
  const real = await tessdbJson(db, ['ingest', '-c', config]);
  assert.equal(real.inserted, 8);
  assert.deepEqual(await tessdbJson(db, ['ingest', '-c', config, '--dry-run']), []);
});

test('--since/--until select files by modification time', async () => {
  const { data, config } = area('since');
  const mk = (name: string, month: number) => {
    const f = writeArchive(path.join(data, `${name}.ndjson.gz`), [
      registerLine('since1', 'AA:00:00:00:00:02', '2026-10-01T00:00:00.000Z'),
      ...readingLines('since1', `2026-10-0${month}T00:01:00`, 3),
    ]);
    const t = new Date(Date.UTC(2026, month - 1, 1, 12));
    fs.utimesSync(f, t, t);
    return f;
  };
  mk('jan', 1);
  const feb = mk('feb', 2);
  mk('mar', 3);
  assert.equal((await tessdb(db, ['inventory', '-c', config, '-q'])).code, 0);
  const dry = await tessdbJson(db, ['ingest', '-c', config, '--dry-run', '--since', '2026-01-15', '--until', '2026-03-01T12:00:00Z']);
  assert.deepEqual(dry.map((f: { path: string }) => f.path), [feb]);
  const r1 = await tessdbJson(db, ['ingest', '-c', config, '--until', '2026-01-15']);
  assert.equal(r1.files, 1);
  assert.equal(r1.inserted, 3);
  const r2 = await tessdbJson(db, ['ingest', '-c', config, '--since', '2026-03-01T12:00:00Z']);
  assert.equal(r2.files, 1);
  const left = await tessdbJson(db, ['ingest', '-c', config, '--dry-run']);
  assert.deepEqual(left.map((f: { path: string }) => f.path), [feb]);
  const bad = await tessdb(db, ['ingest', '-c', config, '--since', 'last tuesday']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--since: "last tuesday" is not a date/);
});

test('--jobs must be a whole number from 1 to 64', async () => {
  const { config } = area('jobs');
  for (const j of ['0', '65', 'two']) {
    const r = await tessdb(db, ['ingest', '-c', config, '--jobs', j]);
    assert.equal(r.code, 2, `--jobs ${j}: ${r.stderr}`);
    assert.match(r.stderr, /--jobs must be a whole number from 1 to 64/);
  }
});

test('--file ingests a file without an inventory, once; a file that cannot be read does not stop the others', async () => {
  const { data, config } = area('single');
  const f = writeArchive(path.join(data, 'one.ndjson.gz'), [registerLine('single1', 'AA:00:00:00:00:03', '2026-10-01T00:00:00.000Z'), ...readingLines('single1', '2026-10-01T00:01:00', 7)]);
  const g = writeArchive(path.join(dir, 'elsewhere.ndjson.gz'), readingLines('single1', '2026-10-01T01:00:00', 3));
  // --dry-run with --file records nothing either.
  const dry = await tessdbJson(db, ['ingest', '-c', config, '--file', f, '--dry-run']);
  assert.deepEqual(dry.map((x: { path: string }) => x.path), [f]);
  assert.equal(await count(db, `SELECT count(*) FROM file_origins WHERE host = 'single'`), 0);

  const r = await tessdb(db, ['ingest', '-c', config, '--file', f, '--file', path.join(dir, 'nope.ndjson.gz'), '--file', g]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /nope\.ndjson\.gz: no such file/);
  assert.match(r.stdout, /inserted:\s+10\b/);
  assert.equal(await readingsOf('single1'), 10);
  const origins = await db.pool.query(`SELECT path, kind, size_bytes::int, content_hash FROM file_origins WHERE host = 'single' ORDER BY path`);
  assert.deepEqual(origins.rows.map((o) => o.path), [g, f].sort());
  assert.equal(origins.rows.find((o) => o.path === f).size_bytes, fs.statSync(f).size);

  const again = await tessdb(db, ['ingest', '-c', config, '--file', f, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already ingested \(use --reprocess/);
  assert.equal(JSON.parse(again.stdout).files, 0);
  const re = await tessdbJson(db, ['ingest', '-c', config, '--file', f, '--reprocess']);
  assert.equal(re.files, 1);
  assert.equal(re.inserted, 0);
  assert.equal(re.duplicates, 7);

  // A file that is not an archive: one clear line, exit 1.
  const notArchive = path.join(dir, 'notes.ndjson.gz');
  fs.writeFileSync(notArchive, 'not an archive\n');
  const bad = await tessdb(db, ['ingest', '-c', config, '--file', notArchive]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /notes\.ndjson\.gz: cannot ingest: not a tessdb archive/);
});

test('--json gives the summary with per-file results for files that were not loaded cleanly', async () => {
  const { data, config } = area('json');
  writeArchive(path.join(data, 'ok.ndjson.gz'), [registerLine('json1', 'AA:00:00:00:00:04', '2026-10-01T00:00:00.000Z'), ...readingLines('json1', '2026-10-01T00:01:00', 6)]);
  const bad = writeArchive(path.join(data, 'bad.ndjson.gz'), [...readingLines('json1', '2026-10-01T01:00:00', 3), 'junk']);
  const s = await tessdbJson(db, ['backfill', '-c', config], 1);
  for (const key of ['files', 'failed', 'withErrors', 'read', 'inserted', 'duplicates', 'rejected', 'rejectsByReason', 'reread', 'seconds', 'rowsPerSecond', 'results']) {
    assert.ok(key in s, `--json has no "${key}": ${JSON.stringify(s)}`);
  }
  assert.equal(s.files, 2);
  assert.equal(s.failed, 0);
  assert.equal(s.withErrors, 1);
  assert.equal(s.read, 7 + 4);
  assert.equal(s.inserted, 9);
  assert.equal(s.duplicates, 0);
  assert.equal(s.rejected, 1);
  assert.deepEqual(s.rejectsByReason, { bad_line: 1 });
  assert.equal(s.results.length, 1);
  const [res] = s.results;
  assert.equal(res.path, bad);
  assert.equal(res.status, 'loaded_with_errors');
  assert.equal(res.read, 4);
  assert.equal(res.inserted, 3);
  assert.equal(res.rejected, 1);
  assert.deepEqual(res.rejectsByReason, { bad_line: 1 });
  assert.equal(res.truncated, false);
  assert.match(res.error, /^1 bad input lines, e\.g\. line 4: invalid JSON/);
  assert.equal(typeof res.seconds, 'number');
});

test('a file whose content changes after ingest is ingested again (new content hash)', async () => {
  const { data, config } = area('changes');
  const f = path.join(data, 'growing.ndjson.gz');
  const lines = [registerLine('grow1', 'AA:00:00:00:00:05', '2026-10-01T00:00:00.000Z'), ...readingLines('grow1', '2026-10-01T00:01:00', 10)];
  writeArchive(f, lines);
  const first = await tessdb(db, ['backfill', '-c', config]);
  assert.equal(first.code, 0, first.stderr);
  // The text summary of backfill: the inventory, then the ingest.
  assert.match(first.stdout, /files:\s+1 scanned: 1 new, 0 changed, 0 unchanged, 0 missing/);
  assert.match(first.stdout, /inserted:\s+10\b/);
  const hash1 = (await db.pool.query(`SELECT content_hash FROM file_origins WHERE path = $1`, [f])).rows[0].content_hash;

  writeArchive(f, [...lines, ...readingLines('grow1', '2026-10-01T00:11:00', 5)]);
  const t = new Date(Date.now() + 5000);
  fs.utimesSync(f, t, t);
  const second = await tessdbJson(db, ['backfill', '-c', config]);
  assert.equal(second.files, 1);
  assert.equal(second.inserted, 5);
  assert.equal(second.duplicates, 10);
  assert.equal(await readingsOf('grow1'), 15);
  const versions = await db.pool.query(
    `SELECT i.content_hash, i.rows_inserted::int, i.rows_duplicate::int FROM file_ingests i JOIN file_origins o USING (origin_id)
      WHERE o.path = $1 ORDER BY i.finished_at`,
    [f],
  );
  assert.equal(versions.rows.length, 2);
  assert.equal(versions.rows[0].content_hash, hash1);
  assert.notEqual(versions.rows[1].content_hash, hash1);
  assert.deepEqual(versions.rows.map((v) => [v.rows_inserted, v.rows_duplicate]), [[10, 0], [5, 10]]);

  // The same through --file, without an inventory.
  writeArchive(f, [...lines, ...readingLines('grow1', '2026-10-01T00:11:00', 8)]);
  const third = await tessdbJson(db, ['ingest', '-c', config, '--file', f]);
  assert.equal(third.inserted, 3);
  assert.equal(await readingsOf('grow1'), 18);

  const idle = await tessdbJson(db, ['backfill', '-c', config]);
  assert.equal(idle.files, 0);
  assert.equal(idle.inserted, 0);
});
