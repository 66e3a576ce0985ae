/**
 * Issue 3, "Done when" 3: readings of unregistered names are counted per reason (and per name and
 * day), never loaded; they load once the name is registered: by itself when the registration is
 * ingested, and with `ingest --reprocess` when it arrived some other way (e.g. the live daemon).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseRegister } from '../../src/model/register.js';
import { rebuildRegistry, recordRegisterEvents } from '../../src/registry/index.js';
import type { TestDatabase } from '../helpers/db.js';
import {
  count,
  tessdb,
  ingestRows,
  readingLine,
  readingLines,
  registerLine,
  rejectsByReason,
  removeDir,
  setupDatabase,
  tempDir,
  tessdbJson,
  writeArchive,
  writeConfig,
} from './helpers.js';

let dir: string;
let data: string;
let config: string;
let db: TestDatabase;
let db2: TestDatabase;
let db3: TestDatabase;

const readingsOf = (d: TestDatabase, name: string) =>
  count(d, `SELECT count(*) FROM readings JOIN names USING (name_id) WHERE name = $1`, [name]);

async function rejectRows(d: TestDatabase) {
  const { rows } = await d.pool.query(`SELECT name, day::text, reason, count::int FROM reject_counts ORDER BY name, day, reason`);
  return rows;
}

before(async () => {
  dir = tempDir('ingest-unreg');
  data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o755 });
  config = writeConfig(dir, { host: 'unreg', data_dirs: [data] });
  [db, db2, db3] = await Promise.all([setupDatabase('ingest_unreg'), setupDatabase('ingest_unreg'), setupDatabase('ingest_unreg')]);
});

after(async () => {
  await Promise.all([db?.drop(), db2?.drop(), db3?.drop()]);
  removeDir(dir);
});

test('unregistered readings are counted per name, day and reason; they load once a later file registers the name', async () => {
  const a = writeArchive(path.join(data, 'a.ndjson.gz'), [
    registerLine('known', 'AA:BB:CC:00:00:01', '2026-11-01T00:00:00.000Z'),
    ...readingLines('known', '2026-11-01T00:01:00', 5),
    ...readingLines('ghost', '2026-11-01T23:55:00', 10), // 5 on Nov 1, 5 on Nov 2
    ...readingLines('phantom', '2026-11-01T10:00:00', 3),
    { ...readingLine('known', '2026-11-01T00:00:30', 99), retain: true }, // a broker replay
  ]);
  const first = await tessdbJson(db, ['ingest', '-c', config, '--file', a]);
  assert.equal(first.files, 1);
  assert.equal(first.inserted, 5);
  assert.equal(first.rejected, 14);
  assert.deepEqual(first.rejectsByReason, { unregistered: 13, retained: 1 });
  // Rejects by rule are not input errors: the file is 'loaded', the exit code 0.
  assert.equal((await ingestRows(db)).get(a)!.status, 'loaded');
  assert.deepEqual(await rejectRows(db), [
    { name: 'ghost', day: '2026-11-01', reason: 'unregistered', count: 5 },
    { name: 'ghost', day: '2026-11-02', reason: 'unregistered', count: 5 },
    { name: 'known', day: '2026-11-01', reason: 'retained', count: 1 },
    { name: 'phantom', day: '2026-11-01', reason: 'unregistered', count: 3 },
  ]);
  const sample = await db.pool.query(`SELECT sample, detail FROM reject_counts WHERE name = 'ghost' LIMIT 1`);
  assert.match(sample.rows[0].sample, /ghost/);
  assert.match(sample.rows[0].detail, /no photometer registered as "ghost"/);
  assert.equal(await readingsOf(db, 'ghost'), 0);

  // Reprocessing does not double the counts.
  const re = await tessdbJson(db, ['ingest', '-c', config, '--file', a, '--reprocess']);
  assert.equal(re.inserted, 0);
  assert.equal(re.duplicates, 5);
  assert.deepEqual(await rejectsByReason(db), { retained: 1, unregistered: 13 });

  // Another file registers ghost, received before ghost's readings (e.g. an older archive found
  // later), and phantom, received after its readings. Ingesting it loads ghost's readings of the
  // first file; phantom's stay counted: they predate its registration.
  const b = writeArchive(path.join(data, 'b.ndjson.gz'), [
    registerLine('ghost', 'AA:BB:CC:00:00:02', '2026-11-01T20:00:00.000Z'),
    registerLine('phantom', 'AA:BB:CC:00:00:03', '2026-11-01T11:00:00.000Z'),
  ]);
  const second = await tessdbJson(db, ['ingest', '-c', config, '--file', b]);
  assert.equal(second.files, 1);
  assert.equal(second.reread, 1);
  assert.equal(second.inserted, 10);
  assert.equal(await readingsOf(db, 'ghost'), 10);
  assert.equal(await readingsOf(db, 'phantom'), 0);
  assert.deepEqual(await rejectRows(db), [
    { name: 'known', day: '2026-11-01', reason: 'retained', count: 1 },
    { name: 'phantom', day: '2026-11-01', reason: 'unregistered', count: 3 },
  ]);
  const rec = (await ingestRows(db)).get(a)!;
  assert.equal(rec.rows_rejected, 4);

  // --reprocess afterwards finds nothing new.
  const third = await tessdbJson(db, ['ingest', '-c', config, '--file', a, '--file', b, '--reprocess']);
  assert.equal(third.inserted, 0);
  assert.equal(third.duplicates, 15);
  assert.deepEqual(await rejectsByReason(db), { retained: 1, unregistered: 3 });
});

test('a registration recorded outside ingest (e.g. by live) loads earlier readings with ingest --reprocess', async () => {
  writeArchive(path.join(data, 'c.ndjson.gz'), readingLines('wraith', '2026-11-05T03:00:00', 12));
  const inv = await tessdbJson(db2, ['inventory', '-c', config, `data_dirs=['${data}']`]);
  assert.equal(inv.origins.added, 3);
  const first = await tessdbJson(db2, ['ingest', '-c', config]);
  assert.equal(first.files, 3);
  assert.equal(first.rejectsByReason.unregistered, 3 + 12);
  assert.equal(await readingsOf(db2, 'wraith'), 0);
  assert.equal(await readingsOf(db2, 'ghost'), 10, 'one run, files in order a, b: ghost loaded all the same');

  // Register wraith straight into the registry, as the live daemon would.
  const parsed = parseRegister({ name: 'wraith', mac: '0:1:2:3:4:5', calib: 20.1, rev: 1 }, new Date('2026-11-05T00:00:00Z'));
  assert.ok('event' in parsed);
  const client = await db2.pool.connect();
  try {
    await client.query('BEGIN');
    const recorded = await recordRegisterEvents(client, [parsed.event]);
    await rebuildRegistry(client, { macs: recorded.affectedMacs, names: recorded.affectedNames });
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  assert.equal(await count(db2, `SELECT count(*) FROM name_to_mac WHERE name = 'wraith'`), 1);

  // A plain ingest has nothing pending and does not look at loaded files again.
  const plain = await tessdbJson(db2, ['ingest', '-c', config]);
  assert.equal(plain.files, 0);
  assert.equal(await readingsOf(db2, 'wraith'), 0);
  // --dry-run lists every file for --reprocess and changes nothing.
  const dry = await tessdbJson(db2, ['ingest', '-c', config, '--reprocess', '--dry-run']);
  assert.equal(dry.length, 3);
  assert.equal(await readingsOf(db2, 'wraith'), 0);

  const re = await tessdbJson(db2, ['ingest', '-c', config, '--reprocess']);
  assert.equal(re.files, 3);
  assert.equal(re.inserted, 12);
  assert.equal(await readingsOf(db2, 'wraith'), 12);
  const rows = await db2.pool.query(`SELECT name, reason, sum(count)::int AS n FROM reject_counts GROUP BY 1, 2 ORDER BY 1, 2`);
  assert.deepEqual(rows.rows, [
    { name: 'known', reason: 'retained', n: 1 },
    { name: 'phantom', reason: 'unregistered', n: 3 },
  ]);
  const st = await tessdbJson(db2, ['status', '-c', config]);
  assert.deepEqual(st.rejects, { unregistered: 3, retained: 1 });
});

test('a file whose photometer was registered by the file before loads all its readings in the same run, without reading it again', async () => {
  // The second file is parsed while the first one is still being loaded (src/ingest/overlap.ts); it
  // attributes its readings only once the first one, which changed the registry, is committed.
  const own = await setupDatabase('ingest_unreg');
  const dir2 = path.join(dir, 'chain');
  const a = writeArchive(path.join(dir2, 'a.ndjson.gz'), [registerLine('newcomer', 'AA:BB:CC:00:00:09', '2026-11-03T00:00:00.000Z'), ...readingLines('newcomer', '2026-11-03T00:01:00', 300)]);
  const b = writeArchive(path.join(dir2, 'b.ndjson.gz'), readingLines('newcomer', '2026-11-03T05:01:00', 300, 301));
  fs.utimesSync(a, new Date('2026-11-03T01:00:00Z'), new Date('2026-11-03T01:00:00Z'));
  fs.utimesSync(b, new Date('2026-11-03T06:00:00Z'), new Date('2026-11-03T06:00:00Z'));
  const cfg = writeConfig(dir2, { host: 'chain', data_dirs: [dir2] });
  try {
    const r = await tessdb(own, ['backfill', '-c', cfg, '--json', 'ingest.batch_rows=100']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.inserted, 600);
    assert.equal(summary.rejected, 0);
    assert.doesNotMatch(r.stderr, /files again/);
    assert.equal(await readingsOf(own, 'newcomer'), 600);
  } finally {
    await own.drop();
  }
});

test('a name that changes hands within one file: each reading is attributed at its own time', async () => {
  const f = writeArchive(path.join(dir, 'span', 'span.ndjson.gz'), [
    registerLine('span-a', 'AA:BB:CC:00:00:51', '2026-11-03T00:00:00.000Z'),
    registerLine('span-b', 'AA:BB:CC:00:00:51', '2026-11-03T00:30:00.000Z'), // renamed: "span-a" stands for nothing from 00:30
    registerLine('span-c', 'AA:BB:CC:00:00:52', '2026-11-03T00:30:00.000Z'), // registered at 00:30
    ...readingLines('span-a', '2026-11-03T00:00:30', 60),
    ...readingLines('span-c', '2026-11-03T00:00:30', 60),
  ]);
  const r = await tessdbJson(db3, ['ingest', '-c', config, '--file', f]);
  assert.equal(r.inserted, 60);
  assert.equal(await readingsOf(db3, 'span-a'), 30);
  assert.equal(await readingsOf(db3, 'span-c'), 30);
  assert.equal(await count(db3, `SELECT count(*) FROM readings JOIN names USING (name_id) WHERE name = 'span-a' AND tstamp >= '2026-11-03T00:30:00Z'`), 0);
  assert.equal(await count(db3, `SELECT count(*) FROM readings JOIN names USING (name_id) WHERE name = 'span-c' AND tstamp < '2026-11-03T00:30:00Z'`), 0);
  assert.deepEqual(await rejectRows(db3), [
    { name: 'span-a', day: '2026-11-03', reason: 'unregistered', count: 30 },
    { name: 'span-c', day: '2026-11-03', reason: 'unregistered', count: 30 },
  ]);
});
