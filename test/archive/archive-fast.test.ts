/**
 * The archive fast path (src/archive/archive-fast.ts) must never decide differently from the generic
 * path: whenever it encodes a line, decode + classify + encode gives the very same row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fastReading } from '../../src/archive/archive-fast.js';
import { colsText, readingOf } from '../../src/load/encoded.js';
import { BASES, envelope, generic, PREFIX } from './line-arbitraries.js';



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
