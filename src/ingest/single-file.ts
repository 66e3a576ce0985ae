/** `ingest --file PATH`: record one file as an origin (no directory scan) so it is ingested like any other. */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { hashFile } from '../inventory/hash.js';
import { detectKind } from '../inventory/kind.js';
import { UserError } from '../util/errors.js';
import type { FileToIngest } from './ingest-file.js';

/** With `dryRun`, nothing is written: a file not yet recorded gets originId 0. */
export async function registerSingleFile(pool: pg.Pool, host: string, file: string, dryRun = false): Promise<FileToIngest & { alreadyIngested: boolean }> {
  const abs = path.resolve(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new UserError(`${file}: no such file`);
  }
  const kind = detectKind(abs);
  if (kind.kind === 'unknown') throw new UserError(`${file}: cannot ingest: ${kind.reason}`);
  const hash = await hashFile(abs);
  const mtimeMs = Math.trunc(st.mtimeMs);
  const { rows } = dryRun
    ? await pool.query<{ origin_id: string }>('SELECT origin_id FROM file_origins WHERE host = $1 AND path = $2', [host, abs])
    : await pool.query<{ origin_id: string }>(
        `INSERT INTO file_origins (host, path, size_bytes, mtime, content_hash, kind)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (host, path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes, mtime = EXCLUDED.mtime,
           content_hash = EXCLUDED.content_hash, kind = EXCLUDED.kind, last_seen = now(), missing_since = NULL
         RETURNING origin_id`,
        [host, abs, st.size, new Date(mtimeMs), hash, kind.kind],
      );
  const originId = rows.length > 0 ? Number(rows[0].origin_id) : 0;
  const done = await pool.query(
    `SELECT 1 FROM file_ingests WHERE origin_id = $1 AND content_hash = $2 AND status <> 'failed'`,
    [originId, hash],
  );
  return { originId, path: abs, kind: kind.kind, contentHash: hash, sizeBytes: st.size, mtimeMs, alreadyIngested: (done.rowCount ?? 0) > 0 };
}
