/**
 * Bring file_origins in line with a scan: new and changed files are hashed and upserted in one
 * COPY into a temporary table; unchanged ones only get last_seen; vanished ones get missing_since.
 */
import type pg from 'pg';
import { ChunkBuilder, copyChunks, copyRow } from '../load/copy.js';
import { hashFile } from './hash.js';
import { detectKind } from './kind.js';
import { isUnder, type FoundFile } from './scan.js';

interface KnownOrigin {
  path: string;
  size_bytes: string;
  mtime_ms: string;
  content_hash: string | null;
  missing: boolean;
}

export interface OriginSyncResult {
  scanned: number;
  added: number;
  changed: number;
  unchanged: number;
  missing: number;
  unknownKind: { path: string; reason: string }[];
  bytesHashed: number;
}

export async function syncOrigins(pool: pg.Pool, host: string, roots: string[], found: FoundFile[], onFile?: () => void): Promise<OriginSyncResult> {
  const { rows } = await pool.query<KnownOrigin>(
    `SELECT path, size_bytes, (extract(epoch FROM mtime) * 1000)::bigint AS mtime_ms, content_hash,
            missing_since IS NOT NULL AS missing
       FROM file_origins WHERE host = $1`,
    [host],
  );
  const known = new Map(rows.map((r) => [r.path, r]));
  const result: OriginSyncResult = { scanned: found.length, added: 0, changed: 0, unchanged: 0, missing: 0, unknownKind: [], bytesHashed: 0 };
  const upserts = new ChunkBuilder();
  const seen: string[] = [];
  for (const f of found) {
    const k = known.get(f.path);
    if (k && k.content_hash && Number(k.size_bytes) === f.sizeBytes && Number(k.mtime_ms) === f.mtimeMs) {
      result.unchanged++;
      seen.push(f.path);
      onFile?.();
      continue;
    }
    if (k) result.changed++;
    else result.added++;
    const kind = detectKind(f.path);
    if (kind.kind === 'unknown') result.unknownKind.push({ path: f.path, reason: kind.reason ?? 'unknown' });
    let hash: string | null = null;
    try {
      hash = await hashFile(f.path);
      result.bytesHashed += f.sizeBytes;
    } catch {
      /* unreadable: recorded with no hash and an 'unknown' kind reason */
    }
    upserts.add(copyRow([f.path, f.sizeBytes, new Date(f.mtimeMs).toISOString(), hash, kind.kind, kind.reason ?? null]));
    onFile?.();
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (upserts.rows > 0) await upsertOrigins(client, host, upserts.finish());
    if (seen.length > 0) {
      await client.query(
        'UPDATE file_origins SET last_seen = now(), missing_since = NULL WHERE host = $1 AND path = ANY($2::text[])',
        [host, seen],
      );
    }
    const foundPaths = new Set(found.map((f) => f.path));
    const gone = rows.filter((r) => !r.missing && !foundPaths.has(r.path) && isUnder(r.path, roots)).map((r) => r.path);
    if (gone.length > 0) {
      await client.query('UPDATE file_origins SET missing_since = now() WHERE host = $1 AND path = ANY($2::text[])', [host, gone]);
    }
    result.missing = gone.length;
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  return result;
}

async function upsertOrigins(client: pg.ClientBase, host: string, chunks: string[]): Promise<void> {
  await client.query(`CREATE TEMP TABLE origins_scan (path text, size_bytes bigint, mtime timestamptz,
                        content_hash text, kind text, kind_reason text) ON COMMIT DROP`);
  await copyChunks(client, 'COPY origins_scan FROM STDIN', chunks);
  await client.query(
    `INSERT INTO file_origins (host, path, size_bytes, mtime, content_hash, kind, kind_reason)
     SELECT $1, path, size_bytes, mtime, content_hash, kind, kind_reason FROM origins_scan
     ON CONFLICT (host, path) DO UPDATE SET
       size_bytes = EXCLUDED.size_bytes, mtime = EXCLUDED.mtime, content_hash = EXCLUDED.content_hash,
       kind = EXCLUDED.kind, kind_reason = EXCLUDED.kind_reason, last_seen = now(), missing_since = NULL`,
    [host],
  );
}
