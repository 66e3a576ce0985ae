/** Shared pieces of the administrative commands: who is acting, transactions, reference lookups. */
import os from 'node:os';
import type pg from 'pg';
import { UserError } from '../util/errors.js';

/** The operating-system user behind a change (the sudo caller when run with sudo), recorded with it. */
export function actor(): string {
  if (process.env.SUDO_USER) return process.env.SUDO_USER;
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}

/** Run `fn` in a transaction on one client, with tessdb.actor set for the history triggers. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('tessdb.actor', $1, true)`, [actor()]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

type Queryable = pg.Pool | pg.ClientBase;

/** A location by numeric id or by site name (case-insensitive when unambiguous). */
export async function findLocation(db: Queryable, key: string): Promise<{ location_id: number; site: string }> {
  const trimmed = key.trim();
  const byId = /^-?\d+$/.test(trimmed);
  const { rows } = byId
    ? await db.query<{ location_id: number; site: string }>('SELECT location_id, site FROM locations WHERE location_id = $1', [Number(trimmed)])
    : await db.query<{ location_id: number; site: string }>(
        `SELECT location_id, site FROM locations WHERE site = $1
         UNION ALL
         SELECT location_id, site FROM locations WHERE lower(site) = lower($1) AND site <> $1 AND NOT EXISTS (SELECT 1 FROM locations WHERE site = $1)`,
        [trimmed],
      );
  if (rows.length === 1) return rows[0];
  if (rows.length > 1) throw new UserError(`location "${key}" is ambiguous (${rows.map((r) => `${r.location_id} ${r.site}`).join(', ')}): give its id`);
  throw new UserError(`no location ${byId ? 'with id ' : ''}"${key}" (see \`tessdb location list\`; create it with \`tessdb location create\`)`);
}

/** An observer by numeric id or by name (case-insensitive when unambiguous). */
export async function findObserver(db: Queryable, key: string): Promise<{ observer_id: number; name: string }> {
  const trimmed = key.trim();
  const byId = /^-?\d+$/.test(trimmed);
  const { rows } = byId
    ? await db.query<{ observer_id: number; name: string }>('SELECT observer_id, name FROM observers WHERE observer_id = $1', [Number(trimmed)])
    : await db.query<{ observer_id: number; name: string }>(
        `SELECT observer_id, name FROM observers WHERE name = $1
         UNION ALL
         SELECT observer_id, name FROM observers WHERE lower(name) = lower($1) AND name <> $1 AND NOT EXISTS (SELECT 1 FROM observers WHERE name = $1)`,
        [trimmed],
      );
  if (rows.length === 1) return rows[0];
  if (rows.length > 1) throw new UserError(`observer "${key}" is ambiguous (${rows.map((r) => `${r.observer_id} ${r.name}`).join(', ')}): give its id`);
  throw new UserError(`no observer ${byId ? 'with id ' : ''}"${key}" (see \`tessdb observer list\`; create it with \`tessdb observer create\`)`);
}

/** What to tell the operator after a change the live daemon caches. */
export const RELOAD_HINT =
  'a running `tessdb live` picks this change up when it reloads: `systemctl reload tessdb-live` (or `kill -HUP <pid>`)';
