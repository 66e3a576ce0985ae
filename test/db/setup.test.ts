import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { dbEnv, runCli } from '../helpers/cli.js';
import { readMigrations } from '../../src/db/migrate.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('setup');
});
after(async () => {
  await db.drop();
});

test('setup applies every migration, then is a no-op', async () => {
  const first = await runCli(['setup', '--json'], { env: dbEnv(db.url) });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout).applied, readMigrations().map((m) => m.name));
  const second = await runCli(['setup'], { env: dbEnv(db.url) });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /up to date/);
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
  assert.equal(rows[0].n, readMigrations().length);
});
