/** What `tessdb status` shows: database size, readings per photometer, inventory state, rejects. */
import type pg from 'pg';
import { INGESTIBLE_KINDS } from '../ingest/sources/index.js';

export interface PhotometerStatus {
  name: string;
  readings: number | null; // exact when the table is small, else null
  first: Date | null;
  latest: Date | null;
  silentMinutes: number | null;
}

export interface StatusReport {
  databaseBytes: number;
  readingsEstimate: number;
  photometers: PhotometerStatus[];
  inventory: { files: number; pending: number; failed: number; withErrors: number; unknownKind: number; missing: number };
  rejects: Record<string, number>;
}

const EXACT_COUNT_LIMIT = 5_000_000;

export async function statusReport(pool: pg.Pool, host: string): Promise<StatusReport> {
  const size = await pool.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
  const est = await pool.query<{ n: string }>(
    `SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint AS n
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass`,
  );
  let estimate = Number(est.rows[0].n);
  const exact = estimate < EXACT_COUNT_LIMIT;
  const photometers = await pool.query<{ name: string; readings: string | null; first: Date | null; latest: Date | null }>(
    `SELECT n.name,
            ${exact ? '(SELECT count(*) FROM readings r WHERE r.name_id = n.name_id)' : 'NULL'} AS readings,
            (SELECT min(tstamp) FROM readings r WHERE r.name_id = n.name_id) AS first,
            (SELECT max(tstamp) FROM readings r WHERE r.name_id = n.name_id) AS latest
       FROM names n ORDER BY n.name`,
  );
  if (exact) estimate = photometers.rows.reduce((s, r) => s + Number(r.readings ?? 0), 0);
  const inv = await pool.query<Record<string, string>>(
    `SELECT count(*) FILTER (WHERE missing_since IS NULL) AS files,
            count(*) FILTER (WHERE missing_since IS NULL AND kind = ANY($2::text[]) AND NOT EXISTS (
              SELECT 1 FROM file_ingests i WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status <> 'failed')) AS pending,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM file_ingests i WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status = 'failed')) AS failed,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM file_ingests i WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status = 'loaded_with_errors')) AS with_errors,
            count(*) FILTER (WHERE kind = 'unknown') AS unknown_kind,
            count(*) FILTER (WHERE missing_since IS NOT NULL) AS missing
       FROM file_origins o WHERE host = $1`,
    [host, INGESTIBLE_KINDS],
  );
  const rejects = await pool.query<{ reason: string; n: string }>('SELECT reason, sum(count)::bigint AS n FROM reject_counts GROUP BY reason ORDER BY 2 DESC');
  const now = Date.now();
  const i = inv.rows[0];
  return {
    databaseBytes: Number(size.rows[0].bytes),
    readingsEstimate: estimate,
    photometers: photometers.rows
      .filter((r) => r.latest !== null)
      .map((r) => ({
        name: r.name,
        readings: r.readings === null ? null : Number(r.readings),
        first: r.first,
        latest: r.latest,
        silentMinutes: r.latest ? Math.floor((now - r.latest.getTime()) / 60_000) : null,
      })),
    inventory: {
      files: Number(i.files), pending: Number(i.pending), failed: Number(i.failed), withErrors: Number(i.with_errors),
      unknownKind: Number(i.unknown_kind), missing: Number(i.missing),
    },
    rejects: Object.fromEntries(rejects.rows.map((r) => [r.reason, Number(r.n)])),
  };
}
