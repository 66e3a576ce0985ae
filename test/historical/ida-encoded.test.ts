/**
 * The IDA reader's rows encoded without a Reading (src/ingest/sources/ida-encode.ts) are the very rows
 * the Reading each stands for encodes to, and read back as that Reading for reject samples.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import fg from 'fast-glob';
import { idaSource } from '../../src/ingest/sources/ida-source.js';
import { colsText, encodedFromReading, readingOf } from '../../src/load/encoded.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('IDA fixtures: every encoded row equals the encoding of the Reading it reads back as', async () => {
  const files = await fg('test/fixtures/historical/ida/*.dat*', { cwd: ROOT, absolute: true });
  assert.ok(files.length > 0);
  let rows = 0;
  for (const file of files) {
    for await (const batch of idaSource(file, { topicPrefix: 'STARS4ALL', batchLines: 500 }).batches) {
      for (const e of batch.encoded ?? []) {
        const again = encodedFromReading(readingOf(e));
        assert.deepEqual([e.name, e.ms, e.saturated, colsText(e), e.badField], [again.name, again.ms, again.saturated, colsText(again), again.badField], file);
        rows++;
      }
    }
  }
  assert.ok(rows > 0);
});
