/** Copies of origins on backup volumes or other hosts, matched by content hash. */
import type pg from 'pg';
import { ChunkBuilder, copyChunks, copyRow } from '../load/copy.js';
import { hashFile } from './hash.js';
import { isUnder, type FoundFile } from './scan.js';

export interface ReplicaSyncResult {
  scanned: number;
  hashed: number;
  matched: number;
  unmatched: number;
  missing: number;
}

export async function syncReplicas(pool: pg.Pool, host: string, roots: string[], found: FoundFile[]): Promise<ReplicaSyncResult> {
  const { rows } = await pool.query<{ path: string; size_bytes: string; mtime_ms: string; content_hash: string; missing: boolean }>(
    `SELECT path, size_bytes, (extract(epoch FROM mtime) * 1000)::bigint AS mtime_ms, content_hash,
            missing_since IS NOT NULL AS missing
       FROM file_replicas WHERE host = $1`,
    [host],
  );
  const known = new Map(rows.map((r) => [r.path, r]));
  const builder = new ChunkBuilder();
  let hashed = 0;
  for (const f of found) {
    const k = known.get(f.path);
    let hash = k && Number(k.size_bytes) === f.sizeBytes && Number(k.mtime_ms) === f.mtimeMs ? k.content_hash : null;
    if (!hash) {
      try {
        hash = await hashFile(f.path);
        hashed++;
      } catch {
        continue; // unreadable replica: not a usable copy
      }
    }
    builder.add(copyRow([f.path, f.sizeBytes, new Date(f.mtimeMs).toISOString(), hash]));
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE TEMP TABLE replicas_scan (path text, size_bytes bigint, mtime timestamptz, content_hash text) ON COMMIT DROP`);
    if (builder.rows > 0) await copyChunks(client, 'COPY replicas_scan FROM STDIN', builder.finish());
    await client.query(
      `INSERT INTO file_replicas (origin_id, host, path, size_bytes, mtime, content_hash)
       SELECT (SELECT o.origin_id FROM file_origins o WHERE o.content_hash = s.content_hash
                ORDER BY (o.missing_since IS NULL) DESC, o.origin_id LIMIT 1),
              $1, s.path, s.size_bytes, s.mtime, s.content_hash
         FROM replicas_scan s
       ON CONFLICT (host, path) DO UPDATE SET
         origin_id = EXCLUDED.origin_id, size_bytes = EXCLUDED.size_bytes, mtime = EXCLUDED.mtime,
         content_hash = EXCLUDED.content_hash, last_seen = now(), missing_since = NULL`,
      [host],
    );
    const foundPaths = new Set(found.map((f) => f.path));
    const gone = rows.filter((r) => !r.missing && !foundPaths.has(r.path) && isUnder(r.path, roots)).map((r) => r.path);
    if (gone.length) await client.query('UPDATE file_replicas SET missing_since = now() WHERE host = $1 AND path = ANY($2::text[])', [host, gone]);
    const { rows: counts } = await client.query<{ matched: string; unmatched: string }>(
      `SELECT count(*) FILTER (WHERE origin_id IS NOT NULL) AS matched, count(*) FILTER (WHERE origin_id IS NULL) AS unmatched
         FROM file_replicas WHERE host = $1 AND missing_since IS NULL`,
      [host],
    );
    await client.query('COMMIT');
    return { scanned: found.length, hashed, matched: Number(counts[0].matched), unmatched: Number(counts[0].unmatched), missing: gone.length };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export interface MissingReplica {
  path: string;
  sizeBytes: number;
  contentHash: string | null;
}

/** Origins of this host that have no present replica with the same content. */
export async function missingReplicas(pool: pg.Pool, host: string): Promise<MissingReplica[]> {
  const { rows } = await pool.query<{ path: string; size_bytes: string; content_hash: string | null }>(
    `SELECT o.path, o.size_bytes, o.content_hash FROM file_origins o
      WHERE o.host = $1 AND o.missing_since IS NULL
        AND NOT EXISTS (SELECT 1 FROM file_replicas r
                         WHERE r.content_hash = o.content_hash AND r.missing_since IS NULL)
      ORDER BY o.path`,
    [host],
  );
  return rows.map((r) => ({ path: r.path, sizeBytes: Number(r.size_bytes), contentHash: r.content_hash }));
}
