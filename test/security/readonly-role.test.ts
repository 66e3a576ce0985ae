/**
 * The read-only role of `tessdb setup --roles`: a LOGIN role granted <prefix>_ro reads every table, view
 * and monthly partition (also partitions created after setup), and every way of writing fails with
 * "permission denied" while the data stays as it was. Roles belong to the whole server, which parallel
 * tests share: each run uses its own --role-prefix and drops its roles at the end.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, onServer, type TestDatabase } from '../helpers/db.js';
import { readingLines, registerLine, removeDir, tempDir, writeArchive } from '../ingest/helpers.js';

const prefix = `sec${crypto.randomBytes(4).toString('hex')}`;
const login = `${prefix}_grafana`;
const loginPassword = `Ro-${crypto.randomBytes(6).toString('hex')}`;
const loader = `${prefix}_loader`;
let db: TestDatabase;
let dir: string;
let ro: pg.Client;
let readingsBefore: number;


before(async () => {
  db = await freshDatabase('ro');
  const setup = await runCli(['setup', '--json', '--role-prefix', prefix], { env: dbEnv(db.url) });
  assert.equal(setup.code, 0, setup.stderr);
  assert.deepEqual(JSON.parse(setup.stdout).roles, [`${prefix}_ro`, `${prefix}_rw`]);

  // Data loaded after setup --roles: its monthly partition is created by the loader, later than the grants.
  dir = tempDir('ro');
  const file = writeArchive(path.join(dir, 'a.ndjson.gz'), [
    registerLine('stars1', 'AA:BB:CC:00:00:01', '2026-11-01T00:00:00.000Z'),
    ...readingLines('stars1', '2026-11-01T00:01:00', 5),
  ]);
  const ingest = await runCli(['ingest', '--file', file], { env: dbEnv(db.url) });
  assert.equal(ingest.code, 0, ingest.stderr);

  await onServer(async (c) => {
    await c.query(`CREATE ROLE ${c.escapeIdentifier(login)} LOGIN PASSWORD ${c.escapeLiteral(loginPassword)} IN ROLE ${c.escapeIdentifier(`${prefix}_ro`)}`);
  });
  const url = new URL(db.url);
  url.username = login;
  url.password = loginPassword;
  ro = new pg.Client({ connectionString: url.toString() });
  await ro.connect();
  readingsBefore = Number((await ro.query('SELECT count(*) AS n FROM readings')).rows[0].n);
});

after(async () => {
  await ro?.end().catch(() => undefined);
  await db?.drop();
  await onServer(async (c) => {
    for (const role of [login, loader, `${prefix}_ro`, `${prefix}_rw`]) await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`);
  });
  removeDir(dir);
});

/** Runs `sql` as the read-only login and expects SQLSTATE 42501 (insufficient privilege). */
async function denied(sql: string, params: unknown[] = []): Promise<void> {
  await assert.rejects(ro.query(sql, params), (err: Error & { code?: string }) => {
    assert.equal(err.code, '42501', `${sql}: ${err.message}`);
    assert.match(err.message, /permission denied|must be owner/);
    return true;
  });
}

describe('a login granted the read-only role', () => {
  it('the roles themselves cannot log in', async () => {
    const { rows } = await ro.query('SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1', [[`${prefix}_ro`, `${prefix}_rw`]]);
    assert.deepEqual(rows, [
      { rolname: `${prefix}_ro`, rolcanlogin: false },
      { rolname: `${prefix}_rw`, rolcanlogin: false },
    ]);
  });

  it('reads the tables, the views and the monthly partitions', async () => {
    assert.equal(readingsBefore, 5);
    const { rows } = await ro.query(`SELECT
        (SELECT count(*)::int FROM readings_202611) AS partition,
        (SELECT count(*)::int FROM tess_readings_t) AS compat_view,
        (SELECT count(*)::int FROM photometers) AS photometers,
        (SELECT count(*)::int FROM names) AS names,
        (SELECT count(*)::int FROM register_events) AS events,
        (SELECT count(*)::int FROM schema_migrations) > 0 AS migrations,
        (SELECT count(*)::int FROM settings) > 0 AS settings`);
    assert.deepEqual(rows[0], { partition: 5, compat_view: 5, photometers: 1, names: 1, events: 1, migrations: true, settings: true });
  });

  it('cannot INSERT, UPDATE, DELETE, TRUNCATE or lock rows for update', async () => {
    await denied('INSERT INTO readings SELECT * FROM readings LIMIT 1');
    await denied('UPDATE readings SET mag = mag + 1');
    await denied('DELETE FROM readings');
    await denied('TRUNCATE readings');
    await denied('SELECT * FROM readings FOR UPDATE');
    await denied(`UPDATE settings SET value = 'keep'`);
    await denied(`INSERT INTO locations (site) VALUES ('x')`);
    await denied('DELETE FROM register_events');
  });

  it('cannot COPY into a table', async () => {
    const copy = ro.query(copyFrom('COPY names (name) FROM STDIN'));
    await assert.rejects(pipeline(Readable.from(['stars999\n']), copy), (err: Error & { code?: string }) => err.code === '42501');
    // The client is usable again after the failed COPY.
    await ro.query('SELECT 1');
  });

  it('cannot create, alter or drop anything, nor draw from sequences or call writing functions', async () => {
    await denied('CREATE TABLE sneaky (i int)');
    await denied(`CREATE TABLE readings_209901 PARTITION OF readings FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')`);
    await denied('CREATE SCHEMA sneaky');
    await denied('ALTER TABLE readings ADD COLUMN sneaky int');
    await denied('DROP VIEW tess_readings_t');
    await denied('DROP TABLE readings');
    await denied(`SELECT nextval(pg_get_serial_sequence('names', 'name_id'))`);
    await denied(`SELECT daylight_refresh(ARRAY['stars1'], ARRAY[now() - interval '1000 days'], ARRAY[now()])`);
    await denied(`SET ROLE ${ro.escapeIdentifier(`${prefix}_rw`)}`);
    await denied(`SELECT tessdb_ensure_partition('209901')`);
  });

  it('left the data as it was', async () => {
    assert.equal(Number((await ro.query('SELECT count(*) AS n FROM readings')).rows[0].n), readingsBefore);
    assert.equal(Number((await db.pool.query('SELECT count(*) AS n FROM names')).rows[0].n), 1);
  });
});

describe('a login granted the read-write role', () => {
  it('loads readings of a month that has no partition yet (created through tessdb_ensure_partition)', async () => {
    const password = `Rw-${crypto.randomBytes(6).toString('hex')}`;
    await onServer((c) =>
      c.query(`CREATE ROLE ${c.escapeIdentifier(loader)} LOGIN PASSWORD ${c.escapeLiteral(password)} IN ROLE ${c.escapeIdentifier(`${prefix}_rw`)}`),
    );
    const file = writeArchive(path.join(dir, 'b.ndjson.gz'), readingLines('stars1', '2027-03-01T00:01:00', 4));
    const url = new URL(db.url);
    url.username = loader;
    url.password = password;
    const ingest = await runCli(['ingest', '--file', file], { env: dbEnv(url.toString()) });
    assert.equal(ingest.code, 0, ingest.stderr);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n, (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'readings_202703') AS owner
                                            FROM readings_202703`);
    assert.equal(rows[0].n, 4);
    const owner = (await db.pool.query('SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = $1', ['readings'])).rows[0].o;
    assert.equal(rows[0].owner, owner, 'the partition belongs to the owner of readings, not to the loader');
  });

  it('cannot pass anything but a month to the partition function', async () => {
    await assert.rejects(db.pool.query(`SELECT tessdb_ensure_partition('2027; DROP TABLE readings')`), /month must be YYYYMM/);
  });
});
