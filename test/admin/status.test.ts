/** `tessdb status`: size, readings per month, photometers current/silent, inventory and replicas, daylight, live statistics. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { statusReport } from '../../src/status/queries.js';
import { buildFixture } from '../compat/fixture.js';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('status');
  await buildFixture(db.pool);
  // Inventory: one loaded file with a replica that disappeared, one failed file, one pending.
  const o = await db.pool.query<{ origin_id: string }>(
    `INSERT INTO file_origins (host, path, size_bytes, mtime, content_hash, kind) VALUES
       ('h1', '/a/1.ndjson.gz', 10, now(), 'aa', 'archive'),
       ('h1', '/a/2.ndjson.gz', 10, now(), 'bb', 'archive'),
       ('h1', '/a/3.ndjson.gz', 10, now(), 'cc', 'archive')
     RETURNING origin_id`,
  );
  const [one, two] = o.rows.map((r) => r.origin_id);
  await db.pool.query(
    `INSERT INTO file_ingests (origin_id, content_hash, status, started_at) VALUES ($1, 'aa', 'loaded', now()), ($2, 'bb', 'failed', now())`,
    [one, two],
  );
  await db.pool.query(
    `INSERT INTO file_replicas (origin_id, host, path, size_bytes, mtime, content_hash, missing_since) VALUES
       ($1, 'backup', '/b/1.ndjson.gz', 10, now(), 'aa', now()),
       ($2, 'backup', '/b/2.ndjson.gz', 10, now(), 'bb', NULL)`,
    [one, two],
  );
  await db.pool.query(`INSERT INTO live_stats (host, reported_at, stats) VALUES
    ('h1', now() - interval '2 hours', '{"received": 10}'), ('h1', now() - interval '5 minutes', '{"received": 99, "loaded": 97}')`);
});
after(async () => {
  await db?.drop();
});

test('status report: readings per month, photometers, inventory with replicas, daylight, latest live statistics', async () => {
  const r = await statusReport(db.pool, 'h1', { silentAfterMinutes: 60 });
  assert.deepEqual(
    r.readingsPerMonth.map((m) => [m.month, m.readings, m.exact]),
    [['2024-01', 20, true]],
  );
  assert.equal(r.readingsEstimate, 20);
  assert.ok(r.databaseBytes > 1_000_000);
  assert.deepEqual(r.registry, { current: 3, authorised: 1, unassigned: 1, silent: ['stars1', 'stars2'], neverSeen: ['stars3'], silentAfterMinutes: 60 });
  assert.deepEqual(r.inventory, {
    files: 3, pending: 2, failed: 1, withErrors: 0, unknownKind: 0, missing: 0, replicas: 1, missingReplicas: 1, withoutReplica: 2,
  });
  assert.deepEqual(r.daylight, { setting: 'drop', flagged: 2 });
  assert.equal(r.live.length, 1);
  assert.deepEqual(r.live[0].stats, { received: 99, loaded: 97 });
  assert.ok(r.live[0].minutesAgo >= 4 && r.live[0].minutesAgo <= 6);
});

test('tessdb status prints it', async () => {
  const res = await runCli(['status', 'host=h1'], { env: dbEnv(db.url) });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^photometers: 3 current \(1 authorised, 1 without location\), 2 silent for more than 60 min, 1 never seen$/m);
  assert.match(res.stdout, /^inventory: 3 files, 2 pending ingest, 1 failed/m);
  assert.match(res.stdout, /^replicas: 1 present, 1 missing; 2 files of this host without a replica$/m);
  assert.match(res.stdout, /^daylight filter: drop, 2 readings flagged$/m);
  assert.match(res.stdout, /^live h1: last report .* \(5 min ago\): loaded 97, received 99$/m);
  assert.match(res.stdout, /^2024-01\s+20\s/m);
});
