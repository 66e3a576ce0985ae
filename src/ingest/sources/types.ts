/** What every file reader (archive, IDA, CSV) yields: records in file order, grouped in batches. */
import type { CsvFormatConfig } from '../../config/schema.js';
import type { EncodedReading } from '../../load/encoded.js';
import type { Reading, RegisterEvent, Reject } from '../../model/types.js';

export interface SourceBatch {
  readings: Reading[];
  /** Readings already encoded for COPY, in input order (a source uses either these or `readings`). */
  encoded?: EncodedReading[];
  registers: RegisterEvent[];
  rejects: Reject[];
  /** Input lines (or records) this batch covers, rejects included. */
  lines: number;
}

export interface SourceStats {
  truncated: boolean;
  /** One line describing a problem with the file as a whole (e.g. a truncated gzip tail). */
  problem?: string;
  /** Physical lines consumed so far, skipped ones included (archives only; current after each batch). */
  linesRead?: number;
}

export interface RecordSource {
  batches: AsyncIterable<SourceBatch>;
  /** Final once `batches` is exhausted. */
  stats(): SourceStats;
}

export interface SourceOptions {
  topicPrefix: string;
  batchLines: number;
  /** Generic CSV layouts (`[[csv.formats]]`); the built-in ones are always known. */
  csvFormats?: CsvFormatConfig[];
  /** Archives only: physical lines at the start that were loaded before (counted, not read again). */
  skipLines?: number;
  /** Archives only: stop after this physical line. */
  untilLine?: number;
}
