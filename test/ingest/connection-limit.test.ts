/**
 * `--jobs` beyond what the server lets this login open: the jobs are cut down to the room there is, with
 * a warning, instead of files failing with "too many connections". The limit is a role's CONNECTION LIMIT
 * (roles belong to the whole server, which parallel tests share: this run's own prefix, dropped at the end).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, onServer, type TestDatabase } from '../helpers/db.js';
import { readingLines, registerLine, removeDir, tempDir, writeArchive } from './helpers.js';

const prefix = `cl${crypto.randomBytes(4).toString('hex')}`;
const login = `${prefix}_loader`;
const password = `Cl-${crypto.randomBytes(6).toString('hex')}`;
const LIMIT = 8;
let db: TestDatabase;
let dir: string;

before(async () => {
  db = await freshDatabase('connlimit');
  const setup = await runCli(['setup', '-q', '--role-prefix', prefix], { env: dbEnv(db.url) });
  assert.equal(setup.code, 0, setup.stderr);
  await onServer((c) =>
    c.query(`CREATE ROLE ${c.escapeIdentifier(login)} LOGIN CONNECTION LIMIT ${LIMIT} PASSWORD ${c.escapeLiteral(password)} IN ROLE ${c.escapeIdentifier(`${prefix}_rw`)}`),
  );
  dir = tempDir('connlimit');
});

after(async () => {
  await db?.drop();
  await onServer(async (c) => {
    for (const role of [login, `${prefix}_ro`, `${prefix}_rw`]) await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`);
  });
  removeDir(dir);
});

test(`--jobs 8 for a login limited to ${LIMIT} connections: fewer jobs, a warning, every file loaded`, async () => {
  const files = Array.from({ length: 10 }, (_, h) => {
    const hour = String(h).padStart(2, '0');
    return writeArchive(path.join(dir, `tessdb_2026-11-01T${hour}.ndjson.gz`), [
      registerLine('stars1', 'AA:BB:CC:00:00:01', '2026-11-01T00:00:00.000Z'),
      ...readingLines('stars1', `2026-11-01T${hour}:00:00`, 30),
    ]);
  });
  const url = new URL(db.url);
  url.username = login;
  url.password = password;
  const r = await runCli(['ingest', '--jobs', '8', ...files.flatMap((f) => ['--file', f])], { env: dbEnv(url.toString()) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /--jobs 8 needs 18 database connections and the server has room for \d+: running \d jobs/);
  assert.doesNotMatch(r.stderr, /too many/);
  assert.equal(Number((await db.pool.query('SELECT count(*) AS n FROM readings')).rows[0].n), 300);
});
