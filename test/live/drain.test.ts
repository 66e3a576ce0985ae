/**
 * Draining a backlog with `tessdb live` in-process, against a real broker and a real database: what is left
 * of a backlog after full batches is due at once (not a whole live.batch_ms after the batch before it), and an
 * overflowing queue loads every message exactly once through the open-file catch-up.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { startLive } from '../../src/live/index.js';
import type { TestDatabase } from '../helpers/db.js';
import {
  configFor,
  count,
  migratedDatabase,
  newSetup,
  publish,
  publisher,
  readingCount,
  readingPayload,
  registerAll,
  removeDir,
  startBroker,
  waitFor,
  writeLiveConfig,
  type LiveSetup,
  type TestBroker,
} from './helpers.js';

let broker: TestBroker;
const dbs: TestDatabase[] = [];
const setups: LiveSetup[] = [];
let pub: MqttClient;

before(async () => {
  broker = await startBroker();
  pub = await publisher(broker);
});

after(async () => {
  await pub?.endAsync(true).catch(() => undefined);
  await broker?.stop();
  for (const db of dbs) await db.drop();
  for (const s of setups) removeDir(s.dir);
});

async function database(): Promise<TestDatabase> {
  const db = await migratedDatabase('livedrain');
  dbs.push(db);
  return db;
}

/** Publishes `n` readings of `names` (QoS 1, 500 unacknowledged at most), times after `base`. */
async function publishReadings(prefix: string, names: string[], from: number, n: number, base: number): Promise<void> {
  let inflight: Promise<void>[] = [];
  for (let i = from; i < from + n; i++) {
    const name = names[i % names.length];
    inflight.push(publish(pub, `${prefix}/${name}/reading`, readingPayload(name, i, base + i * 1000)));
    if (inflight.length >= 500) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
}

test('the rest of a backlog after full batches is loaded at once, not a batch interval later', async () => {
  const s = newSetup(broker, 'drainrest');
  setups.push(s);
  const db = await database();
  const batchMs = 5000;
  const config = configFor(writeLiveConfig(s, { batchRows: 300, batchMs }), db);
  const handle = await startLive(config);
  try {
    await handle.subscribed;
    const names = ['rest1', 'rest2'];
    await registerAll(pub, s.prefix, names);
    await waitFor('the registrations', async () => (await count(db.pool, 'SELECT count(*) AS n FROM name_to_mac')) === 2);
    // Writes paused: 700 readings queue up (two full batches and 100 more), older than batch_ms once resumed.
    handle.pause();
    const before = await readingCount(db.pool);
    await publishReadings(s.prefix, names, 1, 700, Date.now() + 1000);
    await waitFor('700 readings archived', () => handle.stats().readings >= 700);
    await new Promise((r) => setTimeout(r, batchMs + 200));
    const resumedAt = performance.now();
    handle.resume();
    await waitFor('700 readings loaded', async () => (await readingCount(db.pool)) - before === 700, 20_000);
    const took = performance.now() - resumedAt;
    // Before: the 100 left after two batches waited another batch_ms (5 s) after the second batch.
    assert.ok(took < batchMs - 1000, `the backlog took ${Math.round(took)} ms to load after resume (batch_ms ${batchMs})`);
  } finally {
    await handle.stop();
  }
});

test('an overflowing queue: every message loaded exactly once (queue, catch-up, queue again)', async () => {
  const s = newSetup(broker, 'drainover');
  setups.push(s);
  const db = await database();
  const config = configFor(writeLiveConfig(s, { batchRows: 200, batchMs: 100, maxQueueRows: 1000 }), db);
  const handle = await startLive(config);
  try {
    await handle.subscribed;
    const names = ['over1', 'over2', 'over3'];
    await registerAll(pub, s.prefix, names);
    await waitFor('the registrations', async () => (await count(db.pool, 'SELECT count(*) AS n FROM name_to_mac')) === 3);
    const base = Date.now() + 1000;
    // Paused: 2,500 readings overflow the queue of 1,000 (its copies dropped, the rest counted as dropped).
    handle.pause();
    await publishReadings(s.prefix, names, 1, 2500, base);
    await waitFor('2,500 readings archived', () => handle.stats().readings >= 2500);
    assert.ok(handle.stats().dropped > 0, 'the queue overflowed');
    handle.resume();
    // More readings while the catch-up runs: queued again after the dropped window.
    await publishReadings(s.prefix, names, 2501, 1500, base);
    await handle.settle();
    const stats = handle.stats();
    assert.equal(stats.readings, 4000);
    assert.equal(await readingCount(db.pool), 4000);
    assert.equal(await count(db.pool, 'SELECT count(DISTINCT seq) AS n FROM readings WHERE seq BETWEEN 1 AND 4000'), 4000);
    // Nothing loaded twice: the catch-up read only the dropped window (the open file is not closed yet).
    assert.equal(stats.duplicates, 0, `duplicates ${stats.duplicates}`);
  } finally {
    await handle.stop();
  }
});
