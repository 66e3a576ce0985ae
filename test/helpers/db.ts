/** A fresh database per test file on the server the runner provides (test/run.mjs). */
import crypto from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.TESSDB_TEST_DATABASE_URL;
  if (!url) throw new Error('TESSDB_TEST_DATABASE_URL is not set: run the suite with `npm test` (test/run.mjs)');
  return url;
}

export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs `fn` on a client connected to the server itself (not to a test database), then disconnects. */
export async function onServer<T>(fn: (c: pg.Client) => Promise<T>, url = serverUrl()): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new database `name` on the server at `server` (e.g. an own EmbeddedServer); optionally a copy of `template`. */
export async function databaseOn(server: string, name: string, template?: string): Promise<TestDatabase> {
  await onServer(
    (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}${template ? ` TEMPLATE ${c.escapeIdentifier(template)}` : ''}`),
    server,
  );
  const url = withDatabaseName(server, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await onServer((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`), server);
    },
  };
}

export function freshDatabase(prefix = 't'): Promise<TestDatabase> {
  return databaseOn(serverUrl(), `${prefix}_${crypto.randomBytes(5).toString('hex')}`);
}
