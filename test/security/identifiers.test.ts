/**
 * Identifiers from the configuration are quoted, never spliced into SQL: with database.schema set to
 * names full of SQL syntax, quotes, spaces and backslashes, `setup` (with --roles), `ingest` and `status`
 * work, every table lands in that schema, and nothing outside it is touched. The only other identifier a
 * user chooses, the role prefix, is checked against a strict pattern.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { dbEnv, runCli, type CliResult } from '../helpers/cli.js';
import { freshDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { readingLines, registerLine, removeDir, tempDir, writeArchive } from '../ingest/helpers.js';

const SCHEMAS = [`we"ird; DROP TABLE x; --`, `Sp ace\\back'slash $1 %s`];
const rolePrefix = `sec${crypto.randomBytes(4).toString('hex')}`;
let db: TestDatabase;
let dir: string;
let archive: string;

/** Every relation of the database outside `except`, with the canary's contents. */
async function outside(except: string[]): Promise<unknown> {
  const { rows } = await db.pool.query(
    `SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname <> ALL($1) AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%'
        AND n.nspname NOT LIKE 'pg_toast_temp%' ORDER BY 1, 2`,
    [except],
  );
  const canary = await db.pool.query('SELECT i FROM public.x ORDER BY i');
  return { relations: rows, canary: canary.rows };
}

function configFile(schema: string): string {
  const file = path.join(dir, `${crypto.randomBytes(3).toString('hex')}.toml`);
  fs.writeFileSync(file, `[database]\nschema = ${JSON.stringify(schema)}\n`);
  return file;
}

function tessdb(schema: string, args: string[]): Promise<CliResult> {
  return runCli([...args, '-c', configFile(schema)], { env: dbEnv(db.url) });
}

before(async () => {
  db = await freshDatabase('ident');
  await db.pool.query('CREATE TABLE public.x (i int); INSERT INTO public.x VALUES (42)');
  dir = tempDir('ident');
  archive = writeArchive(path.join(dir, 'a.ndjson.gz'), [
    registerLine('stars1', 'AA:BB:CC:00:00:01', '2026-11-01T00:00:00.000Z'),
    ...readingLines('stars1', '2026-11-01T00:01:00', 3),
  ]);
});

after(async () => {
  await db?.drop();
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  for (const r of ['ro', 'rw']) await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(`${rolePrefix}_${r}`)}`);
  await c.end();
  removeDir(dir);
});

describe('database.schema with SQL syntax in it', () => {
  const before0: { value?: unknown } = {};

  it('a schema that was never set up is not silently replaced by public', async () => {
    // public holds a tessdb schema of its own (another installation); "we…" has none yet.
    const pub = await runCli(['setup', '-q'], { env: dbEnv(db.url) });
    assert.equal(pub.code, 0, pub.stderr);
    before0.value = await outside([]);
    const r = await tessdb(SCHEMAS[0], ['ingest', '--file', archive]);
    assert.notEqual(r.code, 0, 'ingest into a schema without tables must fail');
    assert.equal(Number((await db.pool.query('SELECT count(*) AS n FROM public.readings')).rows[0].n), 0, 'nothing went into public');
  });

  for (const schema of SCHEMAS) {
    it(`setup, ingest and status work in ${JSON.stringify(schema)}, touching nothing else`, async () => {
      const untouched = await outside(SCHEMAS);
      const setup = await tessdb(schema, ['setup', '--json', '--role-prefix', rolePrefix]);
      assert.equal(setup.code, 0, setup.stderr);
      assert.equal(JSON.parse(setup.stdout).schema, schema);
      const ingest = await tessdb(schema, ['ingest', '--file', archive, '--json']);
      assert.equal(ingest.code, 0, ingest.stderr);
      const status = await tessdb(schema, ['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).readingsEstimate, 3);

      const ident = `"${schema.replace(/"/g, '""')}"`;
      assert.equal(Number((await db.pool.query(`SELECT count(*) AS n FROM ${ident}.readings`)).rows[0].n), 3);
      const { rows } = await db.pool.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('readings', 'names', 'photometers', 'tess_readings_t', 'schema_migrations')`,
        [schema],
      );
      assert.equal(rows.length, 5, JSON.stringify(rows));
      const grants = await db.pool.query(`SELECT has_schema_privilege($1, $2, 'USAGE') AS usage, has_table_privilege($1, $3, 'SELECT') AS sel`, [
        `${rolePrefix}_ro`,
        schema,
        `${ident}.readings`,
      ]);
      assert.deepEqual(grants.rows[0], { usage: true, sel: true });
      assert.deepEqual(await outside(SCHEMAS), untouched, 'relations outside the schema changed');
    });
  }

  it('the canary and public are as they were', async () => {
    assert.deepEqual((await outside(SCHEMAS)) as object, before0.value as object);
  });
});

describe('the role prefix', () => {
  it('refuses anything but a plain lower-case identifier', async () => {
    for (const bad of ['x"; DROP ROLE postgres; --', 'Upper', 'a'.repeat(60)]) {
      const r = await runCli(['setup', '--role-prefix', bad], { env: dbEnv(db.url) });
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--role-prefix: .* must be 1 to 59 lower-case letters/);
    }
  });
});
