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

interface Dimension {
  kind: 'location' | 'observer';
  table: 'locations' | 'observers';
  id: 'location_id' | 'observer_id';
  name: 'site' | 'name';
}

/**
 * A row by numeric id or by name (case-insensitive when unambiguous). Table and column names are the
 * fixed ones above, never input; the key is a parameter.
 */
async function findByIdOrName(db: Queryable, d: Dimension, key: string): Promise<{ id: number; name: string }> {
  const trimmed = key.trim();
  const byId = /^-?\d+$/.test(trimmed);
  const select = `SELECT ${d.id} AS id, ${d.name} AS name FROM ${d.table}`;
  const { rows } = byId
    ? await db.query<{ id: number; name: string }>(`${select} WHERE ${d.id} = $1`, [Number(trimmed)])
    : await db.query<{ id: number; name: string }>(
        `${select} WHERE ${d.name} = $1
         UNION ALL
         ${select} WHERE lower(${d.name}) = lower($1) AND ${d.name} <> $1 AND NOT EXISTS (SELECT 1 FROM ${d.table} WHERE ${d.name} = $1)`,
        [trimmed],
      );
  if (rows.length === 1) return rows[0];
  if (rows.length > 1) throw new UserError(`${d.kind} "${key}" is ambiguous (${rows.map((r) => `${r.id} ${r.name}`).join(', ')}): give its id`);
  throw new UserError(`no ${d.kind} ${byId ? 'with id ' : ''}"${key}" (see \`tessdb ${d.kind} list\`; create it with \`tessdb ${d.kind} create\`)`);
}

/** A location by numeric id or by site name (case-insensitive when unambiguous). */
export async function findLocation(db: Queryable, key: string): Promise<{ location_id: number; site: string }> {
  const r = await findByIdOrName(db, { kind: 'location', table: 'locations', id: 'location_id', name: 'site' }, key);
  return { location_id: r.id, site: r.name };
}

/** An observer by numeric id or by name (case-insensitive when unambiguous). */
export async function findObserver(db: Queryable, key: string): Promise<{ observer_id: number; name: string }> {
  const r = await findByIdOrName(db, { kind: 'observer', table: 'observers', id: 'observer_id', name: 'name' }, key);
  return { observer_id: r.id, name: r.name };
}

/** What to tell the operator after a change the live daemon caches. */
export const RELOAD_HINT =
  'a running `tessdb live` picks this change up when it reloads: `systemctl reload tessdb-live` (or `kill -HUP <pid>`)';
