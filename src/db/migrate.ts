/**
 * Versioned schema migrations: sql/NNN_name.sql applied in order, each in its own transaction,
 * recorded with a checksum. An applied file that was edited afterwards is refused.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { UserError } from '../util/errors.js';

export const SQL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'sql');
const LOCK_KEY = 0x7e55db; // advisory lock: one setup at a time per database

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: Migration[];
  upToDate: boolean;
}

export function readMigrations(dir = SQL_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = fs.readFileSync(path.join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 3)),
        name: file,
        sql,
        checksum: crypto.createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export async function migrate(pool: pg.Pool, schema: string, migrations = readMigrations()): Promise<MigrationResult> {
  const client = await pool.connect();
  try {
    const ident = client.escapeIdentifier(schema);
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
    await client.query(`SET search_path TO ${ident}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${ident}.schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      `SELECT version, name, checksum FROM ${ident}.schema_migrations ORDER BY version`,
    );
    const applied = new Map(rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const done = applied.get(m.version);
      if (done && done.checksum !== m.checksum) {
        throw new UserError(`migration ${m.name} was edited after it was applied (checksum differs); add a new migration file instead`);
      }
    }
    const pending = migrations.filter((m) => !applied.has(m.version));
    for (const m of pending) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO ${ident}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
    }
    return { applied: pending, upToDate: pending.length === 0 };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}

/**
 * Refuses, with what to do, a database whose tessdb schema is missing or older than this tessdb's SQL
 * files (loaders call functions of the latest migrations): `tessdb setup` creates or upgrades it.
 */
export async function requireCurrentSchema(pool: pg.Pool, schema: string, migrations = readMigrations()): Promise<void> {
  const latest = Math.max(0, ...migrations.map((m) => m.version));
  const table = `${pg.escapeIdentifier(schema)}.schema_migrations`;
  const { rows } = await pool.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
  if (!rows[0]?.exists) throw new UserError(`the database has no tessdb schema "${schema}": run \`tessdb setup\` first`);
  const { rows: applied } = await pool.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${table}`);
  const version = applied[0]?.version ?? 0;
  if (version < latest) {
    throw new UserError(`the database schema "${schema}" is at version ${version}, this tessdb needs version ${latest}: run \`tessdb setup\` to upgrade it`);
  }
}

/** Optional roles: <prefix>_ro can read everything, <prefix>_rw can also write. Never required. */
export async function createRoles(pool: pg.Pool, schema: string, prefix = 'tessdb'): Promise<string[]> {
  const client = await pool.connect();
  try {
    const s = client.escapeIdentifier(schema);
    const ro = client.escapeIdentifier(`${prefix}_ro`);
    const rw = client.escapeIdentifier(`${prefix}_rw`);
    for (const role of [`${prefix}_ro`, `${prefix}_rw`]) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (rowCount) continue;
      try {
        await client.query(`CREATE ROLE ${client.escapeIdentifier(role)} NOLOGIN`);
      } catch (err) {
        // Roles belong to the cluster: a setup of another database may have created it meanwhile.
        const code = (err as { code?: string }).code;
        if (code !== '42710' && code !== '23505') throw err;
      }
    }
    await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${ro}, ${rw}`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${ro}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${ro}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${rw}`);
    await client.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${rw}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${rw}`);
    await client.query(`GRANT CREATE ON SCHEMA ${s} TO ${rw}`);
    await client.query(`GRANT EXECUTE ON FUNCTION ${s}.tessdb_ensure_partition(text) TO ${rw}`);
    return [`${prefix}_ro`, `${prefix}_rw`];
  } finally {
    client.release();
  }
}
