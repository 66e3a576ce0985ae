import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import type { RegisterEvent } from '../../src/model/types.js';
import {
  foldRegistry,
  loadRegistrySnapshot,
  manualEvent,
  rebuildRegistry,
  recordRegisterEvents,
  type FoldEvent,
} from '../../src/registry/index.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { MAC_A, MAC_B, MAC_C, MAC_D, at, boot, tess4c, tessw } from './fixtures.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('registry');
});
after(async () => {
  await db?.drop();
});

/** A client whose unqualified names land in `schema` (created and migrated on first use). */
async function connect(schema: string): Promise<pg.Client> {
  await migrate(db.pool, schema);
  const client = new pg.Client({ connectionString: db.url, options: `-c search_path=${schema},public` });
  await client.connect();
  return client;
}

async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const r = await fn();
    await client.query('COMMIT');
    return r;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** Record a batch and rebuild its component, in one transaction (what the loader does). */
async function apply(client: pg.ClientBase, events: RegisterEvent[]) {
  return inTransaction(client, async () => {
    const r = await recordRegisterEvents(client, events);
    if (r.inserted > 0) await rebuildRegistry(client, { macs: r.affectedMacs, names: r.affectedNames });
    return r;
  });
}

async function dump(client: pg.ClientBase, withTessId = false) {
  const p = await client.query(
    `SELECT ${withTessId ? 'tess_id, ' : ''}mac_address, model, firmware, nchannels, zp1, zp2, zp3, zp4, filter1, filter2, filter3, filter4,
            offset1, offset2, offset3, offset4, location_id, observer_id, authorised, registered,
            valid_since, valid_until, valid_state
       FROM photometers ORDER BY mac_address, valid_since`,
  );
  const m = await client.query('SELECT name, mac_address, valid_since, valid_until, valid_state FROM name_to_mac ORDER BY name, valid_since');
  return { photometers: p.rows, mappings: m.rows };
}

/** A history exercising every rule: new, boots, rename, replace, override, zp changes, TESS4C, admin. */
function scenario(): RegisterEvent[] {
  return [
    ...boot('stars1', MAC_A, at(0), 20.5),
    ...boot('stars2', MAC_B, at(1), 20.6),
    manualEvent('authorise', MAC_A, 'stars1', at(2)),
    ...boot('stars1', MAC_A, at(10), 20.504), // < 0.005: reboot
    ...boot('stars1', MAC_A, at(20), 20.52), // new version
    tessw('stars1', MAC_A, at(25), 3.1), // faulty zp: ignored
    ...boot('stars9', MAC_A, at(30), 20.52), // rename
    ...boot('stars9', MAC_C, at(40), 20.7), // replace
    tessw('stars2', MAC_C, at(50), 20.7), // override: stars9 and MAC_B lose their mappings
    tess4c('stars4c', MAC_D, at(5), [['UVIR', 20.1], ['R', 19.9], ['G', 19.8], ['B', 19.7]]),
    tess4c('stars4c', MAC_D, at(15), [['UVIR', 20.1], ['R', 19.9], ['G', 19.8], ['I', 19.7]]),
    manualEvent('unauthorise', MAC_A, 'stars9', at(35)),
  ];
}

function shuffled<T>(items: T[], seed: number): T[] {
  const a = [...items];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

test('the same events in three orders, split and duplicated, give identical photometers and name_to_mac', async () => {
  const events = scenario();
  const c1 = await connect('order1');
  const c2 = await connect('order2');
  const c3 = await connect('order3');
  try {
    // 1: chronological, one event per call.
    const chrono = [...events].sort((x, y) => x.receivedAt.getTime() - y.receivedAt.getTime());
    for (const e of chrono) await apply(c1, [e]);
    // 2: reverse, batches of 4, each batch applied twice (the second is all duplicates).
    const rev = [...chrono].reverse();
    for (let i = 0; i < rev.length; i += 4) {
      const first = await apply(c2, rev.slice(i, i + 4));
      const again = await apply(c2, rev.slice(i, i + 4));
      assert.ok(first.inserted > 0);
      assert.equal(again.inserted, 0);
    }
    // 3: shuffled, two overlapping calls with duplicates inside a call, then a full rebuild.
    const mixed = shuffled(events, 42);
    const half = Math.ceil(mixed.length / 2);
    await apply(c3, [...mixed.slice(0, half + 3), mixed[0], mixed[1]]);
    await apply(c3, mixed.slice(half - 2));
    const d1 = await dump(c1);
    assert.deepEqual(await dump(c2), d1);
    assert.deepEqual(await dump(c3), d1);
    await inTransaction(c3, () => rebuildRegistry(c3));
    assert.deepEqual(await dump(c3), d1);

    // The stored result is the pure fold of the events.
    const fold = foldRegistry(events);
    assert.equal(d1.photometers.length, fold.versions.length);
    assert.deepEqual(
      d1.mappings.map((r) => [r.name, r.mac_address, r.valid_since.getTime(), r.valid_until.getTime(), r.valid_state]),
      fold.mappings.map((m) => [m.name, m.mac, m.validSince.getTime(), m.validUntil.getTime(), m.validState]),
    );
    assert.equal(await count(c1, 'register_events'), new Set(events.map((e) => JSON.stringify([e.receivedAt, e.payload]))).size);

    // A full rebuild with renumber makes tess_id a function of the log too.
    for (const c of [c1, c2, c3]) await inTransaction(c, () => rebuildRegistry(c, undefined, { renumber: true }));
    const t1 = await dump(c1, true);
    assert.deepEqual(await dump(c2, true), t1);
    assert.deepEqual(await dump(c3, true), t1);
    assert.deepEqual(t1.photometers.map((r) => r.tess_id), t1.photometers.map((_, i) => i + 1));
  } finally {
    await Promise.all([c1.end(), c2.end(), c3.end()]);
  }
});

async function count(c: pg.ClientBase, table: string): Promise<number> {
  const { rows } = await c.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

test('recordRegisterEvents: inserted count, affected MACs and names, idempotence, payload check', async () => {
  const c = await connect('record');
  try {
    const events = boot('stars1', MAC_A, at(0), 20.5);
    const r = await apply(c, [...events, events[0]]);
    assert.deepEqual(r, { inserted: 3, affectedMacs: [MAC_A], affectedNames: ['stars1'] });
    assert.deepEqual(await apply(c, events), { inserted: 0, affectedMacs: [], affectedNames: [] });
    assert.equal(await count(c, 'photometers'), 1);
    // Key order does not matter to the hash.
    const reordered = { ...events[0], payload: Object.fromEntries(Object.entries(events[0].payload as object).reverse()) };
    assert.equal((await apply(c, [reordered])).inserted, 0);
    // Hostile text is data, never SQL; NUL (jsonb cannot hold it) is stored as U+FFFD.
    const odd = tessw('stars2', MAC_B, at(1), 20.5);
    odd.payload = { ...(odd.payload as object), note: `'); DROP TABLE photometers; --`, nul: 'a\u0000b' };
    assert.equal((await apply(c, [odd])).inserted, 1);
    const { rows } = await c.query(`SELECT payload->>'note' AS note, payload->>'nul' AS nul FROM register_events WHERE name = 'stars2'`);
    assert.deepEqual(rows[0], { note: `'); DROP TABLE photometers; --`, nul: 'a\uFFFDb' });
    assert.equal((await apply(c, [odd])).inserted, 0);
    // An event whose fields its payload does not carry is refused (the rebuild reads payloads only).
    const wrong = { ...tessw('stars3', MAC_C, at(2), 20.5), channels: [{ zp: 19, filter: null, offsetHz: null }] };
    await assert.rejects(apply(c, [wrong]), /payload must carry the calibration/);
  } finally {
    await c.end();
  }
});

test('incremental rebuild touches only the component and keeps tess_id of unchanged versions', async () => {
  const c = await connect('incremental');
  try {
    await apply(c, [...boot('stars1', MAC_A, at(0), 20.5), ...boot('stars2', MAC_B, at(0), 20.6)]);
    const before = await dump(c, true);
    await apply(c, boot('stars1', MAC_A, at(10), 20.7)); // new version of A only
    const after = await dump(c, true);
    const idOf = (d: typeof before, mac: string, since: Date) =>
      d.photometers.find((r) => r.mac_address === mac && r.valid_since.getTime() === since.getTime())?.tess_id;
    assert.equal(idOf(after, MAC_A, at(0)), idOf(before, MAC_A, at(0)));
    assert.equal(idOf(after, MAC_B, at(0)), idOf(before, MAC_B, at(0)));
    assert.ok(idOf(after, MAC_A, at(10))! > Math.max(...before.photometers.map((r) => r.tess_id)));
    // Nothing changed: the rebuild writes nothing.
    const r = await inTransaction(c, () => rebuildRegistry(c, { macs: [MAC_A], names: [] }));
    assert.equal(r.changed, false);
    assert.deepEqual(r.scope, { macs: [MAC_A], names: ['stars1'] });
  } finally {
    await c.end();
  }
});

test('compat views tess_t / tess_v / name_to_mac_t show the versions', async () => {
  const c = await connect('compat');
  try {
    await apply(c, scenario());
    const { rows } = await c.query(
      `SELECT name, mac_address, zero_point, filter, authorised, valid_state FROM tess_t
        WHERE mac_address = $1 ORDER BY valid_since`,
      [MAC_A],
    );
    assert.deepEqual(
      rows.map((r) => [r.name, r.zero_point, r.authorised, r.valid_state]),
      [
        ['stars1', 20.5, 0, 'Expired'],
        ['stars1', 20.5, 1, 'Expired'],
        ['stars9', 20.52, 1, 'Expired'], // [20, 35): the view names a version by its latest overlapping mapping
        ['stars9', 20.52, 0, 'Current'], // unauthorised at 35, after the rename at 30
      ],
    );
    const v = await c.query(`SELECT count(*)::int AS n, count(site)::int AS sites FROM tess_v`);
    assert.equal(v.rows[0].n, await count(c, 'photometers'));
    assert.equal(v.rows[0].sites, v.rows[0].n);
    const m = await c.query(`SELECT name, valid_state FROM name_to_mac_t WHERE mac_address = $1 ORDER BY valid_since`, [MAC_C]);
    assert.deepEqual(m.rows, [
      { name: 'stars9', valid_state: 'Expired' },
      { name: 'stars2', valid_state: 'Current' },
    ]);
    const fourC = await c.query(`SELECT model, nchannels, zp1, zp4, filter4 FROM tess_t WHERE mac_address = $1 ORDER BY valid_since`, [MAC_D]);
    assert.deepEqual(fourC.rows.map((r) => r.filter4), ['B', 'I']);
    assert.equal(fourC.rows[0].model, 'TESS4C');
    assert.equal(fourC.rows[0].nchannels, 4);
  } finally {
    await c.end();
  }
});

test('snapshot: resolve before/after rename, replace and authorisation, at exact boundaries', async () => {
  const c = await connect('snapshot');
  try {
    assert.equal((await loadRegistrySnapshot(c)).isEmpty, true);
    await apply(c, [
      tessw('stars1', MAC_A, at(0), 20.5),
      tessw('stars2', MAC_A, at(10), 20.5), // rename
      tessw('stars2', MAC_B, at(20), 20.5), // replace
      manualEvent('authorise', MAC_B, 'stars2', at(30)),
    ]);
    const s = await loadRegistrySnapshot(c);
    assert.equal(s.isEmpty, false);
    const ms = (m: number, d = 0) => new Date(at(m).getTime() + d);
    const cases: Array<[string, Date, { mac: string; authorised: boolean } | null]> = [
      ['stars1', ms(0, -1), null],
      ['stars1', ms(0), { mac: MAC_A, authorised: false }],
      ['stars1', ms(10, -1), { mac: MAC_A, authorised: false }],
      ['stars1', ms(10), null],
      ['stars2', ms(10, -1), null],
      ['stars2', ms(10), { mac: MAC_A, authorised: false }],
      ['stars2', ms(20, -1), { mac: MAC_A, authorised: false }],
      ['stars2', ms(20), { mac: MAC_B, authorised: false }],
      ['stars2', ms(30, -1), { mac: MAC_B, authorised: false }],
      ['stars2', ms(30), { mac: MAC_B, authorised: true }],
      ['stars2', new Date('2999-01-01T00:00:00Z'), { mac: MAC_B, authorised: true }],
      ['nobody', ms(30), null],
    ];
    // Twice, in opposite orders, so the last-hit cache is exercised both ways.
    for (const list of [cases, [...cases].reverse()]) {
      for (const [name, t, want] of list) {
        const got = s.resolve(name, t);
        assert.deepEqual(got === null ? null : { ...got }, want, `${name} at ${t.toISOString()}`);
      }
    }
  } finally {
    await c.end();
  }
});

test('the rebuild reads payloads from the log: events loaded back fold like the originals', async () => {
  const c = await connect('roundtrip');
  try {
    const events = scenario();
    await apply(c, events);
    const { loadEvents } = await import('../../src/registry/index.js');
    const stored: FoldEvent[] = await loadEvents(c);
    assert.deepEqual(foldRegistry(stored).versions, foldRegistry(events).versions);
  } finally {
    await c.end();
  }
});

test('concurrent writers (two live processes) serialise on the registry lock and agree with the fold', async () => {
  const a = await connect('concurrent');
  const b = new pg.Client({ connectionString: db.url, options: '-c search_path=concurrent,public' });
  await b.connect();
  try {
    const events = scenario();
    const one = shuffled(events, 7);
    const two = shuffled(events, 99);
    const run = async (c: pg.Client, list: RegisterEvent[]) => {
      for (let i = 0; i < list.length; i += 3) await apply(c, list.slice(i, i + 3));
    };
    await Promise.all([run(a, one), run(b, two)]);
    const fold = foldRegistry(events);
    const d = await dump(a);
    assert.equal(d.photometers.length, fold.versions.length);
    assert.deepEqual(
      d.photometers.map((r) => [r.mac_address, r.zp1, r.authorised, r.valid_since.getTime(), r.valid_state]),
      fold.versions.map((v) => [v.mac, v.zp1, v.authorised, v.validSince.getTime(), v.validState]),
    );
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
});
