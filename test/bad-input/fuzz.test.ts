/**
 * Hostile and random input through the parsers (issue 7, part): no crash, no unhandled rejection, and
 * every input either becomes a record or is counted as a reject with a reason. 130,000 inputs in all.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ArchiveLineError, decodeArchiveLine } from '../../src/archive/index.js';
import { classifyMessage } from '../../src/model/index.js';
import type { ArchiveMessage, RejectReason } from '../../src/model/types.js';
import { csvSource } from '../../src/ingest/sources/csv-source.js';
import { idaSource } from '../../src/ingest/sources/ida-source.js';
import { readingOf } from '../../src/load/encoded.js';
import type { RecordSource } from '../../src/ingest/sources/types.js';
import { ROOT } from '../helpers/cli.js';

const REASONS = new Set<RejectReason>([
  'invalid_json', 'invalid_payload', 'invalid_timestamp', 'payload_too_large', 'unknown_topic',
  'unregistered', 'not_authorised', 'retained', 'daylight', 'bad_line',
]);

const validReading = { seq: 1, name: 'stars1', freq: 12.5, mag: 19.2, tamb: 10, tsky: -12, rev: 1, tstamp: '2026-11-01T20:00:00' };

/** Strings a hostile publisher would try: SQL, quotes, NUL, control characters, huge and non-finite numbers. */
const nasty = fc.constantFrom(
  "stars1'; DROP TABLE readings; --", '"quoted"', 'a\u0000b', '\\N', '\t\n\r', 'ÿ\uFFFD', '1e400', 'NaN', '-Infinity',
  '9'.repeat(400), 'x'.repeat(70_000), '2026-13-45T25:61:61', '',
);
const hostileValue = fc.oneof(fc.anything({ maxDepth: 3 }), nasty, fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, -0));

const mutatedReading = fc
  .record({ field: fc.constantFrom(...Object.keys(validReading), 'az', 'F1', 'wdBm', 'lat'), value: hostileValue })
  .map(({ field, value }) => ({ ...validReading, [field]: value }));

const message = fc.record({
  topic: fc.oneof(fc.constant('STARS4ALL/stars1/reading'), fc.constant('STARS4ALL/register'), fc.string(), nasty),
  retain: fc.boolean(),
  payload: fc.oneof(mutatedReading, fc.anything({ maxDepth: 4 }), nasty),
});

function deep(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = { v };
  return v;
}

test('classifyMessage: 60,000 random and mutated messages are each a reading, a register or a reasoned reject', () => {
  const rx = new Date('2026-11-01T20:00:01Z');
  fc.assert(
    fc.property(message, ({ topic, retain, payload }) => {
      const msg: ArchiveMessage = { rx, topic, qos: 1, retain, payload };
      const c = classifyMessage(msg);
      assert.ok(c.kind === 'reading' || c.kind === 'register' || c.kind === 'reject');
      if (c.kind === 'reject') {
        assert.ok(REASONS.has(c.reject.reason), c.reject.reason);
        assert.ok(!c.reject.detail.includes('\n'));
      }
    }),
    { numRuns: 60_000 },
  );
  // Deeply nested and very large payloads are rejects, not crashes.
  for (const payload of [deep(10_000), { ...validReading, text: 'x'.repeat(10 * 1024 * 1024) }]) {
    const c = classifyMessage({ rx, topic: 'STARS4ALL/stars1/reading', qos: 1, retain: false, payload });
    assert.ok(['reading', 'reject'].includes(c.kind));
  }
});

test('decodeArchiveLine: 30,000 random and mutated lines decode or fail with a one-line ArchiveLineError', () => {
  const good = JSON.stringify({ rx: '2026-11-01T20:00:01.000Z', topic: 'STARS4ALL/stars1/reading', qos: 1, retain: false, payload: validReading });
  const mutated = fc
    .tuple(fc.nat({ max: good.length - 1 }), fc.nat({ max: 20 }), fc.string({ maxLength: 10 }))
    .map(([at, cut, insert]) => good.slice(0, at) + insert + good.slice(at + cut));
  fc.assert(
    fc.property(fc.oneof(mutated, fc.string({ maxLength: 300 }), fc.json()), (line) => {
      try {
        const m = decodeArchiveLine(line);
        assert.ok(m.rx instanceof Date && typeof m.topic === 'string');
      } catch (err) {
        assert.ok(err instanceof ArchiveLineError, `unexpected ${(err as Error).name}: ${(err as Error).message}`);
        assert.ok(!(err as Error).message.includes('\n'));
      }
    }),
    { numRuns: 30_000 },
  );
});

/** Lines made by cutting `good` at a random place and inserting a random or hostile string there. */
function mutatedLines(good: string, n: number, seed: number, delimiter: string): string[] {
  const mutated = fc
    .tuple(fc.nat({ max: good.length - 1 }), fc.nat({ max: 12 }), fc.oneof(fc.string({ maxLength: 8 }), nasty, fc.constant(delimiter)))
    .map(([at, cut, insert]) => (good.slice(0, at) + insert + good.slice(at + cut)).replace(/[\r\n]/g, ' '))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  return fc.sample(mutated, { numRuns: n, seed });
}

/** Reads `text` as `name` through `open`: every line is a reading or a reject with a reason and a detail. */
async function everyLineAccountedFor(name: string, text: string, lines: number, open: (file: string) => RecordSource): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-fuzz-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  try {
    let read = 0;
    let readings = 0;
    let rejects = 0;
    for await (const batch of open(file).batches) {
      read += batch.lines;
      readings += batch.readings.length + (batch.encoded?.length ?? 0);
      rejects += batch.rejects.length;
      for (const r of batch.rejects) assert.ok(REASONS.has(r.reason) && r.detail.length > 0 && !r.detail.includes('\n'), JSON.stringify(r));
      for (const r of [...batch.readings, ...(batch.encoded ?? []).map(readingOf)]) for (const v of Object.values(r)) if (typeof v === 'number') assert.ok(Number.isFinite(v), JSON.stringify(r));
    }
    assert.equal(read, lines);
    assert.equal(readings + rejects, lines);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('IDA reader: 20,000 mutated data lines are each a reading or a reject', async () => {
  const fixture = path.join(ROOT, 'test', 'fixtures', 'historical', 'ida', 'stars901_2023-05.dat');
  const text = fs.readFileSync(fixture, 'utf8');
  const header = text.slice(0, text.indexOf('# END OF HEADER')) + '# END OF HEADER\n';
  const lines = mutatedLines('2023-05-01T20:00:00.000;2023-05-01T22:00:00.000;12.5;-8.0;2.50;19.50;20.5;1000', 20_000, 42, ';');
  await everyLineAccountedFor('stars901_2023-05.dat', header + lines.join('\n') + '\n', lines.length, (f) =>
    idaSource(f, { topicPrefix: 'STARS4ALL', batchLines: 2000 }),
  );
});

test('CSV reader: 20,000 mutated rows of a tessdb export are each a reading or a reject', async () => {
  const fixture = path.join(ROOT, 'test', 'fixtures', 'historical', 'csv', 'tessdb-dump-stars901.csv');
  const header = fs.readFileSync(fixture, 'utf8').split('\n')[0];
  // Quotes are left out of the mutations: an unbalanced quote legitimately joins the rest of the file into one field.
  const lines = mutatedLines('2460066.375000,2023-05-01T21:00:00,2000,Observatorio UCM,stars901,2.60,19.60,20.44,-9.0,11.0', 20_000, 43, ',').map((l) =>
    l.replaceAll('"', "'"),
  );
  await everyLineAccountedFor('tessdb-dump-stars901.csv', header + '\n' + lines.join('\n') + '\n', lines.length, (f) =>
    csvSource(f, { topicPrefix: 'STARS4ALL', batchLines: 2000 }),
  );
});
