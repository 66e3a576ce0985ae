/** A snapshot of everything `setup` creates in one schema, to compare before and after a run. */
import type pg from 'pg';

export interface CatalogSnapshot {
  tables: unknown[];
  columns: unknown[];
  views: unknown[];
  indexes: unknown[];
  constraints: unknown[];
  enums: unknown[];
  migrations: unknown[];
  seedRows: unknown[];
}

export async function catalogSnapshot(pool: pg.Pool, schema: string): Promise<CatalogSnapshot> {
  const q = async (sql: string) => (await pool.query(sql, [schema])).rows;
  const ident = `"${schema.replace(/"/g, '""')}"`;
  return {
    tables: await q(`SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`),
    columns: await q(`SELECT table_name, column_name, ordinal_position, data_type, udt_name, is_nullable, column_default, is_identity
                        FROM information_schema.columns WHERE table_schema = $1 ORDER BY 1, 3`),
    views: await q(`SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = $1 ORDER BY 1`),
    indexes: await q(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1, 2`),
    constraints: await q(`SELECT c.conrelid::regclass::text AS rel, c.conname, pg_get_constraintdef(c.oid) AS def
                            FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                           WHERE n.nspname = $1 ORDER BY 1, 2`),
    enums: await q(`SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
                      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = $1 GROUP BY 1 ORDER BY 1`),
    migrations: (await pool.query(`SELECT version, name, checksum, applied_at FROM ${ident}.schema_migrations ORDER BY version`)).rows,
    seedRows: (
      await pool.query(`SELECT 'location' AS kind, location_id AS id, site AS name FROM ${ident}.locations
                         UNION ALL SELECT 'observer', observer_id, name FROM ${ident}.observers ORDER BY 1, 2`)
    ).rows,
  };
}

/** Names of the tables/views of a kind in a schema. */
export async function relationNames(pool: pg.Pool, schema: string, type: 'BASE TABLE' | 'VIEW'): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = $2 ORDER BY 1`,
    [schema, type],
  );
  return rows.map((r) => r.table_name);
}

export const COMPAT_VIEWS = ['date_t', 'location_t', 'name_to_mac_t', 'tess_readings_t', 'tess_t', 'tess_v', 'time_t'];
