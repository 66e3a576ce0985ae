/**
 * The MQTT session of `tessdb live`: a broker restart (reconnect with backoff, resubscribe, persistent session)
 * loses and duplicates nothing; messages the previous holder of the session never acknowledged are
 * redelivered to the daemon and loaded once.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { startLive } from '../../src/live/index.js';
import type { TestDatabase } from '../helpers/db.js';
import {
  archiveFiles,
  configFor,
  count,
  migratedDatabase,
  newSetup,
  partFiles,
  publish,
  publisher,
  readArchive,
  readingCount,
  readingKeys,
  readingPayload,
  registerAll,
  removeDir,
  startBroker,
  waitFor,
  writeLiveConfig,
  type LiveSetup,
  type TestBroker,
} from '../live/helpers.js';

let broker: TestBroker;
let db: TestDatabase;
let pub: MqttClient;
const setups: LiveSetup[] = [];

before(async () => {
  [broker, db] = await Promise.all([startBroker(), migratedDatabase('livebroker')]);
  pub = await publisher(broker);
});

after(async () => {
  await pub?.endAsync(true).catch(() => undefined);
  await broker?.stop();
  await db?.drop();
  for (const s of setups) removeDir(s.dir);
});

test('broker restart: the daemon reconnects, resubscribes, and nothing is lost or duplicated', async (t) => {
  if (!broker.canRestart) return t.skip('the external test broker (TESSDB_TEST_MQTT_URL) cannot be restarted');
  const s = newSetup(broker, 'brk');
  setups.push(s);
  const handle = await startLive(configFor(writeLiveConfig(s), db));
  try {
    await handle.subscribed;
    await registerAll(pub, s.prefix, ['stars1', 'stars2']);
    const t0 = Date.now() + 10_000;
    const send = async (from: number, to: number) => {
      for (let i = from; i <= to; i++) {
        const name = i % 2 ? 'stars1' : 'stars2';
        await publish(pub, `${s.prefix}/${name}/reading`, readingPayload(name, i, t0 + i * 1000));
      }
    };
    await send(1, 100);
    await waitFor('the first 100 rows', async () => (await readingCount(db.pool)) === 100);

    await broker.restart(300);
    await waitFor('the daemon to reconnect', () => handle.stats().connects >= 2 && handle.stats().connected, 15_000);
    await send(101, 200); // the publisher reconnects by itself too
    await waitFor('all 200 rows', async () => (await readingCount(db.pool)) === 200, 15_000);
    await handle.settle();
  } finally {
    await handle.stop();
  }
  assert.deepEqual(partFiles(s.archiveDir), []);
  const archived = await readArchive(s.archiveDir);
  const readings = archived.filter((m) => m.topic.endsWith('/reading'));
  assert.equal(readings.length, 200, 'each reading archived once (resubscribing replays no retained or queued copies)');
  assert.equal(readingKeys(archived, s.prefix).size, 200);
  assert.equal(await readingCount(db.pool), 200);
});

test('messages a previous session never acknowledged are redelivered and loaded once', async () => {
  const s = newSetup(broker, 'redeliver');
  setups.push(s);
  const config = configFor(writeLiveConfig(s), db);
  // A stand-in holds the daemon's persistent session and never acknowledges anything.
  const holder = mqtt.connect(broker.url, {
    clientId: s.clientId,
    clean: false,
    protocolVersion: broker.protocolVersion,
    properties: broker.protocolVersion === 5 ? { sessionExpiryInterval: 3600 } : undefined,
    reconnectPeriod: 0,
  });
  holder.on('error', () => undefined);
  let seen = 0;
  holder.handleMessage = () => {
    seen++; // no done(): no PUBACK
  };
  await new Promise<void>((resolve, reject) => {
    holder.once('connect', () => holder.subscribe([`${s.prefix}/+/reading`, `${s.prefix}/register`], { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  });
  await registerAll(pub, s.prefix, ['stars5']);
  const t0 = Date.now() + 10_000;
  for (let i = 1; i <= 30; i++) await publish(pub, `${s.prefix}/stars5/reading`, readingPayload('stars5', i, t0 + i * 1000));
  await waitFor('the stand-in to receive', () => seen >= 1);
  holder.end(true);

  const handle = await startLive(config);
  try {
    await waitFor('the redelivered messages to be loaded', async () => (await stars5Rows()) >= 30, 15_000);
    await handle.settle();
  } finally {
    await handle.stop();
  }
  const archived = await readArchive(s.archiveDir);
  assert.equal(archived.filter((m) => m.topic.endsWith('/reading')).length, 30);
  assert.equal(archived.filter((m) => m.topic.endsWith('/register')).length, 1);
  assert.equal(await stars5Rows(), 30);
});

function stars5Rows(): Promise<number> {
  return count(db.pool, `SELECT count(*) AS n FROM readings JOIN names USING (name_id) WHERE name = 'stars5'`);
}

test('shared subscription: two daemons split one stream into their own archive files, each reading loaded once', async (t) => {
  if (broker.kind === 'aedes') return t.skip('aedes has no MQTT v5 shared subscriptions');
  const a = newSetup(broker, 'sha');
  // Same topics and archive directory, its own client id and host tag (file names).
  const b = { ...newSetup(broker, 'shb'), prefix: a.prefix, archiveDir: a.archiveDir };
  setups.push(a, b);
  const group = `g${a.clientId.slice(-8)}`;
  const ha = await startLive(configFor(writeLiveConfig(a, { sharedGroup: group }), db));
  const hb = await startLive(configFor(writeLiveConfig(b, { sharedGroup: group }), db));
  // One registration: it reaches one daemon only, the other must notice it in the database.
  const names = ['stars21'];
  const rows = () => count(db.pool, `SELECT count(*) AS n FROM readings JOIN names USING (name_id) WHERE name = ANY($1::text[])`, [names]);
  try {
    await Promise.all([ha.subscribed, hb.subscribed]);
    // Both daemons load their photometer cache first (readings of an unregistered name), so that the one that
    // does not receive the registrations must notice them in the database.
    for (let i = 1; i <= 6; i++) await publish(pub, `${a.prefix}/stars20/reading`, readingPayload('stars20', i, Date.now()));
    await waitFor('both daemons to load a batch', () => ha.stats().batches > 0 && hb.stats().batches > 0);
    await registerAll(pub, a.prefix, names);
    await waitFor('the registration', async () => (await count(db.pool, 'SELECT count(*) AS n FROM register_events WHERE name = ANY($1::text[])', [names])) === 1);
    const t0 = Date.now() + 10_000;
    for (let i = 1; i <= 200; i++) {
      const name = names[0];
      await publish(pub, `${a.prefix}/${name}/reading`, readingPayload(name, i, t0 + i * 1000));
    }
    await waitFor('all rows', async () => (await rows()) === 200);
    await Promise.all([ha.settle(), hb.settle()]);
    assert.ok(ha.stats().received > 0 && hb.stats().received > 0, 'both daemons got part of the stream');
    assert.equal(ha.stats().received + hb.stats().received, 207);
  } finally {
    await Promise.all([ha.stop(), hb.stop()]);
  }
  const archived = await readArchive(a.archiveDir);
  assert.equal(archived.filter((m) => m.topic.endsWith('/reading')).length, 206, 'each message archived by one daemon only');
  assert.equal(new Set(archiveFiles(a.archiveDir).map((f) => path.basename(f).split('_')[1])).size, 2, 'one set of files per host tag');
  assert.equal(await rows(), 200);
});
