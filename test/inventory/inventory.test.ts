/**
 * `tessdb inventory`: origins (host, path, size, mtime, kind, sha256, first/last seen, missing
 * since), hashing only when size or mtime change, `.part` files ignored, replicas matched by
 * content, and `--missing-replicas`.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
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
} from '../ingest/helpers.js';

let dir: string;
let db: TestDatabase;

const sha256 = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

interface Origin {
  host: string;
  path: string;
  size_bytes: number;
  mtime: Date;
  content_hash: string | null;
  kind: string;
  kind_reason: string | null;
  first_seen: Date;
  last_seen: Date;
  missing_since: Date | null;
}

async function origins(host: string): Promise<Map<string, Origin>> {
  const { rows } = await db.pool.query<Origin>(
    `SELECT host, path, size_bytes::int AS size_bytes, mtime, content_hash, kind, kind_reason, first_seen, last_seen, missing_since
       FROM file_origins WHERE host = $1 ORDER BY path`,
    [host],
  );
  return new Map(rows.map((r) => [r.path, r]));
}

before(async () => {
  dir = tempDir('inventory');
  db = await setupDatabase('inventory');
});

after(async () => {
  await db?.drop();
  removeDir(dir);
});

test('inventory records every file with host, path, size, mtime, kind and sha256; .part files are ignored', async () => {
  const data = mkdirp(path.join(dir, 'a', 'data'));
  const config = writeConfig(path.join(dir, 'a'), { host: 'alpha', data_dirs: [data] });
  const arch = writeArchive(path.join(data, '2026/11/01/tessdb_alpha_20261101T000000Z.ndjson.gz'), [
    registerLine('stars1', 'AA:BB:CC:00:00:01', '2026-11-01T00:00:00.000Z'),
    ...readingLines('stars1', '2026-11-01T00:01:00', 20),
  ]);
  const empty = writeArchive(path.join(data, '2026/11/01/tessdb_alpha_20261101T010000Z.ndjson.gz'), []);
  fs.writeFileSync(path.join(data, '2026/11/01/tessdb_alpha_20261101T020000Z.ndjson.gz.part'), 'being written');
  const notArchive = path.join(data, 'notes.ndjson.gz');
  fs.writeFileSync(notArchive, 'just some text\n');
  const csv = path.join(data, 'export.csv');
  fs.writeFileSync(csv, 'name,tstamp,mag\nstars1,2026-11-01T00:00:00Z,20.1\n');
  fs.writeFileSync(path.join(data, 'README.txt'), 'not matched by include');
  fs.mkdirSync(path.join(data, 'dir.ndjson.gz')); // a directory is not a file
  const mtime = new Date('2026-11-01T01:00:00.500Z'); // exact in binary: utimes takes float seconds
  fs.utimesSync(arch, mtime, mtime);

  const r = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(r.host, 'alpha');
  assert.equal(r.origins.scanned, 4);
  assert.equal(r.origins.added, 4);
  assert.equal(r.origins.changed, 0);
  assert.equal(r.origins.missing, 0);
  assert.equal(r.origins.bytesHashed, [arch, empty, notArchive, csv].reduce((n, f) => n + fs.statSync(f).size, 0));
  assert.deepEqual(r.origins.unknownKind.map((u: { path: string }) => u.path), [notArchive]);
  assert.match(r.origins.unknownKind[0].reason, /not a tessdb archive.*"just some text"/);
  assert.equal(r.replicas, null);

  const o = await origins('alpha');
  assert.deepEqual([...o.keys()], [arch, empty, csv, notArchive].sort());
  const a = o.get(arch)!;
  assert.equal(a.size_bytes, fs.statSync(arch).size);
  assert.equal(a.mtime.toISOString(), mtime.toISOString());
  assert.equal(a.content_hash, sha256(arch));
  assert.equal(a.kind, 'archive');
  assert.equal(a.kind_reason, null);
  assert.equal(a.missing_since, null);
  assert.equal(o.get(empty)!.kind, 'archive');
  assert.equal(o.get(csv)!.kind, 'csv');
  assert.equal(o.get(notArchive)!.kind, 'unknown');
  assert.match(o.get(notArchive)!.kind_reason!, /not a tessdb archive/);

  // The text summary: files of unknown kind among the new and changed ones are named.
  fs.writeFileSync(path.join(data, 'notes2.ndjson.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  const text = await tessdb(db, ['inventory', '-c', config]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /host:\s+alpha/);
  assert.match(text.stdout, /files:\s+5 scanned: 1 new, 0 changed, 4 unchanged, 0 missing/);
  assert.match(text.stdout, /unknown:\s+1 files of unknown kind \(e\.g\. .*notes2\.ndjson\.gz: gzip header but undecodable/);

  // Files of unknown kind are never candidates for ingest.
  const dry = await tessdbJson(db, ['ingest', '-c', config, '--dry-run']);
  const candidates = dry.map((f: { path: string }) => f.path);
  assert.ok(candidates.includes(arch) && candidates.includes(empty), JSON.stringify(candidates));
  assert.ok(!candidates.some((p: string) => p.includes('notes')), JSON.stringify(candidates));
  const st = await tessdbJson(db, ['status', '-c', config]);
  assert.equal(st.inventory.files, 5);
  assert.equal(st.inventory.unknownKind, 2);
});

test('a file is hashed again only when its size or mtime changed', async () => {
  const data = mkdirp(path.join(dir, 'b', 'data'));
  const config = writeConfig(path.join(dir, 'b'), { host: 'beta', data_dirs: [data] });
  const f = writeArchive(path.join(data, 'x.ndjson.gz'), readingLines('stars2', '2026-11-01T00:00:00', 50));
  writeArchive(path.join(data, 'y.ndjson.gz'), readingLines('stars2', '2026-11-01T01:00:00', 50));
  // Whole seconds, so that setting the same mtime again gives exactly the same value back.
  const t0 = new Date('2026-11-01T02:00:00Z');
  fs.utimesSync(f, t0, t0);
  const first = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(first.origins.added, 2);
  const before = await origins('beta');

  const second = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(second.origins.unchanged, 2);
  assert.equal(second.origins.bytesHashed, 0);
  const after = await origins('beta');
  assert.ok(after.get(f)!.last_seen > before.get(f)!.last_seen, 'last_seen moves on');
  assert.deepEqual(after.get(f)!.first_seen, before.get(f)!.first_seen);

  // Same size, same mtime, different bytes: not re-hashed (the recorded hash stays the old one).
  const oldHash = before.get(f)!.content_hash;
  const other = Buffer.from(fs.readFileSync(f));
  other[other.length - 1] ^= 0xff;
  fs.writeFileSync(f, other);
  fs.utimesSync(f, t0, t0);
  const third = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(third.origins.unchanged, 2);
  assert.equal(third.origins.bytesHashed, 0);
  assert.equal((await origins('beta')).get(f)!.content_hash, oldHash);

  // A new mtime: hashed again, the new content recorded.
  const later = new Date(t0.getTime() + 60_000);
  fs.utimesSync(f, later, later);
  const fourth = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(fourth.origins.changed, 1);
  assert.equal(fourth.origins.unchanged, 1);
  assert.equal(fourth.origins.bytesHashed, other.length);
  const now = (await origins('beta')).get(f)!;
  assert.equal(now.content_hash, sha256(f));
  assert.notEqual(now.content_hash, oldHash);
  assert.equal(now.mtime.getTime(), Math.trunc(later.getTime()));
});

test('files that disappear are marked missing_since (and not ingested); back again, they are present', async () => {
  const data = mkdirp(path.join(dir, 'c', 'data'));
  const elsewhere = mkdirp(path.join(dir, 'c', 'elsewhere'));
  const config = writeConfig(path.join(dir, 'c'), { host: 'gamma', data_dirs: [data, elsewhere] });
  const keep = writeArchive(path.join(data, 'keep.ndjson.gz'), [registerLine('stars3', 'AA:BB:CC:00:00:03', '2026-11-01T00:00:00.000Z'), ...readingLines('stars3', '2026-11-01T00:01:00', 5)]);
  const gone = writeArchive(path.join(data, 'gone.ndjson.gz'), readingLines('stars3', '2026-11-01T01:00:00', 5));
  const other = writeArchive(path.join(elsewhere, 'other.ndjson.gz'), readingLines('stars3', '2026-11-01T02:00:00', 5));
  assert.equal((await tessdbJson(db, ['inventory', '-c', config])).origins.added, 3);

  const saved = fs.readFileSync(gone);
  const t0 = new Date('2026-11-01T03:00:00Z');
  fs.utimesSync(gone, t0, t0);
  assert.equal((await tessdbJson(db, ['inventory', '-c', config])).origins.changed, 1);
  fs.rmSync(gone);
  const r = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(r.origins.missing, 1);
  const o = await origins('gamma');
  assert.ok(o.get(gone)!.missing_since instanceof Date);
  assert.equal(o.get(keep)!.missing_since, null);
  // Not looked for again: already missing.
  assert.equal((await tessdbJson(db, ['inventory', '-c', config])).origins.missing, 0);
  // A missing file is not pending.
  const dry = await tessdbJson(db, ['ingest', '-c', config, '--dry-run']);
  assert.deepEqual(dry.map((f: { path: string }) => f.path).sort(), [keep, other].sort());
  const st2 = await tessdbJson(db, ['status', '-c', config]);
  assert.equal(st2.inventory.missing, 1);

  // Scanning only some of the directories does not mark the others' files missing.
  const partial = await tessdbJson(db, ['inventory', '-c', config, `data_dirs=['${data}']`]);
  assert.equal(partial.origins.missing, 0);
  assert.equal((await origins('gamma')).get(other)!.missing_since, null);

  // Another host's scan never touches this host's files.
  const h2 = await tessdbJson(db, ['inventory', '-c', config, 'host=delta', `data_dirs=['${elsewhere}']`]);
  assert.equal(h2.origins.added, 1);
  assert.equal(await count(db, `SELECT count(*) FROM file_origins WHERE path = $1`, [other]), 2);
  assert.equal((await origins('gamma')).size, 3);

  // Back again, unchanged.
  fs.writeFileSync(gone, saved);
  fs.utimesSync(gone, t0, t0);
  const back = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(back.origins.unchanged, 3);
  assert.equal((await origins('gamma')).get(gone)!.missing_since, null);
});

test('replicas: copies under replica_dirs are matched to origins by content; --missing-replicas lists the rest', async () => {
  const data = mkdirp(path.join(dir, 'd', 'data'));
  const backup = mkdirp(path.join(dir, 'd', 'backup'));
  const config = writeConfig(path.join(dir, 'd'), { host: 'epsilon', data_dirs: [data], replica_dirs: [backup] });
  const f1 = writeArchive(path.join(data, '2026/11/01/one.ndjson.gz'), readingLines('stars4', '2026-11-01T00:00:00', 10));
  const f2 = writeArchive(path.join(data, '2026/11/01/two.ndjson.gz'), readingLines('stars4', '2026-11-01T01:00:00', 10));
  const f3 = writeArchive(path.join(data, '2026/11/01/three.ndjson.gz'), readingLines('stars4', '2026-11-01T02:00:00', 10));
  // one: an exact copy under another name; two: a stale copy (older content); three: none.
  const c1 = path.join(mkdirp(path.join(backup, 'x')), 'copy-of-one.ndjson.gz');
  fs.copyFileSync(f1, c1);
  const c2 = path.join(backup, 'x', 'two.ndjson.gz');
  writeArchive(c2, readingLines('stars4', '2026-11-01T01:00:00', 9));
  const stray = writeArchive(path.join(backup, 'stray.ndjson.gz'), readingLines('stars4', '2026-11-09T00:00:00', 3));
  fs.writeFileSync(path.join(backup, 'x', 'one.ndjson.gz.part'), 'partial copy');

  const r = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(r.origins.added, 3);
  assert.deepEqual(r.replicas, { scanned: 3, hashed: 3, matched: 1, unmatched: 2, missing: 0 });
  const reps = await db.pool.query(
    `SELECT r.path, r.host, r.size_bytes::int, r.content_hash, o.path AS origin
       FROM file_replicas r LEFT JOIN file_origins o USING (origin_id) WHERE r.host = 'epsilon' ORDER BY r.path`,
  );
  assert.deepEqual(
    reps.rows.map((x) => [x.path, x.origin]),
    [[stray, null], [c1, f1], [c2, null]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
  assert.equal(reps.rows.find((x) => x.path === c1).content_hash, sha256(f1));
  assert.equal(reps.rows.find((x) => x.path === c1).size_bytes, fs.statSync(c1).size);

  const missing = await tessdbJson(db, ['inventory', '-c', config, '--missing-replicas']);
  assert.deepEqual(missing.map((m: { path: string }) => m.path), [f3, f2]);
  assert.equal(missing[1].contentHash, sha256(f2));
  assert.equal(missing[1].sizeBytes, fs.statSync(f2).size);
  const text = await tessdb(db, ['inventory', '-c', config, '--missing-replicas']);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, `${f3}\n${f2}\n`);
  assert.match(text.stderr, /2 origins without an up-to-date replica/);
  // --missing-replicas does not scan: nothing recorded changed.
  assert.equal(await count(db, `SELECT count(*) FROM file_replicas WHERE host = 'epsilon'`), 3);

  // Bring the stale copy up to date and copy three: every origin has a replica.
  fs.copyFileSync(f2, c2);
  fs.utimesSync(c2, new Date(), new Date(Date.now() + 2000));
  fs.copyFileSync(f3, path.join(backup, 'three.ndjson.gz'));
  const r2 = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(r2.origins.unchanged, 3);
  assert.deepEqual(r2.replicas, { scanned: 4, hashed: 2, matched: 3, unmatched: 1, missing: 0 });
  assert.deepEqual(await tessdbJson(db, ['inventory', '-c', config, '--missing-replicas']), []);

  // An origin that changes is without an up-to-date replica again; a replica that disappears is
  // marked missing and no longer counts.
  writeArchive(f1, readingLines('stars4', '2026-11-01T00:00:00', 11));
  fs.rmSync(path.join(backup, 'three.ndjson.gz'));
  const r3 = await tessdbJson(db, ['inventory', '-c', config]);
  assert.equal(r3.origins.changed, 1);
  assert.equal(r3.replicas.missing, 1);
  const gone = await db.pool.query(`SELECT missing_since FROM file_replicas WHERE path = $1`, [path.join(backup, 'three.ndjson.gz')]);
  assert.ok(gone.rows[0].missing_since instanceof Date);
  const m3 = await tessdbJson(db, ['inventory', '-c', config, '--missing-replicas']);
  assert.deepEqual(m3.map((m: { path: string }) => m.path), [f1, f3].sort());
});

test('inventory needs data_dirs', async () => {
  const r = await tessdb(db, ['inventory', 'host=zeta']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no data_dirs configured/);
  const b = await tessdb(db, ['backfill', 'host=zeta']);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /no data_dirs configured/);
});
