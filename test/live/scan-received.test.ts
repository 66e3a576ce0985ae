/**
 * The live receiver's fast path (src/archive/scan-received.ts) must never decide differently from the generic
 * path (encodeReceived → classifyMessage → encodedFromReading): whenever it takes a message, it writes the very
 * same archive line bytes and encodes the very same row; everything it leaves (null) goes the generic way.
 * Messages come with odd topics, retain flags, QoS values, size limits and payload bytes spelled the ways JSON
 * allows but JSON.stringify never does (blanks with CR/LF, `5.0`, `1E3`, `-0`, escapes, duplicate keys…),
 * besides bytes that are not UTF-8 or not JSON.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeReceived, type ReceivedMessage } from '../../src/archive/encode-received.js';
import { scanReceived } from '../../src/archive/scan-received.js';
import { colsText, encodedFromReading, readingOf } from '../../src/load/encoded.js';
import { classifyMessage } from '../../src/model/index.js';
import { BASES, payload as payloadArbitrary, spell } from '../archive/line-arbitraries.js';

const PREFIX = 'STARS4ALL';
const MAX = 4096;
const RX_MS = Date.UTC(2026, 10, 1, 20, 0, 1, 250);

function message(payload: Buffer | string, over: Partial<ReceivedMessage> = {}): ReceivedMessage {
  const rxMs = over.rxMs ?? RX_MS;
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return { rx: new Date(rxMs), rxMs, topic: `${PREFIX}/stars1/reading`, qos: 1, retain: false, ...over, payload: bytes };
}

/**
 * Runs both paths on `m`: the archive lines must be the same bytes, and when the fast path takes the message, the
 * generic path must load it as a reading with the same row. Returns whether the fast path took it.
 */
function assertSame(m: ReceivedMessage, max = MAX): boolean {
  const fast = scanReceived(m, max, PREFIX);
  if (fast === null) return false;
  const slow = encodeReceived(m, max);
  const shown = `${m.topic} retain=${m.retain} ${JSON.stringify(m.payload.toString('latin1'))}`;
  assert.equal(Buffer.from(fast.line).toString('hex'), Buffer.from(slow.line).toString('hex'), shown);
  const c = classifyMessage(slow.message, { topicPrefix: PREFIX });
  assert.equal(c.kind, 'reading', `the fast path took a message the generic path does not load (${c.kind === 'reject' ? c.reject.reason : c.kind}): ${shown}`);
  if (c.kind !== 'reading') return true;
  const row = encodedFromReading(c.reading);
  assert.equal(row.badField, null, shown);
  assert.deepEqual(
    { name: fast.row.name, ms: fast.row.ms, saturated: fast.row.saturated, cols: colsText(fast.row) },
    { name: row.name, ms: row.ms, saturated: row.saturated, cols: colsText(row) },
    shown,
  );
  assert.equal(JSON.stringify(readingOf(fast.row)), JSON.stringify(readingOf(row)));
  return true;
}

test('scan-received: the usual TESS-W and TESS4C readings take the fast path and match the generic path', () => {
  for (const p of BASES) {
    assert.ok(assertSame(message(JSON.stringify(p))), JSON.stringify(p));
    assert.ok(assertSame(message(JSON.stringify({ ...p, tstamp: undefined }), { qos: 0 })));
    assert.ok(assertSame(message(JSON.stringify({ ...p, tstamp: null }), { qos: 2 })));
  }
});

test('scan-received: retained messages, other topics, oversize and non-JSON payloads are left to the generic path', () => {
  const p = JSON.stringify(BASES[1]);
  assert.ok(assertSame(message(p)));
  assert.ok(!assertSame(message(p, { retain: true })), 'retained');
  for (const topic of [`${PREFIX}/register`, `${PREFIX}//reading`, `${PREFIX}/a/b/reading`, 'OTHER/stars1/reading', `${PREFIX}/stars1/readings`, PREFIX]) {
    assert.ok(!assertSame(message(p, { topic })), topic);
  }
  assert.ok(!assertSame(message(p), p.length - 1), 'oversize');
  assert.ok(assertSame(message(p), p.length), 'exactly at the limit');
  assert.ok(!assertSame(message(`${p}x`)), 'trailing garbage');
  assert.ok(!assertSame(message(`${p}${p}`)), 'two objects');
  assert.ok(!assertSame(message(`\ufeff${p}`)), 'byte order mark');
  assert.ok(!assertSame(message(Buffer.concat([Buffer.from(p.slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xc3]), Buffer.from('"}')]))), 'not UTF-8');
  assert.ok(!assertSame(message(JSON.stringify({ ...BASES[2], tstamp: '2026-11-03T20:00:00' }))), 'more than 24 h ahead: invalid_timestamp');
});

test('scan-received: blanks (CR/LF too) around and inside the payload are archived as the generic path archives them', () => {
  const p = JSON.stringify(BASES[2]);
  assert.ok(assertSame(message(` \r\n\t${p}\r\n `)));
  assert.ok(assertSame(message(p.replace(/,/g, ',\r\n  ').replace(/":/g, '" :\t'))));
  assert.ok(assertSame(message(p.replace('"seq"', '"note":"a\\r\\nb\\u00e9 caf\u00e9","seq"'))), 'escaped CR/LF and UTF-8 in a string nobody reads');
  assert.ok(assertSame(message(p, { topic: `${PREFIX}/st"ar\u00f1\\1/reading` })), 'a topic that needs quoting');
  assert.ok(assertSame(message(p, { qos: 7 })), 'an impossible QoS is archived as 0 on both paths');
});

/** One generated message: mostly the usual, sometimes odd. */
const mostly = <T>(usual: T, ...odd: T[]) => fc.oneof({ weight: 4, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
const generated = fc.record({
  topic: mostly(`${PREFIX}/stars1/reading`, `${PREFIX}/register`, `${PREFIX}//reading`, `${PREFIX}/a/b/reading`, 'OTHER/stars1/reading', `${PREFIX}/St\u00e4rs "1"/reading`),
  retain: mostly(false, true),
  qos: mostly(1, 0, 2, 3),
  rxMs: mostly(RX_MS, Date.UTC(2014, 11, 31, 23, 59, 59, 999), Date.UTC(2026, 9, 31, 20, 0, 0), Date.UTC(2026, 10, 2, 20, 0, 0)),
  max: mostly(MAX, 120, 300),
  payload: payloadArbitrary,
  choices: fc.array(fc.nat(), { minLength: 30, maxLength: 90 }),
  /** 0: as spelled; 1: blanks around; 2: not UTF-8 in an extra string; 3: trailing garbage; 4: cut short; 5: not an object. */
  wrap: mostly(0, 1, 2, 3, 4, 5),
});

function payloadBytes(g: { payload: Record<string, unknown>; choices: number[]; wrap: number }): Buffer {
  const text = spell(g.payload, g.choices);
  switch (g.wrap) {
    case 1:
      return Buffer.from(`\r\n ${text}\t\n`);
    case 2:
      return Buffer.concat([Buffer.from(`${text.slice(0, text.lastIndexOf('}'))},"bad":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    case 3:
      return Buffer.from(`${text} x`);
    case 4:
      return Buffer.from(text.slice(0, Math.max(0, text.length - 3)));
    case 5:
      return Buffer.from(`[${text}]`);
    default:
      return Buffer.from(text);
  }
}

test('scan-received: 20,000 generated messages, never a different line or decision from the generic path', () => {
  let scanned = 0;
  fc.assert(
    fc.property(generated, (g) => {
      const m = message(payloadBytes(g), { topic: g.topic, retain: g.retain, qos: g.qos, rxMs: g.rxMs });
      if (assertSame(m, g.max)) scanned++;
    }),
    { numRuns: 20_000 },
  );
  assert.ok(scanned > 1000, `only ${scanned} messages were scanned`);
});
