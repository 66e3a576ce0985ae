/**
 * The loader COPYs a batch in readings key order (src/load/loader.ts, namesByIdOrder over nameGroups): names by name_id, each
 * name's rows by time, file order among equal times. Checked on the order itself, on the heap of a real
 * ingest (rows stored page by page in key order, whatever the file's order), on which of two readings
 * with the same key a file keeps (the first, as before the ordering), and with
 * `ingest.synchronous_commit` either way.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { namesByIdOrder } from '../../src/load/loader.js';
import { nameGroups } from '../../src/util/group-by-name.js';
import type { EncodedReading } from '../../src/load/encoded.js';
import type { NameIds } from '../../src/load/names.js';
import type { TestDatabase } from '../helpers/db.js';
import { readingLine, readingLines, registerLine, removeDir, setupDatabase, tempDir, tessdbJson, writeArchive, writeConfig, type Line } from './helpers.js';

function row(name: string, ms: number): EncodedReading {
  return { name, ms, saturated: false, bytes: null, start: 0, end: 0, badField: null, origin: null };
}

test('key order: names by id, rows of a name by time, file order among equal times', () => {
  const keyOrder = (rows: EncodedReading[], names: NameIds) => {
    const groups = nameGroups(rows);
    return namesByIdOrder(groups, names).flatMap((n) => groups.get(n)!);
  };
  const ids = new Map([['b', 1], ['a', 2], ['c', 3]]);
  const names = { get: (n: string) => ids.get(n) } as unknown as NameIds;
  const rows = [row('a', 30), row('b', 20), row('c', 10), row('a', 10), row('b', 20), row('a', 20), row('b', 5), row('c', 11)];
  assert.deepEqual([...keyOrder(rows, names)], [6, 1, 4, 3, 5, 0, 2, 7]);
  // Already in order (one photometer, as in an IDA file): unchanged.
  const one = [row('a', 1), row('a', 2), row('a', 3)];
  assert.deepEqual([...keyOrder(one, names)], [0, 1, 2]);
  assert.deepEqual([...keyOrder([], names)], []);
});

let dir: string;
let dbs: TestDatabase[] = [];
before(() => {
  dir = tempDir('tessdb-key-order-');
});
after(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  removeDir(dir);
});

/** Three photometers, one reading a minute each, interleaved minute by minute as the live writer archives them. */
function interleavedArchive(file: string): { lines: Line[]; readings: number } {
  const names = ['stars3', 'stars1', 'stars2'];
  const lines: Line[] = names.map((n, i) => registerLine(n, `AA:BB:CC:00:00:0${i + 1}`, '2026-03-01T00:00:00.000Z'));
  const per = names.map((n) => readingLines(n, '2026-03-01T01:00:00', 60));
  for (let m = 0; m < 60; m++) for (const list of per) lines.push(list[m]);
  writeArchive(file, lines);
  return { lines, readings: 60 * names.length };
}

for (const synchronous of [false, true]) {
  test(`an interleaved archive is stored in key order (synchronous_commit = ${synchronous})`, async () => {
    const db = await setupDatabase('keyorder');
    dbs.push(db);
    const data = path.join(dir, `sync-${synchronous}`);
    const { readings } = interleavedArchive(path.join(data, 'tessdb_2026-03-01T01.ndjson.gz'));
    const config = writeConfig(path.join(dir), { data_dirs: [data], extra: `[ingest]\nsynchronous_commit = ${synchronous}` }, `sync-${synchronous}.toml`);
    const summary = await tessdbJson(db, ['backfill', '-c', config, '-q']);
    assert.equal(summary.inserted, readings);
    // The heap of the month's partition, in physical order: one name after the other, each in time order.
    const { rows } = await db.pool.query<{ name_id: number; tstamp: Date }>('SELECT name_id, tstamp FROM readings_202603 ORDER BY ctid');
    assert.equal(rows.length, readings);
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1], rows[i]];
      assert.ok(a.name_id < b.name_id || (a.name_id === b.name_id && a.tstamp < b.tstamp), `row ${i} out of key order`);
    }
  });
}

test('two readings of a name with the same time in one file: the first one in the file is kept', async () => {
  const db = await setupDatabase('keyorder');
  dbs.push(db);
  const data = path.join(dir, 'dup');
  const first = readingLine('stars9', '2026-03-01T02:00:00', 1, { mag: 18.5 });
  const second = readingLine('stars9', '2026-03-01T02:00:00', 2, { mag: 21.5 });
  writeArchive(path.join(data, 'tessdb_2026-03-01T02.ndjson.gz'), [
    registerLine('stars9', 'AA:BB:CC:00:00:09', '2026-03-01T00:00:00.000Z'),
    registerLine('stars8', 'AA:BB:CC:00:00:08', '2026-03-01T00:00:00.000Z'),
    ...readingLines('stars8', '2026-03-01T01:58:00', 4),
    readingLine('stars9', '2026-03-01T02:01:00', 3),
    first,
    second,
  ]);
  const config = writeConfig(dir, { data_dirs: [data] }, 'dup.toml');
  const summary = await tessdbJson(db, ['backfill', '-c', config, '-q']);
  assert.equal(summary.inserted, 6);
  assert.equal(summary.duplicates, 1);
  const { rows } = await db.pool.query(
    `SELECT seq, mag FROM readings r JOIN names n USING (name_id) WHERE n.name = 'stars9' AND tstamp = '2026-03-01T02:00:00Z'`,
  );
  assert.deepEqual(rows, [{ seq: 1, mag: 18.5 }]);
});

test('TESS-W and TESS4C readings in one batch: each COPY with its own columns, every value where it belongs, fresh and staged', async () => {
  const db = await setupDatabase('keyorder');
  dbs.push(db);
  const data = path.join(dir, 'mixed');
  const channel = (k: number, seq: number) => ({ freq: 10 * k + seq / 100, mag: 18 + k + seq / 1000, zp: 20.5 });
  const lines: Line[] = [registerLine('stars4', 'AA:BB:CC:00:00:04', '2026-03-01T00:00:00.000Z'), registerLine('stars5', 'AA:BB:CC:00:00:05', '2026-03-01T00:00:00.000Z')];
  const w = readingLines('stars5', '2026-03-01T03:00:00', 30);
  const c = readingLines('stars4', '2026-03-01T03:00:00', 30).map((l, i) => ({
    ...l,
    payload: { ...(l.payload as object), F1: channel(1, i + 1), F2: channel(2, i + 1), F3: channel(3, i + 1), F4: channel(4, i + 1) },
  }));
  for (let m = 0; m < 30; m++) lines.push(w[m], c[m]);
  writeArchive(path.join(data, 'tessdb_2026-03-01T03.ndjson.gz'), lines);
  const config = writeConfig(dir, { data_dirs: [data] }, 'mixed.toml');
  const stored = async () =>
    (
      await db.pool.query(
        `SELECT n.name, seq, freq, mag, freq2, mag2, freq3, mag3, freq4, mag4 FROM readings r JOIN names n USING (name_id) ORDER BY n.name, tstamp`,
      )
    ).rows;
  const expected = [
    ...Array.from({ length: 30 }, (_, i) => ({
      name: 'stars4', seq: i + 1, freq: channel(1, i + 1).freq, mag: channel(1, i + 1).mag, freq2: channel(2, i + 1).freq, mag2: channel(2, i + 1).mag,
      freq3: channel(3, i + 1).freq, mag3: channel(3, i + 1).mag, freq4: channel(4, i + 1).freq, mag4: channel(4, i + 1).mag,
    })),
    ...w.map((l) => {
      const p = l.payload as { seq: number; freq: number; mag: number };
      return { name: 'stars5', seq: p.seq, freq: p.freq, mag: p.mag, freq2: null, mag2: null, freq3: null, mag3: null, freq4: null, mag4: null };
    }),
  ];
  const fresh = await tessdbJson(db, ['backfill', '-c', config, '-q']);
  assert.equal(fresh.inserted, 60);
  assert.deepEqual(await stored(), expected);
  // Staged: both parts through the staging table.
  await db.pool.query(`DELETE FROM readings WHERE seq % 2 = 0`);
  const again = await tessdbJson(db, ['ingest', '-c', config, '-q', '--reprocess']);
  assert.equal(again.inserted, 30);
  assert.equal(again.duplicates, 30);
  assert.deepEqual(await stored(), expected);
});

test('two readings of a name with the same time, one with channels 2–4 and one without: the first one in the file is kept', async () => {
  const db = await setupDatabase('keyorder');
  dbs.push(db);
  const data = path.join(dir, 'dup-shapes');
  const channel = { freq: 12.5, mag: 19.25, zp: 20.5 };
  const fourC = readingLine('stars7', '2026-03-01T04:00:00', 1);
  fourC.payload = { ...(fourC.payload as object), F1: channel, F2: channel, F3: channel, F4: channel };
  writeArchive(path.join(data, 'tessdb_2026-03-01T04.ndjson.gz'), [
    registerLine('stars7', 'AA:BB:CC:00:00:07', '2026-03-01T00:00:00.000Z'),
    ...readingLines('stars7', '2026-03-01T03:57:00', 3, 10),
    fourC,
    readingLine('stars7', '2026-03-01T04:00:00', 2), // same time, no channels
  ]);
  const config = writeConfig(dir, { data_dirs: [data] }, 'dup-shapes.toml');
  const summary = await tessdbJson(db, ['backfill', '-c', config, '-q']);
  assert.equal(summary.inserted, 4);
  assert.equal(summary.duplicates, 1);
  const { rows } = await db.pool.query(`SELECT seq, freq2 FROM readings WHERE tstamp = '2026-03-01T04:00:00Z'`);
  assert.deepEqual(rows, [{ seq: 1, freq2: 12.5 }]);
});
