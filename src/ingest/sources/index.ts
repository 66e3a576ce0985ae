/** Pick the reader for a file kind. */
import { UserError } from '../../util/errors.js';
import { archiveSource } from './archive-source.js';
import { csvSource } from './csv-source.js';
import { idaSource } from './ida-source.js';
import type { RecordSource, SourceOptions } from './types.js';

export type FileKind = 'archive' | 'ida' | 'csv' | 'sqlite' | 'unknown';
/** Kinds `tessdb ingest` loads; SQLite databases are loaded by `tessdb import-sqlite`. */
export const INGESTIBLE_KINDS: FileKind[] = ['archive', 'ida', 'csv'];

export function openSource(kind: FileKind, path: string, opts: SourceOptions): RecordSource {
  switch (kind) {
    case 'archive':
      return archiveSource(path, opts);
    case 'ida':
      return idaSource(path, opts);
    case 'csv':
      return csvSource(path, opts);
    case 'sqlite':
      throw new UserError(`${path}: a tessdb-server SQLite database: load it with \`tessdb import-sqlite ${path}\``);
    default:
      throw new UserError(`${path}: files of kind "${kind}" cannot be ingested`);
  }
}

export type { RecordSource, SourceBatch, SourceOptions, SourceStats } from './types.js';
