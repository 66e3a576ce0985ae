/** Which inventoried files need ingesting: never ingested, content changed, or failed before. */
import type pg from 'pg';
import type { FileToIngest } from './ingest-file.js';
import { INGESTIBLE_KINDS } from './sources/index.js';

export interface PendingOptions {
  host: string;
  reprocess: boolean;
  since?: Date;
  until?: Date;
}

interface OriginRow {
  origin_id: string; path: string; kind: string; content_hash: string; size_bytes: string; mtime_ms: string;
}

function toFile(r: OriginRow): FileToIngest {
  return {
    originId: Number(r.origin_id),
    path: r.path,
    kind: r.kind as FileToIngest['kind'],
    contentHash: r.content_hash,
    sizeBytes: Number(r.size_bytes),
    mtimeMs: Number(r.mtime_ms),
  };
}

export async function pendingFiles(pool: pg.Pool, opts: PendingOptions): Promise<FileToIngest[]> {
  const { rows } = await pool.query<OriginRow>(
    `SELECT o.origin_id, o.path, o.kind, o.content_hash, o.size_bytes,
            (extract(epoch FROM o.mtime) * 1000)::bigint AS mtime_ms
       FROM file_origins o
      WHERE o.host = $1 AND o.missing_since IS NULL AND o.content_hash IS NOT NULL
        AND o.kind = ANY($2::text[])
        AND ($3::boolean OR NOT EXISTS (
              SELECT 1 FROM file_ingests i
               WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status <> 'failed'))
        AND ($4::timestamptz IS NULL OR o.mtime >= $4)
        AND ($5::timestamptz IS NULL OR o.mtime < $5)
      ORDER BY o.mtime, o.path`,
    [opts.host, INGESTIBLE_KINDS, opts.reprocess, opts.since ?? null, opts.until ?? null],
  );
  return rows.map(toFile);
}

/**
 * Ingested files (current content) with readings rejected as `unregistered` on a day on which their
 * name now has a mapping: a registration that arrived later (another file, a later run, a parallel
 * job) may make them loadable, so they are read again. Loading is idempotent.
 */
export async function reattributableFiles(pool: pg.Pool, host: string): Promise<FileToIngest[]> {
  const { rows } = await pool.query<OriginRow>(
    `SELECT o.origin_id, o.path, o.kind, o.content_hash, o.size_bytes,
            (extract(epoch FROM o.mtime) * 1000)::bigint AS mtime_ms
       FROM file_origins o
      WHERE o.host = $1 AND o.missing_since IS NULL AND o.content_hash IS NOT NULL
        AND o.kind = ANY($2::text[])
        AND EXISTS (SELECT 1 FROM file_ingests i
                     WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status <> 'failed')
        AND EXISTS (SELECT 1 FROM reject_counts rc JOIN name_to_mac m ON m.name = rc.name
                     WHERE rc.origin_id = o.origin_id AND rc.reason = 'unregistered'
                       AND m.valid_since < ((rc.day + 1)::timestamp AT TIME ZONE 'UTC')
                       AND m.valid_until > (rc.day::timestamp AT TIME ZONE 'UTC'))
      ORDER BY o.mtime, o.path`,
    [host, INGESTIBLE_KINDS],
  );
  return rows.map(toFile);
}

/**
 * The `settings` row that says "registrations were committed that may make readings of other files
 * loadable": written in the transaction of each file that changed the registry, cleared by the run
 * that read the affected files again. A run killed (or stopped by an outage) in between leaves it
 * set, and the next run reads those files again even if it loads no registration itself.
 */
const REREAD_KEY = 'ingest.reread_pending';

export async function markRereadPending(client: pg.ClientBase): Promise<void> {
  await client.query(
    `INSERT INTO settings (key, value) VALUES ($1, txid_current()::text)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [REREAD_KEY],
  );
}

/** The pending marker's value (null: none), to pass to `clearRereadPending` once the re-read is done. */
export async function rereadPendingToken(pool: pg.Pool): Promise<string | null> {
  const { rows } = await pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [REREAD_KEY]);
  return rows[0]?.value ?? null;
}

/** Clears the marker unless a file committed since `token` was read set it again. */
export async function clearRereadPending(pool: pg.Pool, token: string): Promise<void> {
  await pool.query('DELETE FROM settings WHERE key = $1 AND value = $2', [REREAD_KEY, token]);
}
