/**
 * The daylight flag (window 7: a reading and its 3 neighbours on each side, same name, in time order,
 * all saturated): the pure reference function, the SQL function `daylight_refresh` it must agree with,
 * and its independence from arrival order, batching and concurrency.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { DaylightRanges, daylightFlags, refreshDaylight, tentativeDaylight } from '../../src/filter/daylight.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { insertReadings, insertReadingsInTransaction, type FixtureReading } from '../compat/fixture.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('daylight');
  await migrate(db.pool, 'public');
});
after(async () => {
  await db?.drop();
});

/** 's' saturated (mag 0), '.' not, '?' no magnitude → mags. */
const mags = (pattern: string) => [...pattern].map((c) => (c === 's' ? 0 : c === '?' ? null : 19.5));
/** Flags as a string: 'D' daylight, else the pattern's character. */
const show = (pattern: string, flags: boolean[]) => [...pattern].map((c, i) => (flags[i] ? 'D' : c)).join('');

test('reference: start and end of a series, a lone clear sample, short runs', () => {
  const cases: Array<[string, string]> = [
    ['sssssss', 'sssDsss'], // 7 saturated: only the middle one has 3 neighbours on each side
    ['ssssssssss', 'sssDDDDsss'], // series start and end are never flagged
    ['ssssss', 'ssssss'], // 6 are never enough
    ['ssssss.sssssss', 'ssssss.sssDsss'], // one clear sample inside a saturated run
    ['sssssss.sssssss', 'sssDsss.sssDsss'],
    ['sss?sssssss', 'sss?sssDsss'], // no magnitude is not saturated
    ['.......', '.......'],
    ['', ''],
  ];
  for (const [pattern, expected] of cases) assert.equal(show(pattern, daylightFlags(mags(pattern))), expected, pattern);
});

test('tentative flags: the batch taken as the whole series, per name', () => {
  const t = (i: number) => new Date(Date.UTC(2024, 0, 1, 0, i));
  const batch = [
    ...[...'sssssssss'].map((c, i) => ({ name: 'a', tstamp: t(8 - i), mag: c === 's' ? 0 : 19 })), // reversed order
    ...[...'sss.sssssss'].map((c, i) => ({ name: 'b', tstamp: t(i), mag: c === 's' ? 0 : 19 })),
    ...[...'ssssss'].map((_, i) => ({ name: 'c', tstamp: t(i), mag: 0 })),
  ];
  const flagged = tentativeDaylight(batch);
  const show = (name: string) => batch.filter((r) => r.name === name).sort((x, y) => x.tstamp.getTime() - y.tstamp.getTime()).map((r) => (flagged.has(r) ? 'D' : r.mag === 0 ? 's' : '.')).join('');
  assert.equal(show('a'), 'sssDDDsss');
  assert.equal(show('b'), 'sss.sssDsss');
  assert.equal(show('c'), 'ssssss');
  assert.equal(tentativeDaylight(batch.map((r) => ({ ...r, mag: 19 }))).size, 0);
});

const T0 = Date.parse('2024-03-01T00:00:00Z');

function series(name: string, pattern: string, opts: { stepS?: number; offsetS?: number; seq?: (i: number) => number } = {}): FixtureReading[] {
  const step = (opts.stepS ?? 60) * 1000;
  return [...pattern].map((c, i) => ({
    name,
    tstamp: new Date(T0 + (opts.offsetS ?? 0) * 1000 + i * step).toISOString(),
    seq: opts.seq ? opts.seq(i) : i + 1,
    freq: c === 's' ? 50000 : 10,
    mag: c === 's' ? 0 : c === '?' ? (null as unknown as number) : 19.5,
    tamb: 10,
    tsky: -10,
  }));
}

async function flagsOf(name: string): Promise<string> {
  const { rows } = await db.pool.query<{ f: string }>(
    `SELECT coalesce(string_agg(CASE WHEN r.daylight THEN 'D' WHEN r.mag = 0 THEN 's' WHEN r.mag IS NULL THEN '?' ELSE '.' END, '' ORDER BY r.tstamp), '') AS f
       FROM readings r JOIN names n USING (name_id) WHERE n.name = $1`,
    [name],
  );
  return rows[0].f;
}

async function reset(): Promise<void> {
  await db.pool.query('TRUNCATE readings');
}

/**
 * Load readings in batches, each its own transaction with its own refresh (what ingest and live do),
 * stored with the batch's own guess of the flags (`tentativeDaylight`, what the loader writes).
 */
async function loadInBatches(batches: FixtureReading[][]): Promise<void> {
  const c = await db.pool.connect();
  try {
    for (const b of batches) {
      await c.query('BEGIN');
      await insertReadingsInTransaction(c, b, false);
      const guessed = [...tentativeDaylight(b.map((r) => ({ ...r, tstamp: new Date(r.tstamp) })))];
      await c.query(
        `UPDATE readings r SET daylight = true FROM names n, unnest($1::text[], $2::timestamptz[]) AS g(name, t)
          WHERE n.name = g.name AND r.name_id = n.name_id AND r.tstamp = g.t`,
        [guessed.map((r) => r.name), guessed.map((r) => r.tstamp.toISOString())],
      );
      const ranges = new DaylightRanges();
      ranges.add(b.map((r) => ({ name: r.name, tstamp: new Date(r.tstamp) })));
      await refreshDaylight(c, ranges);
      await c.query('COMMIT');
    }
  } finally {
    c.release();
  }
}

test('SQL agrees with the reference: series edges, lone clear sample, sequence restarts', async () => {
  await reset();
  const pattern = 'sssssssss.ssssssss..sssssss...ssss?sssssssss';
  // The sequence number restarts twice (reboots): the flag follows time order, never seq.
  const c = await db.pool.connect();
  try {
    await insertReadings(c, series('p1', pattern, { seq: (i) => (i < 12 ? 100 + i : i < 30 ? 1 + i - 12 : 1 + i - 30) }));
  } finally {
    c.release();
  }
  assert.equal(await flagsOf('p1'), show(pattern, daylightFlags(mags(pattern))));
});

test('two photometers interleaved in time are independent', async () => {
  await reset();
  const a = 'sssssssssss';
  const b = 'sss.sssssss';
  // Same minutes, b 30 s after a: in time order the names alternate.
  await loadInBatches([[...series('pa', a), ...series('pb', b, { offsetS: 30 })]]);
  assert.equal(await flagsOf('pa'), 'sssDDDDDsss');
  assert.equal(await flagsOf('pb'), 'sss.sssDsss');
});

test('loading in any order and any batches gives the flags of loading everything at once', async () => {
  const readingArb = fc.array(fc.constantFrom('s', 's', 's', '.', '?'), { minLength: 0, maxLength: 40 }).map((a) => a.join(''));
  await fc.assert(
    fc.asyncProperty(readingArb, readingArb, fc.array(fc.nat(), { minLength: 80, maxLength: 80 }), fc.integer({ min: 1, max: 8 }), async (pa, pb, keys, nBatches) => {
      await reset();
      const all = [...series('qa', pa), ...series('qb', pb, { stepS: 45 })];
      // A random order, cut into random batches.
      const order = all.map((r, i) => ({ r, k: keys[i] ?? i })).sort((x, y) => x.k - y.k).map((x) => x.r);
      const size = Math.ceil(order.length / nBatches) || 1;
      const batches = Array.from({ length: nBatches }, (_, i) => order.slice(i * size, (i + 1) * size)).filter((b) => b.length > 0);
      await loadInBatches(batches);
      assert.equal(await flagsOf('qa'), show(pa, daylightFlags(mags(pa))));
      assert.equal(await flagsOf('qb'), show(pb, daylightFlags(mags(pb))));
    }),
    { numRuns: 30 },
  );
});

test('loading the same readings twice changes nothing', async () => {
  await reset();
  const p = 'ssssssssss.sssssss';
  const rows = series('twice', p);
  await loadInBatches([rows]);
  const c = await db.pool.connect();
  try {
    const ranges = new DaylightRanges();
    ranges.add(rows.map((r) => ({ name: r.name, tstamp: new Date(r.tstamp) })));
    await c.query('BEGIN');
    assert.equal(await refreshDaylight(c, ranges), 0);
    await c.query('COMMIT');
  } finally {
    c.release();
  }
  assert.equal(await flagsOf('twice'), 'sssDDDDsss.sssDsss');
});

test('two concurrent transactions loading neighbouring readings of one name: the later commit sees both', async () => {
  await reset();
  const pattern = 'ssssssssssss'; // 12 saturated: flags 3..8
  const rows = series('conc', pattern);
  const first = rows.slice(0, 6);
  const second = rows.slice(6);
  // The name must exist for both (the loader creates names in their own transaction, committed at once).
  await db.pool.query(`INSERT INTO names (name) VALUES ('conc') ON CONFLICT DO NOTHING`);
  await db.pool.query(`CREATE TABLE IF NOT EXISTS readings_202403 PARTITION OF readings FOR VALUES FROM ('2024-03-01Z') TO ('2024-04-01Z')`);
  const a = new pg.Client({ connectionString: db.url });
  const b = new pg.Client({ connectionString: db.url });
  await a.connect();
  await b.connect();
  try {
    const rangeOf = (rs: FixtureReading[]) => {
      const r = new DaylightRanges();
      r.add(rs.map((x) => ({ name: x.name, tstamp: new Date(x.tstamp) })));
      return r;
    };
    await a.query('BEGIN');
    await insertReadingsInTransaction(a, first, false);
    await refreshDaylight(a, rangeOf(first)); // holds the name's lock until commit
    await b.query('BEGIN');
    await insertReadingsInTransaction(b, second, false);
    const bDone = refreshDaylight(b, rangeOf(second)); // waits for a's lock
    await new Promise((r) => setTimeout(r, 200));
    await a.query('COMMIT');
    await bDone;
    await b.query('COMMIT');
  } finally {
    await a.end();
    await b.end();
  }
  assert.equal(await flagsOf('conc'), 'sssDDDDDDsss');
});
