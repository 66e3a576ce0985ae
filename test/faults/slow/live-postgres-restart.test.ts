/**
 * PostgreSQL stopped for 60 s and started again while `tessdb live` runs.
 *
 * Done: the daemon runs as a child process (`tessdb live -c FILE`) against a PostgreSQL server of this test's
 * own (embedded, on a free port; never the shared test server), on a steady QoS 1 stream of ~200 messages/s.
 * The server is stopped for real (`pg_ctl stop -m fast`: connections cut, port closed) for 60 s while the
 * stream goes on, then started again. The queue bound (live.max_queue_rows) is below what the outage brings
 * and files rotate during it, so recovery goes through the archive catch-up (closed files and the open one).
 *
 * Must hold: during the outage the daemon keeps archiving and acknowledging (its archived counter follows
 * the stream; mosquitto would hold everything beyond 20 unacknowledged messages); it recovers by itself,
 * without a restart; every published message is archived; every archived reading is loaded exactly once
 * (readings == distinct archived readings == published); the outage and the recovery are logged once each.
 * Figures: published, archived lines, loaded, lost, duplicated, time from PostgreSQL back to caught up.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { freePort } from '../../helpers/broker.js';
import {
  count,
  newSetup,
  partFiles,
  publisher,
  readArchive,
  readingCount,
  readingKeys,
  registerAll,
  removeDir,
  spawnDaemon,
  startBroker,
  waitFor,
  writeLiveConfig,
  type DaemonProcess,
  type LiveSetup,
  type TestBroker,
} from '../../live/helpers.js';
import { linesMatching, ownServer, SteadyStream, tryScrape, type OwnServer } from './helpers.js';

let broker: TestBroker;
let srv: OwnServer;
let s: LiveSetup;
let pub: MqttClient;
let daemon: DaemonProcess | undefined;

before(async () => {
  [broker, srv] = await Promise.all([startBroker(), ownServer()]);
  s = newSetup(broker, 'pgrestart');
  pub = await publisher(broker);
});

after(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
  await pub?.endAsync(true).catch(() => undefined);
  await broker?.stop();
  await srv?.destroy();
  if (s) removeDir(s.dir);
});

const RATE = 200; // messages/s
const OUTAGE_MS = 60_000;
const NAMES = ['stars1', 'stars2', 'stars3', 'stars4'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('PostgreSQL stopped for 60 s and restarted: archiving and acknowledging go on, all loaded once after', { timeout: 300_000 }, async (t) => {
  const metricsPort = await freePort();
  const cfg = writeLiveConfig(s, { flushMs: 200, rotateS: 20, batchRows: 500, batchMs: 200, maxQueueRows: 5000, metricsPort });
  const d = spawnDaemon(cfg, srv.db);
  daemon = d;
  const pool = srv.db.pool;
  await waitFor(() => `the daemon to subscribe\n${d.stderr()}`, () => d.stderr().includes('MQTT subscribed'), 20_000);
  await registerAll(pub, s.prefix, NAMES);
  await waitFor('the registrations in the database', async () => (await count(pool, 'SELECT count(*) AS n FROM register_events')) === NAMES.length);

  const stream = new SteadyStream(pub, s.prefix, NAMES, RATE);
  let total = 0;
  try {
    await waitFor('live loading', async () => (await readingCount(pool)) >= RATE * 2, 20_000);

    // The outage: a real stop of the server.
    const before = (await tryScrape(metricsPort))!;
    const seqAtStop = stream.seq;
    await srv.server.stopNow();
    const stoppedAt = Date.now();
    await waitFor(() => `the outage to be noticed\n${d.stderr()}`, () => /database unavailable/.test(d.stderr()), 20_000);
    // Archiving and acknowledging go on: sample the daemon's counters against the stream.
    const samples: { at: number; published: number; archived: number; available: number }[] = [];
    while (Date.now() < stoppedAt + OUTAGE_MS) {
      await sleep(Math.min(5000, Math.max(0, stoppedAt + OUTAGE_MS - Date.now())));
      const m = await tryScrape(metricsPort);
      assert.ok(m, `the daemon's metrics endpoint answers during the outage\n${d.stderr()}`);
      samples.push({ at: Date.now() - stoppedAt, published: stream.seq, archived: m.messages_archived_total, available: m.db_available });
    }
    assert.equal(d.child.exitCode, null, `the daemon is still running\n${d.stderr()}`);
    const last = samples[samples.length - 1];
    const publishedDuring = last.published - seqAtStop;
    const archivedDuring = last.archived - before.messages_archived_total;
    t.diagnostic(`outage samples (ms, published, archived, db_available): ${samples.map((x) => `${x.at}/${x.published}/${x.archived}/${x.available}`).join(' ')}`);
    assert.ok(samples.every((x) => x.available === 0), 'db_available is 0 throughout the outage');
    // Within a couple of seconds of the stream (flush window, scrape timing), never stuck at mosquitto's inflight window.
    assert.ok(archivedDuring >= publishedDuring - RATE * 2, `archived ${archivedDuring} of ${publishedDuring} published during the outage`);

    // PostgreSQL back: the daemon finds it by itself and catches up.
    const seqAtRestart = stream.seq;
    await srv.server.startKept();
    const backAt = Date.now();
    await waitFor(
      () => `everything published before the restart to be loaded\n${d.stderr()}`,
      async () => (await count(pool, 'SELECT count(*) AS n FROM readings WHERE seq <= $1', [seqAtRestart]).catch(() => -1)) === seqAtRestart,
      120_000,
    );
    const recoveryMs = Date.now() - backAt;
    await sleep(2000); // live loading again after the catch-up
    total = await stream.stop();
    await waitFor(() => `all ${total} readings loaded\n${d.stderr()}`, async () => (await readingCount(pool)) === total, 60_000);

    d.child.kill('SIGTERM');
    const exit = await d.exited;
    assert.equal(exit.code, 0, d.stderr());
    assert.deepEqual(partFiles(s.archiveDir), []);

    const archived = (await readArchive(s.archiveDir)).filter((m) => m.topic.endsWith('/reading'));
    const keys = readingKeys(archived, s.prefix);
    const loaded = await readingCount(pool);
    const lost = total - keys.size;
    const duplicated = archived.length - keys.size;
    t.diagnostic(
      `published ${total} (${publishedDuring} during the ${OUTAGE_MS / 1000} s outage), archived ${archived.length} reading lines ` +
        `(${keys.size} distinct), loaded ${loaded}, lost ${lost}, duplicated in the archive ${duplicated}, in the database 0; ` +
        `PostgreSQL back to caught up: ${(recoveryMs / 1000).toFixed(1)} s`,
    );
    assert.equal(keys.size, total, 'every published message is archived');
    assert.equal(loaded, total, 'every archived reading is loaded exactly once');
    for (let i = 1; i <= total; i++) assert.ok(keys.has(`${NAMES[i % NAMES.length]}/${i}`), `message ${i} archived`);

    // Logged clearly: the outage once, the recovery once, no error flood.
    const err = d.stderr();
    const outageLines = linesMatching(err, /database unavailable/);
    const backLines = linesMatching(err, /database available again/);
    t.diagnostic(`log: ${outageLines[0]} | ${backLines[0]} | ${linesMatching(err, /ERROR/).length} ERROR lines, ${err.split('\n').length} lines in all`);
    assert.equal(outageLines.length, 1, err);
    assert.equal(backLines.length, 1, err);
    assert.ok(linesMatching(err, /WARN|ERROR/).length <= 5, `a few warnings, not a flood:\n${err}`);
  } finally {
    await stream.stop();
  }
});
