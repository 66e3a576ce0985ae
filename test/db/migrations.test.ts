/** `setup` and migrate(): idempotency, edited-migration refusal, new and failing migrations, quoted schemas. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { migrate, readMigrations, type Migration } from '../../src/db/migrate.js';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { catalogSnapshot, COMPAT_VIEWS, relationNames } from './catalog.js';

const dbs: TestDatabase[] = [];
async function fresh(): Promise<TestDatabase> {
  const db = await freshDatabase('mig');
  dbs.push(db);
  return db;
}
after(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

function migration(version: number, name: string, sql: string): Migration {
  return { version, name, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') };
}

const EXPECTED_TABLES = [
  'file_ingests',
  'file_origins',
  'file_replicas',
  'live_stats',
  'locations',
  'name_to_mac',
  'names',
  'observers',
  'photometers',
  'readings',
  'register_events',
  'reject_counts',
  'schema_migrations',
];

test('setup twice: the second run changes nothing in the catalog', async () => {
  const db = await fresh();
  const first = await runCli(['setup', '--json'], { env: dbEnv(db.url) });
  assert.equal(first.code, 0, first.stderr);
  const before = await catalogSnapshot(db.pool, 'public');
  assert.ok(before.tables.length > 0 && before.indexes.length > 0 && before.views.length > 0);

  const second = await runCli(['setup', '--json'], { env: dbEnv(db.url) });
  assert.equal(second.code, 0, second.stderr);
  const out = JSON.parse(second.stdout) as { applied: string[]; upToDate: boolean; schema: string };
  assert.deepEqual(out.applied, []);
  assert.equal(out.upToDate, true);
  assert.equal(out.schema, 'public');

  const afterSecond = await catalogSnapshot(db.pool, 'public');
  assert.deepEqual(afterSecond, before);
});

test('setup creates the documented tables and the compatibility views', async () => {
  const db = await fresh();
  const r = await runCli(['setup'], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, r.stderr);
  const tables = await relationNames(db.pool, 'public', 'BASE TABLE');
  for (const t of EXPECTED_TABLES) assert.ok(tables.includes(t), `table ${t} missing (have ${tables.join(', ')})`);
  assert.deepEqual(await relationNames(db.pool, 'public', 'VIEW'), COMPAT_VIEWS);
  const { rows } = await db.pool.query(`SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'readings'::regclass`);
  assert.equal(rows[0]?.partstrat, 'r', 'readings is range-partitioned');
});

test('an applied migration that was edited is refused, naming the file, and nothing else is applied', async () => {
  const db = await fresh();
  const migrations = readMigrations();
  await migrate(db.pool, 'public', migrations);
  const before = await catalogSnapshot(db.pool, 'public');

  const edited = migrations.map((m) => (m.version === 1 ? migration(m.version, m.name, `${m.sql}\n-- edited afterwards\n`) : m));
  const withNew = [...edited, migration(999, '999_should_not_apply.sql', 'CREATE TABLE should_not_exist (x int);')];
  await assert.rejects(migrate(db.pool, 'public', withNew), (err: Error) => {
    assert.match(err.message, /001_schema\.sql/);
    assert.match(err.message, /edited|checksum/);
    return true;
  });
  const { rowCount } = await db.pool.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'should_not_exist'`);
  assert.equal(rowCount, 0);
  assert.deepEqual(await catalogSnapshot(db.pool, 'public'), before);
});

test('an edited migration makes the CLI setup fail with a message naming the file', async () => {
  // Same check as above, through the recorded checksum: simulate a file edited after it was applied.
  const db = await fresh();
  const first = await runCli(['setup'], { env: dbEnv(db.url) });
  assert.equal(first.code, 0, first.stderr);
  await db.pool.query(`UPDATE schema_migrations SET checksum = 'not-the-file' WHERE version = 2`);
  const r = await runCli(['setup'], { env: dbEnv(db.url) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /002_compat_views\.sql/);
});

test('a new migration is applied on its own; the old ones are not re-run', async () => {
  const db = await fresh();
  const migrations = readMigrations();
  const first = await migrate(db.pool, 'public', migrations);
  assert.deepEqual(
    first.applied.map((m) => m.name),
    migrations.map((m) => m.name),
  );
  const next = migration(900, '900_extra.sql', 'CREATE TABLE extra_things (id int PRIMARY KEY);');
  const second = await migrate(db.pool, 'public', [...migrations, next]);
  assert.deepEqual(
    second.applied.map((m) => m.name),
    ['900_extra.sql'],
  );
  assert.equal(second.upToDate, false);
  const third = await migrate(db.pool, 'public', [...migrations, next]);
  assert.equal(third.upToDate, true);
  const { rows } = await db.pool.query('SELECT version FROM schema_migrations ORDER BY version');
  assert.deepEqual(
    rows.map((r) => r.version),
    [...migrations.map((m) => m.version), 900],
  );
});

test('a failing migration is rolled back entirely and named', async () => {
  const db = await fresh();
  await migrate(db.pool, 'public');
  const bad = migration(901, '901_broken.sql', 'CREATE TABLE half_done (id int);\nSELECT no_such_function();');
  await assert.rejects(migrate(db.pool, 'public', [...readMigrations(), bad]), /901_broken\.sql/);
  const { rowCount } = await db.pool.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`);
  assert.equal(rowCount, 0);
  const { rows } = await db.pool.query('SELECT max(version)::int AS v FROM schema_migrations');
  assert.equal(rows[0].v, Math.max(...readMigrations().map((m) => m.version)));
});

test('setup into a schema whose name needs quoting ("My Schema")', async () => {
  const db = await fresh();
  const schema = 'My Schema';
  const r = await runCli(['setup', '--json', `database.schema=${schema}`], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { schema: string; applied: string[] };
  assert.equal(out.schema, schema);
  assert.deepEqual(out.applied, readMigrations().map((m) => m.name));

  const tables = await relationNames(db.pool, schema, 'BASE TABLE');
  for (const t of EXPECTED_TABLES) assert.ok(tables.includes(t), `table ${t} missing in "${schema}"`);
  assert.deepEqual(await relationNames(db.pool, schema, 'VIEW'), COMPAT_VIEWS);
  // Nothing leaked into public.
  assert.deepEqual(await relationNames(db.pool, 'public', 'BASE TABLE'), []);
  assert.deepEqual(await relationNames(db.pool, 'public', 'VIEW'), []);
  for (const view of COMPAT_VIEWS) await db.pool.query(`SELECT * FROM "My Schema".${view} LIMIT 1`);
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "My Schema".time_t`);
  assert.equal(rows[0].n, 86400);

  // Idempotent there too, with an unchanged catalog.
  const before = await catalogSnapshot(db.pool, schema);
  const again = await runCli(['setup', `database.schema=${schema}`], { env: dbEnv(db.url) });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /up to date/);
  assert.deepEqual(await catalogSnapshot(db.pool, schema), before);
});

test('two schemas in one database are independent', async () => {
  const db = await fresh();
  const pub = await runCli(['setup'], { env: dbEnv(db.url) });
  assert.equal(pub.code, 0, pub.stderr);
  const r = await runCli(['setup', '--json', 'database.schema=tess2'], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { applied: string[] }).applied, readMigrations().map((m) => m.name));
  assert.deepEqual(await relationNames(db.pool, 'tess2', 'VIEW'), COMPAT_VIEWS);
  await db.pool.query(`INSERT INTO tess2.names (name) VALUES ('stars1')`);
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM public.names`);
  assert.equal(rows[0].n, 0);
  // The view in tess2 reads tess2's tables, not public's.
  const { rows: dep } = await db.pool.query(
    `SELECT DISTINCT n.nspname FROM pg_depend d
       JOIN pg_rewrite rw ON rw.oid = d.objid
       JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
        AND rw.ev_class = 'tess2.tess_readings_t'::regclass AND c.oid <> rw.ev_class`,
  );
  assert.deepEqual(
    dep.map((r) => r.nspname),
    ['tess2'],
  );
});

test('setup --roles creates the read-only and read-write roles, idempotently', async () => {
  const db = await fresh();
  for (let i = 0; i < 2; i++) {
    const r = await runCli(['setup', '--json', '--roles'], { env: dbEnv(db.url) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { roles: string[] }).roles, ['tessdb_ro', 'tessdb_rw']);
  }
  const { rows } = await db.pool.query(`SELECT has_table_privilege('tessdb_ro', 'readings', 'SELECT') AS ro_select,
                                               has_table_privilege('tessdb_ro', 'readings', 'INSERT') AS ro_insert,
                                               has_table_privilege('tessdb_rw', 'readings', 'INSERT') AS rw_insert`);
  assert.deepEqual(rows[0], { ro_select: true, ro_insert: false, rw_insert: true });
});

test('ingest and live refuse a database without the schema or with an older one, saying to run setup', async () => {
  const db = await fresh();
  const none = await runCli(['ingest', '-q', "data_dirs=['examples']"], { env: dbEnv(db.url) });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no tessdb schema "public": run `tessdb setup` first/);
  const setup = await runCli(['setup', '-q'], { env: dbEnv(db.url) });
  assert.equal(setup.code, 0, setup.stderr);
  const latest = Math.max(...readMigrations().map((m) => m.version));
  await db.pool.query('DELETE FROM schema_migrations WHERE version = $1', [latest]); // as if set up by the previous release
  const old = await runCli(['ingest', '-q', "data_dirs=['examples']"], { env: dbEnv(db.url) });
  assert.notEqual(old.code, 0);
  assert.match(old.stderr, new RegExp(`schema "public" is at version ${latest - 1}, this tessdb needs version ${latest}: run \`tessdb setup\` to upgrade it`));
  const archive = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-old-schema-'));
  try {
    const live = await runCli(['live', 'mqtt.url=mqtt://127.0.0.1:1', `archive.dir=${archive}`], { env: dbEnv(db.url) });
    assert.notEqual(live.code, 0);
    assert.match(live.stderr, /run `tessdb setup` to upgrade it/);
  } finally {
    fs.rmSync(archive, { recursive: true, force: true });
  }
});
