/**
 * The archive fast path (src/archive/archive-fast.ts) must never decide differently from the generic
 * path: whenever it encodes a line, decode + classify + encode gives the very same row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fastReading } from '../../src/archive/archive-fast.js';
import { decodeArchiveLine } from '../../src/archive/index.js';
import { colsText, encodedFromReading, readingOf } from '../../src/load/encoded.js';
import { classifyMessage } from '../../src/model/index.js';
import { TESS4C_READING, TESSW_REV1, TESSW_REV2, TESSW_REV3 } from '../model/fixtures.js';

const PREFIX = 'STARS4ALL';
const BASES: Record<string, unknown>[] = [TESSW_REV1, TESSW_REV2, TESSW_REV3, TESS4C_READING].map((p) => ({ ...(p as object), tstamp: '2026-11-01T20:00:00' }));

function generic(line: string) {
  try {
    const c = classifyMessage(decodeArchiveLine(line), { topicPrefix: PREFIX });
    return c.kind === 'reading' ? encodedFromReading(c.reading) : null;
  } catch {
    return null;
  }
}

function assertSame(line: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return false;
  }
  const fast = fastReading(value, line, PREFIX);
  if (fast === null) return false;
  const slow = generic(line);
  assert.ok(slow, `fast path loaded a line the generic path does not: ${line}`);
  assert.deepEqual({ name: fast.name, ms: fast.ms, saturated: fast.saturated, cols: colsText(fast) }, { name: slow.name, ms: slow.ms, saturated: slow.saturated, cols: colsText(slow) });
  assert.equal(slow.badField, null);
  assert.equal(JSON.stringify(readingOf(fast)), JSON.stringify(readingOf(slow))); // -0 reads back as 0, as Postgres stores it
  return true;
}

const oddValue = fc.oneof(
  fc.double(), fc.integer(), fc.constantFrom(null, 0, -0, 1e400, 3.5e38, 1e-39, 2 ** 31, -32769, '', '17.3', true, 'x', [], {}),
  fc.constantFrom('2026-11-01T20:00:00Z', '2026-11-01 20:00:00.123456+01:00', '2014-12-31T23:59:59', '2026-11-03T20:00:00', '2026-02-29T00:00:00', ' STARS1 ', 'Stars-2_x'),
);
const field = fc.constantFrom('seq', 'name', 'rev', 'freq', 'mag', 'tamb', 'tsky', 'wdBm', 'az', 'azi', 'alt', 'lat', 'long', 'height', 'tstamp', 'F1', 'F2', 'F4', 'text');
const payload = fc
  .tuple(fc.constantFrom(...BASES), fc.array(fc.tuple(field, oddValue, fc.boolean()), { maxLength: 3 }))
  .map(([base, edits]) => {
    const p: Record<string, unknown> = structuredClone(base);
    for (const [k, v, remove] of edits) {
      if (remove) delete p[k];
      else p[k] = v;
    }
    return p;
  });
/** Mostly `usual`, sometimes one of `odd`. */
const mostly = <T>(usual: T, ...odd: T[]) => fc.oneof({ weight: 4, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
const envelope = fc.record({
  rx: mostly<unknown>('2026-11-01T20:00:01.000Z', '2026-11-01T20:00:01.000Z', '2026-11-01T20:00:01Z', '2026-02-30T20:00:01.000Z', '2026-11-01T20:00:01.1x3Z', 5),
  topic: mostly('STARS4ALL/stars1/reading', 'STARS4ALL/register', 'STARS4ALL//reading', 'STARS4ALL/a/b/reading', 'OTHER/stars1/reading'),
  qos: mostly<unknown>(1, 0, 2, 3, undefined, '1'),
  retain: mostly<unknown>(false, true, undefined, 'false'),
  payload,
});

test('fast path: the common lines take it and encode exactly what the generic path does', () => {
  for (const p of BASES) {
    const line = JSON.stringify({ rx: '2026-11-01T20:00:01.000Z', topic: 'STARS4ALL/stars1/reading', qos: 1, retain: false, payload: p });
    assert.ok(assertSame(line), `not on the fast path: ${line}`);
    const own = JSON.stringify({ rx: '2026-11-01T20:00:01.000Z', topic: 'STARS4ALL/stars1/reading', payload: { ...p, tstamp: undefined } });
    assert.ok(assertSame(own), `not on the fast path: ${own}`);
  }
});

test('fast path: 20,000 mutated lines, never a different decision from the generic path', () => {
  let fast = 0;
  fc.assert(
    fc.property(envelope, (e) => {
      if (assertSame(JSON.stringify(e))) fast++;
    }),
    { numRuns: 20_000 },
  );
  assert.ok(fast > 1000, `only ${fast} lines took the fast path`);
});
