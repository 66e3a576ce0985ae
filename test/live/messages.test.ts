/**
 * `tessdb live` in-process against a real broker and a real database: every kind of message published with a
 * real mqtt.js client is archived exactly once and loaded exactly once (or counted as a reject), redeliveries
 * make no second row, closed files are recorded as loaded live, and replaying the archive with `tessdb ingest`
 * into an empty database gives the same readings (and reject counts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { pendingFiles } from '../../src/ingest/pending.js';
import { runInventory } from '../../src/inventory/run.js';
import { startLive, type LiveHandle } from '../../src/live/index.js';
import type { ArchiveMessage } from '../../src/model/types.js';
import { runCli } from '../helpers/cli.js';
import type { TestDatabase } from '../helpers/db.js';
import {
  archiveFiles,
  configFor,
  count,
  freePort,
  migratedDatabase,
  newSetup,
  partFiles,
  publish,
  publisher,
  readArchive,
  readingCount,
  readingPayload,
  readingRows,
  registerAll,
  rejectsByReason,
  removeDir,
  startBroker,
  waitFor,
  writeLiveConfig,
  type LiveSetup,
  type TestBroker,
} from './helpers.js';

let broker: TestBroker;
let db: TestDatabase;
let replay: TestDatabase;
let s: LiveSetup;
let pub: MqttClient;

before(async () => {
  [broker, db, replay] = await Promise.all([startBroker(), migratedDatabase('livemsg'), migratedDatabase('livereplay')]);
  s = newSetup(broker, 'msg');
  pub = await publisher(broker);
});

after(async () => {
  await pub?.endAsync(true).catch(() => undefined);
  await broker?.stop();
  await db?.drop();
  await replay?.drop();
  if (s) removeDir(s.dir);
});

/** The payload as published, from an archived message (to compare archive content with what was sent). */
function bodyOf(m: ArchiveMessage): string {
  if (m.oversize !== undefined) return `oversize:${m.oversize}`;
  if (m.raw === 'utf8') return m.payload as string;
  if (m.raw === 'base64') return `b64:${m.payload as string}`;
  return JSON.stringify(m.payload);
}

test('messages of every kind: archived once, loaded once, replay gives the same tables', async () => {
  const metricsPort = await freePort();
  const cfgFile = writeLiveConfig(s, { rotateS: 2, maxPayloadBytes: 1024, metricsPort, batchRows: 50 });
  const config = configFor(cfgFile, db);
  const P = s.prefix;
  const sent: [string, string][] = [];
  const send = async (topic: string, payload: string | object, opts: { qos?: 0 | 1; retain?: boolean } = {}) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    await publish(pub, topic, body, opts);
    return body;
  };

  // A retained reading already on the broker: the daemon's new subscription gets it with the retain flag set.
  const retainedBody = await send(`${P}/stars9/reading`, readingPayload('stars9', 1, Date.now() - 60_000), { retain: true });
  sent.push([`${P}/stars9/reading`, retainedBody]);

  const handle: LiveHandle = await startLive(config);
  try {
    await handle.subscribed;
    await waitFor('the retained message', () => handle.stats().received >= 1);

    // Registrations (the firmware repeats them at boot), then readings timed after them.
    await registerAll(pub, P, ['stars1', 'stars2']);
    await registerAll(pub, P, ['stars1', 'stars2']);
    for (let i = 0; i < 4; i++) sent.push([`${P}/register`, '']);
    const t0 = Date.now() + 5_000;
    for (let i = 1; i <= 50; i++) {
      // Half way, let the archive rotate (rotate_s = 2) so that several files are closed and recorded.
      if (i === 25) await waitFor('an archive rotation', () => handle.stats().files_closed >= 1, 5000);
      sent.push([`${P}/stars1/reading`, await send(`${P}/stars1/reading`, readingPayload('stars1', i, t0 + i * 1000), { qos: 1 })]);
      sent.push([`${P}/stars2/reading`, await send(`${P}/stars2/reading`, readingPayload('stars2', i, t0 + i * 1000), { qos: 0 })]);
    }
    // Published with retain while we are subscribed: forwarded as a normal (live) message and loaded.
    sent.push([`${P}/stars1/reading`, await send(`${P}/stars1/reading`, readingPayload('stars1', 1000, t0 + 1000_000), { retain: true })]);
    // A redelivered copy of an earlier reading: archived again, never a second row.
    sent.push([`${P}/stars1/reading`, await send(`${P}/stars1/reading`, readingPayload('stars1', 1, t0 + 1000))]);
    sent.push([`${P}/stars1/reading`, await send(`${P}/stars1/reading`, 'this is {not json')]);
    const big = JSON.stringify({ ...readingPayload('stars2', 999, t0), padding: 'x'.repeat(2000) });
    await send(`${P}/stars2/reading`, big);
    sent.push([`${P}/stars2/reading`, `oversize:${Buffer.byteLength(big)}`]);
    sent.push([`${P}/stars77/reading`, await send(`${P}/stars77/reading`, readingPayload('stars77', 1, t0 + 1000))]);

    await waitFor('every message received', () => handle.stats().archived >= sent.length);
    await handle.settle();
    assert.equal(await readingCount(db.pool), 101, 'stars1 ×51 + stars2 ×50');
    const st = handle.stats();
    assert.equal(st.received, sent.length);
    assert.equal(st.archived, sent.length);
    assert.equal(st.readings, 101 + 1 + 1); // + the redelivered copy and the unknown photometer's
    assert.equal(st.registers, 4);
    assert.equal(st.loaded, 101);
    assert.equal(st.duplicates, 1);
    assert.deepEqual(st.rejected, { invalid_json: 1, payload_too_large: 1, retained: 1, unregistered: 1 });
    assert.equal(st.queue, 0);
    assert.ok(st.lag_s !== null);

    // The same counters on /metrics and in live_stats.
    const metrics = await (await fetch(`http://127.0.0.1:${handle.metricsPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`^tessdb_live_messages_received_total ${sent.length}$`, 'm'));
    assert.match(metrics, /^tessdb_live_rejected_total\{reason="retained"\} 1$/m);
    assert.match(metrics, /^tessdb_live_rows_loaded_total 101$/m);
    await handle.report();
    const { rows } = await db.pool.query<{ stats: { received: number } }>('SELECT stats FROM live_stats WHERE host = $1', [s.host]);
    assert.equal(rows.at(-1)?.stats.received, sent.length);

    // A reload applies what it can without reconnecting.
    await handle.reload({ ...config, live: { ...config.live, batch_rows: 100 } });
  } finally {
    const exit = await handle.stop();
    assert.equal(exit.archiveClosed, true);
  }

  // Archive: every message exactly once, with its flags; nothing left open.
  assert.deepEqual(partFiles(s.archiveDir), []);
  const archived = await readArchive(s.archiveDir);
  assert.equal(archived.length, sent.length);
  const bodies = archived.filter((m) => m.topic !== `${P}/register`).map((m) => `${m.topic} ${bodyOf(m)}`).sort();
  const expected = sent.filter(([t]) => t !== `${P}/register`).map(([t, b]) => `${t} ${b}`).sort();
  assert.deepEqual(bodies, expected);
  assert.equal(archived.filter((m) => m.topic === `${P}/register`).length, 4);
  assert.equal(archived.filter((m) => m.retain).length, 1, 'only the broker replay carries the retain flag');
  assert.equal(archived.filter((m) => m.qos === 0).length, 50);

  // Database: rows once, rejects counted for the live stream (NULL origin).
  assert.equal(await readingCount(db.pool), 101);
  const liveRejects = await rejectsByReason(db.pool);
  assert.deepEqual(liveRejects, { invalid_json: 1, payload_too_large: 1, retained: 1, unregistered: 1 });
  assert.equal(await count(db.pool, 'SELECT count(*) AS n FROM reject_counts WHERE origin_id IS NOT NULL'), 0);

  // Every closed file was loaded live: recorded so that inventory + ingest skip it.
  const files = archiveFiles(s.archiveDir);
  assert.ok(files.length >= 2, `expected rotation into several files, got ${files.length}`);
  assert.equal(await count(db.pool, `SELECT count(*) AS n FROM file_ingests WHERE loaded_by = 'live'`), files.length);
  const rowsRead = await count(db.pool, `SELECT sum(rows_read) AS n FROM file_ingests`);
  assert.equal(rowsRead, sent.length);
  await runInventory(db.pool, { ...configFor(writeLiveConfig(s, {}, 'inv.toml'), db), data_dirs: [s.archiveDir] });
  assert.deepEqual(await pendingFiles(db.pool, { host: s.host, reprocess: false }), []);

  // Replay: the archive through `tessdb ingest` into an empty database gives the same readings and rejects.
  const r = await runCli(['ingest', '-q', '-c', writeLiveConfig(s, {}, 'replay.toml'), ...files.flatMap((f) => ['--file', f])], {
    env: { TESSDB_DATABASE_URL: replay.url },
  });
  assert.ok(r.code === 0 || r.code === 1, r.stderr); // 1: files with bad input lines are "loaded with errors"
  assert.deepEqual(await readingRows(replay.pool), await readingRows(db.pool));
  assert.deepEqual(await rejectsByReason(replay.pool), liveRejects);
});
