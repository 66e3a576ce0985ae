import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RegisterEvent } from '../../src/model/types.js';
import { FOREVER, foldRegistry, manualEvent } from '../../src/registry/index.js';
import { MAC_A, MAC_B, MAC_C, MAC_D, at, tessw } from './fixtures.js';

const MACS = [MAC_A, MAC_B, MAC_C, MAC_D];
const NAMES = ['a', 'b', 'c', 'd', 'e'];

const eventArb: fc.Arbitrary<RegisterEvent> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ n: fc.constantFrom(...NAMES), m: fc.constantFrom(...MACS), t: fc.integer({ min: 0, max: 30 }), zp: fc.constantFrom(2, 20.5, 20.503, 20.51, 20.6) }).map(({ n, m, t, zp }) => tessw(n, m, at(t), zp)) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('authorise', 'unauthorise'), m: fc.constantFrom(...MACS), t: fc.integer({ min: 0, max: 30 }) }).map(({ op, m, t }) => manualEvent(op, m, 'x', at(t))) },
  // Administrative changes of version-controlled attributes (valid and invalid values) and renames.
  {
    weight: 2,
    arbitrary: fc
      .record({
        op: fc.constantFrom('set_zero_point', 'set_filter', 'set_azimuth', 'set_altitude', 'set_location'),
        m: fc.constantFrom(...MACS),
        t: fc.integer({ min: 0, max: 30 }),
        v: fc.constantFrom(0, 5, 20.5, 21.25, 45, 90, 400),
        channel: fc.constantFrom(undefined, 1, 2),
      })
      .map(({ op, m, t, v, channel }) => {
        const args: Record<string, unknown> =
          op === 'set_zero_point' ? { zp: v } : op === 'set_filter' ? { filter: v === 0 ? '' : `F${v}` } : op === 'set_location' ? { location_id: Math.round(v) } : { [op.slice(4)]: v };
        if (channel !== undefined && (op === 'set_zero_point' || op === 'set_filter')) args.channel = channel;
        return manualEvent(op, m, 'x', at(t), args);
      }),
  },
  { weight: 1, arbitrary: fc.record({ n: fc.constantFrom(...NAMES), m: fc.constantFrom(...MACS), t: fc.integer({ min: 0, max: 30 }) }).map(({ n, m, t }) => manualEvent('rename', m, n, at(t))) },
);
const eventsArb = fc.array(eventArb, { maxLength: 40 });

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
  return m;
}

test('fold invariants: contiguous versions per MAC, non-overlapping mappings per name and per MAC', () => {
  fc.assert(
    fc.property(eventsArb, (events) => {
      const { versions, mappings } = foldRegistry(events);
      for (const row of [...versions, ...mappings]) assert.ok(row.validSince < row.validUntil);
      for (const list of groupBy(versions, (v) => v.mac).values()) {
        list.forEach((v, i) => {
          if (i === list.length - 1) assert.deepEqual([v.validState, v.validUntil], ['Current', FOREVER]);
          else {
            assert.equal(v.validState, 'Expired');
            assert.equal(v.validUntil.getTime(), list[i + 1].validSince.getTime());
          }
        });
      }
      for (const key of [(m: (typeof mappings)[number]) => m.name, (m: (typeof mappings)[number]) => m.mac]) {
        for (const list of groupBy(mappings, key).values()) {
          const sorted = [...list].sort((x, y) => x.validSince.getTime() - y.validSince.getTime());
          sorted.forEach((m, i) => {
            if (i > 0) assert.ok(sorted[i - 1].validUntil <= m.validSince, 'overlapping mappings');
            assert.equal(m.validState === 'Current', m.validUntil.getTime() === FOREVER.getTime());
          });
        }
      }
      // Every mapping is covered by a version of its device from its start.
      for (const m of mappings) {
        assert.ok(versions.some((v) => v.mac === m.mac && v.validSince <= m.validSince && m.validSince < v.validUntil));
      }
    }),
    { numRuns: 300 },
  );
});

test('fold result does not depend on event order', () => {
  fc.assert(
    fc.property(eventsArb.chain((ev) => fc.tuple(fc.constant(ev), fc.shuffledSubarray(ev, { minLength: ev.length, maxLength: ev.length }))), ([events, shuffled]) => {
      assert.deepEqual(foldRegistry(shuffled), foldRegistry(events));
    }),
    { numRuns: 200 },
  );
});

test('folding one connected component alone gives that component’s part of the full fold', () => {
  fc.assert(
    fc.property(eventsArb, fc.constantFrom(...MACS), (events, seed) => {
      const macs = new Set([seed]);
      const names = new Set<string>();
      for (let grew = true; grew; ) {
        grew = false;
        for (const e of events) {
          if ((macs.has(e.mac) || names.has(e.name)) && !(macs.has(e.mac) && names.has(e.name))) {
            macs.add(e.mac);
            names.add(e.name);
            grew = true;
          }
        }
      }
      const full = foldRegistry(events);
      const part = foldRegistry(events.filter((e) => macs.has(e.mac)));
      assert.deepEqual(part.versions, full.versions.filter((v) => macs.has(v.mac)));
      assert.deepEqual(part.mappings, full.mappings.filter((m) => macs.has(m.mac) || names.has(m.name)));
    }),
    { numRuns: 200 },
  );
});
