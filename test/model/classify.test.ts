import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classifyMessage, type ArchiveMessage, type ClassifiedMessage, type Reject } from '../../src/model/index.js';
import { msg, readingMsg, RX, TESS4C_READING, TESS4C_REGISTER, TESSW_REGISTER, TESSW_REV1, TESSW_REV2, TESSW_REV3 } from './fixtures.js';

function rejectOf(c: ClassifiedMessage): Reject {
  assert.equal(c.kind, 'reject');
  return (c as { reject: Reject }).reject;
}

function assertWellFormedReject(r: Reject): void {
  assert.equal(typeof r.reason, 'string');
  assert.ok(r.name === null || (typeof r.name === 'string' && r.name.length <= 64 && !/[\u0000-\u001f]/.test(r.name)));
  assert.ok(r.day instanceof Date && r.day.getTime() % 86400000 === 0, 'day is a UTC midnight');
  assert.equal(typeof r.detail, 'string');
  assert.ok(r.detail.length > 0 && !/[\u0000-\u001f]/.test(r.detail), 'detail is one printable line');
  assert.equal(typeof r.sample, 'string');
  assert.ok(r.sample.length <= 2000 && !r.sample.includes('\u0000'));
}

describe('classifyMessage', () => {
  it('readings on STARS4ALL/<name>/reading', () => {
    for (const p of [TESSW_REV1, TESSW_REV2, TESSW_REV3, TESS4C_READING]) {
      const c = classifyMessage(readingMsg(p));
      assert.equal(c.kind, 'reading', JSON.stringify(c));
      assert.equal(c.kind === 'reading' && c.reading.name, p.name);
    }
  });

  it('register events on STARS4ALL/register', () => {
    const w = classifyMessage(msg('STARS4ALL/register', TESSW_REGISTER));
    assert.equal(w.kind, 'register');
    assert.equal(w.kind === 'register' && w.event.model, 'TESS-W');
    const c = classifyMessage(msg('STARS4ALL/register', TESS4C_REGISTER));
    assert.equal(c.kind === 'register' && c.event.model, 'TESS4C');
  });

  it('payload name wins when it disagrees with the topic', () => {
    const c = classifyMessage(msg('STARS4ALL/stars999/reading', TESSW_REV1));
    assert.equal(c.kind === 'reading' && c.reading.name, 'stars1');
  });

  it('unknown topics', () => {
    for (const topic of [
      'STARS4ALL/stars1/readings',
      'STARS4ALL/stars1/reading/x',
      'STARS4ALL/a/b/reading',
      'STARS4ALL//reading',
      'STARS4ALL/reading',
      'STARS4ALL/registerx',
      'STARS4ALL/register/',
      'STARS4ALL',
      'STARS4ALL/',
      'stars4all/stars1/reading',
      'STARS4ALLX/stars1/reading',
      'other/stars1/reading',
      '',
      '$SYS/broker/uptime',
    ]) {
      const r = rejectOf(classifyMessage(msg(topic, TESSW_REV1)));
      assert.equal(r.reason, 'unknown_topic', topic);
      assert.ok(r.detail.includes(JSON.stringify(topic)));
      assert.equal(r.name, 'stars1');
      assertWellFormedReject(r);
    }
  });

  it('honours topicPrefix', () => {
    const opts = { topicPrefix: 'test/tess' };
    assert.equal(classifyMessage(msg('test/tess/stars1/reading', TESSW_REV1), opts).kind, 'reading');
    assert.equal(classifyMessage(msg('test/tess/register', TESSW_REGISTER), opts).kind, 'register');
    assert.equal(rejectOf(classifyMessage(msg('STARS4ALL/stars1/reading', TESSW_REV1), opts)).reason, 'unknown_topic');
  });

  it('retained messages are rejects, readings and registers alike', () => {
    const r = rejectOf(classifyMessage(readingMsg(TESSW_REV1, { retain: true })));
    assert.equal(r.reason, 'retained');
    assert.equal(r.name, 'stars1');
    assert.equal(r.day.toISOString(), '2024-03-01T00:00:00.000Z');
    assertWellFormedReject(r);
    assert.equal(rejectOf(classifyMessage(msg('STARS4ALL/register', TESSW_REGISTER, { retain: true }))).reason, 'retained');
    const own = rejectOf(classifyMessage(readingMsg({ ...TESSW_REV3, tstamp: '2024-02-28T23:00:00Z' }, { retain: true })));
    assert.equal(own.day.toISOString(), '2024-02-28T00:00:00.000Z', 'day of the reading time when known');
  });

  it('non-JSON payloads are invalid_json, named after the topic', () => {
    const r = rejectOf(classifyMessage(msg('STARS4ALL/Stars5/reading', '{"seq":1,"tamb":nan}', { raw: 'utf8' })));
    assert.equal(r.reason, 'invalid_json');
    assert.equal(r.name, 'stars5');
    assert.equal(r.sample, '{"seq":1,"tamb":nan}');
    assertWellFormedReject(r);
    const b = rejectOf(classifyMessage(msg('STARS4ALL/register', '//79', { raw: 'base64' })));
    assert.equal(b.reason, 'invalid_json');
    assert.equal(b.name, null);
    assert.equal(b.sample, 'base64://79');
    const nul = rejectOf(classifyMessage(msg('STARS4ALL/s/reading', 'a\u0000b\nc', { raw: 'utf8' })));
    assertWellFormedReject(nul);
  });

  it('oversize payloads are payload_too_large', () => {
    const r = rejectOf(classifyMessage(msg('STARS4ALL/stars1/reading', 'QUJD', { raw: 'base64', oversize: 1048577 })));
    assert.equal(r.reason, 'payload_too_large');
    assert.match(r.detail, /1048577 bytes/);
    assert.equal(r.name, 'stars1');
    assertWellFormedReject(r);
  });

  it('non-object JSON is invalid_payload', () => {
    for (const p of [null, 1, 'stars1', true, [], [TESSW_REV1]]) {
      const r = rejectOf(classifyMessage(readingMsg(p)));
      assert.equal(r.reason, 'invalid_payload');
      assert.match(r.detail, /^payload: must be a JSON object/);
      assertWellFormedReject(r);
    }
  });

  it('invalid readings and registers carry the field, name, day and sample', () => {
    const r = rejectOf(classifyMessage(readingMsg({ ...TESSW_REV1, mag: 'bright' })));
    assert.equal(r.reason, 'invalid_payload');
    assert.equal(r.name, 'stars1');
    assert.equal(r.detail, 'field "mag": must be number (got "bright")');
    assert.deepEqual(JSON.parse(r.sample), { ...TESSW_REV1, mag: 'bright' });
    assertWellFormedReject(r);
    const g = rejectOf(classifyMessage(msg('STARS4ALL/register', { ...TESSW_REGISTER, mac: 'nope' })));
    assert.equal(g.reason, 'invalid_payload');
    assert.equal(g.name, 'stars1');
    const t = rejectOf(classifyMessage(readingMsg({ ...TESSW_REV1, tstamp: '2031-01-01T00:00:00' })));
    assert.equal(t.reason, 'invalid_timestamp');
  });

  it('a reading with an unusable payload name is counted under the topic name', () => {
    const r = rejectOf(classifyMessage(msg('STARS4ALL/stars42/reading', { ...TESSW_REV1, name: "Robert'); DROP TABLE x;--" })));
    assert.equal(r.name, 'stars42');
    assert.match(r.detail, /^field "name": /);
    const n = rejectOf(classifyMessage(msg('STARS4ALL/stars42/reading', { ...TESSW_REV1, name: undefined })));
    assert.equal(n.name, 'stars42');
  });

  it('an invalid receipt time never yields an invalid reading time', () => {
    const r = rejectOf(classifyMessage(readingMsg(TESSW_REV1, { rx: new Date(NaN) })));
    assert.equal(r.reason, 'invalid_timestamp');
    assertWellFormedReject(r);
    const c = classifyMessage(readingMsg(TESSW_REV3, { rx: new Date(NaN) }));
    assert.equal(c.kind === 'reading' && c.reading.tstamp.toISOString(), '2024-03-01T11:59:58.000Z');
  });

  it('check order: topic, retained, oversize, raw, non-object', () => {
    assert.equal(rejectOf(classifyMessage(msg('x', 'y', { retain: true, raw: 'utf8' }))).reason, 'unknown_topic');
    assert.equal(rejectOf(classifyMessage(readingMsg('y', { retain: true, raw: 'utf8' }))).reason, 'retained');
    assert.equal(rejectOf(classifyMessage(readingMsg('y', { raw: 'base64', oversize: 9 }))).reason, 'payload_too_large');
  });

  it('property: never throws on arbitrary JSON and always returns one of the three kinds', () => {
    const topics = fc.oneof(
      fc.constantFrom('STARS4ALL/register', 'STARS4ALL/stars1/reading', 'STARS4ALL/x/y/reading', 'foo'),
      fc.string().map((s) => `STARS4ALL/${s}/reading`),
      fc.string(),
    );
    const payloads = fc.oneof(
      fc.jsonValue(),
      // near-miss payloads: a valid one with one field replaced by an arbitrary JSON value
      fc
        .tuple(
          fc.constantFrom<object>(TESSW_REV1, TESSW_REV2, TESSW_REV3, TESS4C_READING, TESSW_REGISTER, TESS4C_REGISTER),
          fc.constantFrom('seq', 'name', 'freq', 'mag', 'tamb', 'tsky', 'rev', 'wdBm', 'az', 'azi', 'tstamp', 'F1', 'F2', 'mac', 'calib', 'firmware', '__proto__'),
          fc.jsonValue(),
        )
        .map(([base, key, value]) => ({ ...base, [key]: value })),
    );
    const extras = fc.record(
      { retain: fc.boolean(), raw: fc.constantFrom<'utf8' | 'base64'>('utf8', 'base64'), oversize: fc.nat() },
      { requiredKeys: [] },
    );
    const rx = fc.date({ min: new Date('2015-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true });
    fc.assert(
      fc.property(topics, payloads, extras, rx, (topic, payload, extra, rxDate) => {
        const m: ArchiveMessage = { rx: rxDate, topic, qos: 1, retain: false, payload, ...extra };
        const c = classifyMessage(m);
        if (c.kind === 'reject') assertWellFormedReject(c.reject);
        else if (c.kind === 'reading') {
          assert.match(c.reading.name, /^[a-z0-9_-]{1,64}$/);
          assert.ok(Number.isFinite(c.reading.tstamp.getTime()));
        } else if (c.kind === 'register') {
          assert.match(c.event.mac, /^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
        } else assert.fail(`unexpected kind ${(c as { kind: string }).kind}`);
      }),
      { numRuns: 20000 },
    );
  });
});

