/**
 * Hostile input all the way into PostgreSQL (issue 7, part 2): an archive of random and mutated messages
 * — SQL in names and topics, quotes, backslashes, NUL, huge and non-finite numbers, deep JSON, a 10 MB
 * payload — goes through the real `tessdb ingest`. What must hold: the run finishes, every line is either
 * a loaded reading or a reject counted with a reason (rows_read = inserted + duplicates + rejected, and
 * the tables agree), what loads is exactly what was sent, nothing else in the database is touched, and a
 * second run inserts nothing and counts nothing twice.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { TestDatabase } from '../helpers/db.js';
import {
  count,
  readingCount,
  readingLine,
  registerLine,
  rejectsByReason,
  removeDir,
  setupDatabase,
  tempDir,
  tessdbJson,
  writeArchive,
  writeConfig,
  type Line,
} from '../ingest/helpers.js';

let db: TestDatabase;
let dir: string;

before(async () => {
  db = await setupDatabase('hostile');
  dir = tempDir('hostile');
});

after(async () => {
  await db?.drop();
  removeDir(dir);
});

const NAMES = ['stars1', 'stars2'];
const nasty = fc.constantFrom(
  "stars1'; DROP TABLE readings; --", 'stars1"', 'a\u0000b', '\\N', '\\.', '\t\n\r', 'ÿ\uFFFD', '1e400', 'NaN', '-Infinity',
  '9'.repeat(400), 'x'.repeat(70_000), '2026-13-45T25:61:61', '', '$1', '%s%n', 'E\'\\x00\'',
);
const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  nasty,
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, 2 ** 63, -0, 1e-320),
);
const FIELDS = ['seq', 'name', 'freq', 'mag', 'tamb', 'tsky', 'rev', 'wdBm', 'tstamp', 'az', 'alt', 'F1', 'M1', 'lat', 'long', 'height'];

function hostileLines(n: number, seed: number): Line[] {
  const t0 = Date.parse('2026-11-01T20:00:00Z');
  const arb = fc.record({
    i: fc.nat({ max: 1_000_000 }),
    name: fc.constantFrom(...NAMES),
    field: fc.constantFrom(...FIELDS),
    value: hostileValue,
    topic: fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.oneof(nasty, fc.string()) }),
    whole: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.anything({ maxDepth: 4 }) }),
  });
  return fc.sample(arb, { numRuns: n, seed }).map(({ i, name, field, value, topic, whole }) => {
    const line = readingLine(name, new Date(t0 + i * 1000).toISOString().slice(0, 19), i);
    if (topic !== '') line.topic = topic;
    line.payload = whole !== undefined ? whole : { ...(line.payload as object), [field]: value };
    return line;
  });
}

/** An archive line whose payload nests `n` objects deep (written as text: JSON.stringify would overflow). */
function deepLine(n: number): string {
  return `{"rx":"2026-11-01T19:31:00Z","topic":"STARS4ALL/stars1/reading","qos":1,"retain":false,"payload":${'{"v":'.repeat(n)}1${'}'.repeat(n)}}`;
}

test('5,000 hostile messages through tessdb ingest: each loaded or counted with a reason; a re-run changes nothing', async () => {
  const registers = NAMES.map((n, i) => registerLine(n, `AA:BB:CC:DD:EE:0${i + 1}`, '2026-11-01T19:00:00.000Z'));
  const good = [readingLine('stars1', '2026-11-01T19:30:00', 1), readingLine('stars2', '2026-11-01T19:30:00', 1)];
  const hostile = hostileLines(5_000, 20261123);
  const special: (Line | string)[] = [
    deepLine(100_000),
    { ...readingLine('stars1', '2026-11-01T19:32:00', 3), payload: { ...(readingLine('stars1', '2026-11-01T19:32:00', 3).payload as object), note: 'x'.repeat(10 * 1024 * 1024) } },
    '{"rx":"2026-11-01T19:33:00Z","topic":"STARS4ALL/stars1/reading","qos":1,"retain":false,"payload":{"seq":4,"name":"stars1","freq":1e999,"mag":NaN}}',
    '\u0000\u0000\u0000',
  ];
  const file = writeArchive(path.join(dir, 'archive', '2026', '11', '01', 'tessdb_h_20261101T190000Z.ndjson.gz'), [...registers, ...good, ...hostile, ...special]);
  const total = registers.length + good.length + hostile.length + special.length;
  const cfg = writeConfig(dir, { data_dirs: [path.dirname(path.dirname(path.dirname(path.dirname(file))))] });

  // Exit code 1: the file loaded with errors (its bad lines), which the summary names.
  const first = await tessdbJson(db, ['backfill', '-c', cfg], 1);
  assert.equal(first.failed, 0);
  assert.equal(first.withErrors, 1);
  const { read, inserted, duplicates, rejected } = first as Record<string, number>;
  // Every line is accounted for: register events count as read and inserted into the event log, not as readings.
  const rows = await readingCount(db);
  const events = await count(db, 'SELECT count(*) FROM register_events');
  const reasons = await rejectsByReason(db);
  const rejectTotal = Object.values(reasons).reduce((a, b) => a + b, 0);
  assert.equal(read, total);
  assert.equal(rejectTotal, rejected, JSON.stringify(reasons));
  assert.deepEqual(reasons, first.rejectsByReason);
  assert.equal(rows + events + rejectTotal + duplicates, total, JSON.stringify({ rows, events, reasons, duplicates, inserted }));
  assert.ok(rows >= 2, 'the good readings loaded');
  assert.ok(rejectTotal > 0);

  // What loaded is what was sent: finite numbers, only the two registered names, nothing else touched.
  assert.equal(await count(db, `SELECT count(*) FROM readings WHERE 'NaN'::float8 IN (freq, mag, tamb, tsky) OR abs(freq) = 'Infinity'`), 0);
  assert.deepEqual(
    (await db.pool.query('SELECT DISTINCT name FROM readings JOIN names USING (name_id) ORDER BY 1')).rows.map((r) => r.name),
    NAMES,
  );
  assert.equal(await count(db, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'readings'`), 1);

  // A second run finds nothing new; forcing it (--reprocess) inserts nothing and counts no reject twice.
  const again = await tessdbJson(db, ['backfill', '-c', cfg], 0);
  assert.equal(again.files, 0, JSON.stringify(again));
  const forced = await tessdbJson(db, ['ingest', '-c', cfg, '--reprocess'], 1);
  assert.equal(forced.inserted, 0, JSON.stringify(forced));
  assert.equal(forced.read, total);
  assert.equal(await readingCount(db), rows);
  assert.deepEqual(await rejectsByReason(db), reasons);
});
