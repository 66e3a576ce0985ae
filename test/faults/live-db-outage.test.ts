/**
 * The database goes away while `tessdb live` runs: archiving and acknowledging go on, the bounded queue
 * overflows and is dropped, and once the database is back the daemon catches up from the archive (closed
 * files through the ingest path with their records, the open file's flushed prefix through the loader) —
 * every reading ends up loaded exactly once. Then SIGUSR1/SIGUSR2 semantics: pause and resume database writes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { startLive } from '../../src/live/index.js';
import { onServer, type TestDatabase } from '../helpers/db.js';
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
let s: LiveSetup;
let pub: MqttClient;

before(async () => {
  [broker, db] = await Promise.all([startBroker(), migratedDatabase('liveoutage')]);
  s = newSetup(broker, 'outage');
  pub = await publisher(broker);
});

after(async () => {
  await pub?.endAsync(true).catch(() => undefined);
  await broker?.stop();
  await db?.drop();
  if (s) removeDir(s.dir);
});

/** Runs `sql` on the server's maintenance connection (not on the database under test). */
const admin = (sql: string): Promise<unknown> => onServer((c) => c.query(sql));

const dbName = (): string => new URL(db.url).pathname.slice(1);

test('database outage with queue overflow, then pause/resume: every reading loaded once', async () => {
  const handle = await startLive(configFor(writeLiveConfig(s, { rotateS: 2, maxQueueRows: 1000, batchRows: 200 }), db));
  const names = ['stars1', 'stars2', 'stars3', 'stars4'];
  const t0 = Date.now() + 10_000;
  let seq = 0;
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) {
      seq++;
      const name = names[seq % names.length];
      await publish(pub, `${s.prefix}/${name}/reading`, readingPayload(name, seq, t0 + seq * 1000));
      if (seq % 100 === 0) await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await handle.subscribed;
    await registerAll(pub, s.prefix, names);
    await send(200);
    await waitFor('the first rows', async () => (await readingCount(db.pool)) === 200);

    // Outage: no new connections, existing ones terminated.
    const ident = `"${dbName()}"`;
    await admin(`ALTER DATABASE ${ident} ALLOW_CONNECTIONS false`);
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName()}'`);
    await send(1500); // > live.max_queue_rows: the queue overflows
    await new Promise((r) => setTimeout(r, 2200)); // files rotate during the outage
    await send(100);
    await waitFor('everything archived', () => handle.stats().archived === 4 + seq);
    const during = handle.stats();
    assert.equal(during.db_available, false);
    assert.ok(during.dropped > 0, 'the queue overflowed and dropped its copies');
    assert.ok(during.queue <= 1000);

    await admin(`ALTER DATABASE ${ident} ALLOW_CONNECTIONS true`);
    await waitFor('the catch-up', async () => (await readingCount(db.pool)) === seq, 40_000);
    await handle.settle();
    assert.ok(handle.stats().catch_up_files >= 1, 'files closed during the outage were caught up through ingest');

    // Pause (SIGUSR1): archived and acknowledged, not loaded; resume (SIGUSR2): loaded.
    handle.pause();
    const before = seq;
    await send(100);
    await waitFor('the paused messages archived', () => handle.stats().archived === 4 + seq);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await readingCount(db.pool), before);
    handle.resume();
    await waitFor('the rows after resume', async () => (await readingCount(db.pool)) === seq);
    // A file of its own after the outage: loaded live, recorded when stop closes it.
    await new Promise((r) => setTimeout(r, 2100));
    await send(20);
    await waitFor('the last rows', async () => (await readingCount(db.pool)) === seq);
    await handle.settle();
  } finally {
    await admin(`ALTER DATABASE "${dbName()}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await handle.stop();
  }

  assert.deepEqual(partFiles(s.archiveDir), []);
  const keys = readingKeys(await readArchive(s.archiveDir), s.prefix);
  assert.equal(keys.size, seq);
  assert.equal(await readingCount(db.pool), seq);
  // Every archive file has its ingest record: loaded live, or caught up through the ingest path.
  const files = archiveFiles(s.archiveDir);
  const { rows } = await db.pool.query<{ loaded_by: string; n: string }>(
    `SELECT i.loaded_by, count(*) AS n FROM file_origins o JOIN file_ingests i ON i.origin_id = o.origin_id AND i.content_hash = o.content_hash
      WHERE o.path = ANY($1::text[]) AND i.status <> 'failed' GROUP BY 1`,
    [files],
  );
  const by = Object.fromEntries(rows.map((r) => [r.loaded_by, Number(r.n)]));
  assert.equal((by.live ?? 0) + (by.ingest ?? 0), files.length, JSON.stringify(by));
  assert.ok(by.ingest >= 1 && by.live >= 1, JSON.stringify(by));
  assert.equal(await count(db.pool, `SELECT count(*) AS n FROM reject_counts`), 0);
});
