import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSnapshot, FOREVER } from '../../src/registry/index.js';
import { at } from './fixtures.js';

test('segments: mapping ∩ version; a mapping time without a version resolves unauthorised', () => {
  const s = buildSnapshot(
    [{ name: 'n', mac: 'M', since: at(0), until: FOREVER }],
    [
      { mac: 'M', since: at(5), until: at(10), authorised: true },
      { mac: 'M', since: at(10), until: FOREVER, authorised: true },
    ],
  );
  assert.deepEqual(s.resolve('n', at(1)), { mac: 'M', authorised: false });
  assert.deepEqual(s.resolve('n', at(5)), { mac: 'M', authorised: true });
  assert.deepEqual(s.resolve('n', at(11)), { mac: 'M', authorised: true });
  // Equal neighbours share one object (no allocation per lookup).
  assert.equal(s.resolve('n', at(6)), s.resolve('n', at(60)));
  assert.equal(s.resolveMs('n', at(6).getTime()), s.resolve('n', at(6)));
});

test('resolveSpanMs: the unit when one holds over the whole span, else undefined', () => {
  const s = buildSnapshot(
    [
      { name: 'n', mac: 'M', since: at(0), until: at(20) },
      { name: 'n', mac: 'N', since: at(20), until: at(30) },
      { name: 'n', mac: 'M', since: at(40), until: FOREVER },
    ],
    [
      { mac: 'M', since: at(0), until: at(10), authorised: false },
      { mac: 'M', since: at(10), until: FOREVER, authorised: true },
      { mac: 'N', since: at(0), until: FOREVER, authorised: true },
    ],
  );
  const span = (a: number, b: number, name = 'n') => s.resolveSpanMs(name, at(a).getTime(), at(b).getTime());
  assert.deepEqual(span(11, 19), { mac: 'M', authorised: true });
  assert.equal(span(11, 11), s.resolve('n', at(11)));
  assert.equal(span(5, 15), undefined, 'the version changes at 10');
  assert.equal(span(15, 25), undefined, 'renamed to another photometer at 20');
  assert.equal(span(25, 45), undefined, 'unregistered from 30 to 40, then M again');
  assert.equal(span(35, 38), undefined, 'not registered at all');
  assert.equal(span(1, 1, 'other'), undefined);
  assert.deepEqual(span(41, 4000), { mac: 'M', authorised: true });
});

test('resolve costs about a microsecond or less', () => {
  const names = 1000;
  const mappings = [];
  const versions = [];
  for (let i = 0; i < names; i++) {
    const mac = `MAC${i}`;
    mappings.push({ name: `stars${i}`, mac, since: at(0), until: at(1000) }, { name: `stars${i}`, mac, since: at(2000), until: FOREVER });
    versions.push({ mac, since: at(0), until: at(500), authorised: false }, { mac, since: at(500), until: FOREVER, authorised: true });
  }
  const s = buildSnapshot(mappings, versions);
  const n = 2_000_000;
  const times = Array.from({ length: 64 }, (_, k) => at(k * 50));
  let hits = 0;
  const start = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    // Readings of a file: runs of one name at nearby times, names changing often.
    if (s.resolve(`stars${(k >> 4) % names}`, times[(k >> 10) & 63]) !== null) hits++;
  }
  const nsPerCall = Number(process.hrtime.bigint() - start) / n;
  assert.ok(hits > 0);
  console.log(`snapshot.resolve: ${nsPerCall.toFixed(0)} ns per call (incl. building the name string)`);
  assert.ok(nsPerCall < 5000, `${nsPerCall} ns per resolve`);
});
