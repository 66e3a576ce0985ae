/**
 * `settings`: the few configuration values SQL users see through the views (sql/004). Written from
 * the configuration by `setup`, `ingest`/`backfill` and `live` (at start and on SIGHUP), so the
 * views follow the configuration of the tessdb processes.
 */
import type pg from 'pg';
import type { Config } from '../config/index.js';

export type DaylightMode = 'drop' | 'keep';

/** The settings a configuration implies, by key. */
export function settingsOf(config: Config): Record<string, string> {
  return { 'filter.daylight': config.filter.daylight };
}

/** Write the configuration's settings; rows whose value is already right are not touched. Returns the keys changed. */
export async function syncSettings(db: pg.Pool | pg.ClientBase, config: Config): Promise<string[]> {
  const wanted = settingsOf(config);
  const keys = Object.keys(wanted);
  const { rows } = await db.query<{ key: string }>(
    `INSERT INTO settings (key, value)
     SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
       WHERE settings.value IS DISTINCT FROM EXCLUDED.value
     RETURNING key`,
    [keys, keys.map((k) => wanted[k])],
  );
  return rows.map((r) => r.key);
}

/** What the database says now (the views' behaviour). */
export async function readSettings(db: pg.Pool | pg.ClientBase): Promise<Record<string, string>> {
  const { rows } = await db.query<{ key: string; value: string }>('SELECT key, value FROM settings ORDER BY key');
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}
