/**
 * The byte scanner of archive lines (src/archive/archive-scan.ts, src/model/scan-payload.ts,
 * src/load/encode-scanned.ts) must never decide differently from the generic path: whenever it
 * encodes a line, decode + classify + encode of the same bytes gives the very same row. Lines are
 * written the way JSON allows but JSON.stringify never does (blanks, `5.0`, `1E3`, `-0`, escapes,
 * duplicate keys…), besides the writer's own layout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { scanArchiveReading } from '../../src/archive/archive-scan.js';
import { colsText, readingOf } from '../../src/load/encoded.js';
import { BASES, envelope, generic, PREFIX, spell, type Choices } from './line-arbitraries.js';



/** Scans `bytes` (in the middle of a larger buffer, as in a chunk) and checks it against the generic path; true when scanned. */
function assertSame(bytes: Buffer): boolean {
  const chunk = Buffer.concat([Buffer.from('xx\n'), bytes, Buffer.from('\nyy')]);
  const scanned = scanArchiveReading(chunk, 3, 3 + bytes.length, PREFIX);
  if (scanned === null) return false;
  const line = bytes.toString('utf8');
  const slow = generic(line);
  assert.ok(slow, `scanned a line the generic path does not load: ${line}`);
  assert.equal(slow.badField, null);
  assert.deepEqual(
    { name: scanned.name, ms: scanned.ms, saturated: scanned.saturated, cols: colsText(scanned) },
    { name: slow.name, ms: slow.ms, saturated: slow.saturated, cols: colsText(slow) },
    line,
  );
  assert.equal(JSON.stringify(readingOf(scanned)), JSON.stringify(readingOf(slow)));
  return true;
}

/** The writer's layout around a payload spelled by `spell`. */
const writerLine = (e: Record<string, unknown>, c: Choices) =>
  `{"rx":${JSON.stringify(e.rx)},"topic":${JSON.stringify(e.topic)},"qos":${e.qos},"retain":${e.retain},"payload":${spell(e.payload, c)}}`;

test('scan: the writer lines of TESS-W and TESS4C readings are scanned and encode exactly what the generic path does', () => {
  for (const p of BASES) {
    const line = JSON.stringify({ rx: '2026-11-01T20:00:01.000Z', topic: 'STARS4ALL/stars1/reading', qos: 1, retain: false, payload: p });
    assert.ok(assertSame(Buffer.from(line)), line);
    const noTime = JSON.stringify({ rx: '2026-11-01T20:00:01.000Z', topic: 'STARS4ALL/stars1/reading', qos: 0, retain: false, payload: { ...p, tstamp: undefined } });
    assert.ok(assertSame(Buffer.from(noTime)), noTime);
  }
});

test('scan: values spelled the unusual ways JSON allows are read as JSON.parse reads them', () => {
  const base = '{"rx":"2026-11-01T20:00:01.000Z","topic":"STARS4ALL/stars1/reading","qos":1,"retain":false,"payload":';
  const scanned = (payload: string) => assertSame(Buffer.from(`${base}${payload}}`));
  assert.ok(scanned('{"seq":1,"name":"Stars1","rev":1,"freq":50000.0,"mag":0.0,"tamb":-0,"tsky":1E1,"wdBm":-7e1}'));
  assert.ok(scanned('{ "seq" : 1 , "name" : "stars1" , "rev" : 2 , "freq" : 0.0000001 , "mag" : 21.000 , "tamb" : 5 , "tsky" : 12345678901234567 }'));
  assert.ok(scanned('{"seq":1,"name":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":4,"az":null,"azi":5.5,"note":"\\u00e9\\n","x":[]}') === false);
  assert.ok(scanned('{"seq":1,"name":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":4,"az":null,"azi":5.5,"note":"\\u00e9\\n"}'));
  assert.ok(!scanned('{"seq":1,"name":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":4,"seq":2}'), 'duplicate stored key');
  assert.ok(!scanned('{"seq":1,"n\\u0061me":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":4}'), 'escaped key');
  assert.ok(!scanned('{"seq":01,"name":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":4}'), 'not JSON');
  assert.ok(!scanned('{"seq":1,"name":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":4,}'), 'not JSON');
  assert.ok(!scanned('{"seq":1.5,"name":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":4}'), 'invalid seq');
  assert.ok(!scanned('{"seq":1,"name":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":3.5e38}'), 'does not fit real');
  // TESS4C: channels F1..F4, F1 stored as freq/mag; the payload's own freq/mag are still checked.
  const ch = (n: number, extra = '') => `"F${n}":{"freq":${n}.5,"mag":${18 + n}${extra}}`;
  const w = '"seq":1,"name":"stars1","rev":1';
  assert.ok(scanned(`{${w},${ch(1, ',"zp":20.1')},${ch(2)},${ch(3)},${ch(4, ',"band":"R","x":null')}}`));
  assert.ok(scanned(`{${w},"freq":9,"mag":null,${ch(4)},${ch(3)},${ch(2)},${ch(1)},"tamb":null}`));
  assert.ok(!scanned(`{${w},"freq":1e39,${ch(1)},${ch(2)},${ch(3)},${ch(4)}}`), 'top-level freq out of range');
  assert.ok(!scanned(`{${w},${ch(1)},${ch(2)},${ch(3)}}`), 'F4 missing');
  assert.ok(!scanned(`{${w},${ch(1)},${ch(2)},${ch(3)},"F4":{"freq":1}}`), 'F4 without mag');
  assert.ok(!scanned(`{${w},${ch(1)},${ch(2)},${ch(3)},${ch(4)},${ch(2)}}`), 'duplicate channel');
  assert.ok(!scanned(`{${w},"freq":1,"mag":2,"tamb":3,"tsky":4,${ch(2)}}`), 'F2 without F1');
  assert.ok(!scanned(`{${w},${ch(1, ',"zp":[1]')},${ch(2)},${ch(3)},${ch(4)}}`), 'nested value in a channel');
  // Not valid UTF-8 in a field nobody reads: the generic path decodes it to U+FFFD and loads the reading.
  const bad = Buffer.concat([Buffer.from(`${base}{"seq":1,"name":"stars1","rev":1,"freq":1,"mag":2,"tamb":3,"tsky":4,"x":"`), Buffer.from([0xff, 0xc3]), Buffer.from('"}}')]);
  assert.ok(assertSame(bad));
});

test('scan: 20,000 mutated and re-spelled lines, never a different decision from the generic path', () => {
  let scanned = 0;
  fc.assert(
    fc.property(envelope, fc.array(fc.nat(), { minLength: 30, maxLength: 90 }), (e, choices) => {
      if (assertSame(Buffer.from(writerLine(e as Record<string, unknown>, choices)))) scanned++;
    }),
    { numRuns: 20_000 },
  );
  assert.ok(scanned > 1000, `only ${scanned} lines were scanned`);
});
