/** Pick the reader for a file kind. */
import { UserError } from '../../util/errors.js';
import { archiveSource } from './archive-source.js';
import type { RecordSource, SourceOptions } from './types.js';

export type FileKind = 'archive' | 'ida' | 'csv' | 'sqlite' | 'unknown';
export const INGESTIBLE_KINDS: FileKind[] = ['archive'];

export function openSource(kind: FileKind, path: string, opts: SourceOptions): RecordSource {
  switch (kind) {
    case 'archive':
      return archiveSource(path, opts);
    default:
      throw new UserError(`${path}: files of kind "${kind}" cannot be ingested yet`);
  }
}

export type { RecordSource, SourceBatch, SourceOptions, SourceStats } from './types.js';
