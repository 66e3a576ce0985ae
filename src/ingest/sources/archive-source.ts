/** `.ndjson.gz` archives written by `tessdb live`: lines → classified messages → records. */
import { openArchive } from '../../archive/reader.js';
import { classifyMessage } from '../../model/classify.js';
import type { RecordSource, SourceBatch, SourceOptions } from './types.js';

export function archiveSource(path: string, opts: SourceOptions): RecordSource {
  const archive = openArchive(path, { batchLines: opts.batchLines });
  const classifyOptions = { topicPrefix: opts.topicPrefix };
  // Lines that cannot be decoded have no time of their own: count them on the day of the last good one.
  let lastDay = new Date(0);
  async function* batches(): AsyncGenerator<SourceBatch> {
    for await (const lines of archive.batches) {
      const batch: SourceBatch = { readings: [], registers: [], rejects: [], lines: lines.length };
      for (const line of lines) {
        if (!line.message) {
          batch.rejects.push({
            reason: 'bad_line',
            name: null,
            day: lastDay,
            detail: line.error ?? `line ${line.lineNo}: unreadable`,
            sample: line.raw ?? '',
          });
          continue;
        }
        lastDay = line.message.rx;
        const c = classifyMessage(line.message, classifyOptions);
        if (c.kind === 'reading') batch.readings.push(c.reading);
        else if (c.kind === 'register') batch.registers.push(c.event);
        else batch.rejects.push(c.reject);
      }
      yield batch;
    }
  }
  return {
    batches: batches(),
    stats: () => ({
      truncated: archive.stats.truncated,
      problem: archive.stats.truncated ? archive.stats.truncatedDetail ?? 'truncated gzip stream' : undefined,
    }),
  };
}
