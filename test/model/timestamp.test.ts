import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseTimestamp, MAX_FUTURE_MS, MIN_TSTAMP_MS, parseTstamp } from '../../src/model/index.js';

const iso = (s: string) => parseTstamp(s)?.toISOString() ?? null;

describe('parseTstamp', () => {
  it('accepts T or space separator, no zone = UTC', () => {
    assert.equal(iso('2024-03-01T11:59:58'), '2024-03-01T11:59:58.000Z');
    assert.equal(iso('2024-03-01 11:59:58'), '2024-03-01T11:59:58.000Z');
    assert.equal(iso('2024-03-01t11:59:58z'), '2024-03-01T11:59:58.000Z');
  });

  it('accepts Z', () => {
    assert.equal(iso('2024-03-01T11:59:58Z'), '2024-03-01T11:59:58.000Z');
    assert.equal(iso('2024-03-01 11:59:58Z'), '2024-03-01T11:59:58.000Z');
  });

  it('accepts ±HH:MM and ±HHMM offsets', () => {
    assert.equal(iso('2024-03-01T12:59:58+01:00'), '2024-03-01T11:59:58.000Z');
    assert.equal(iso('2024-03-01T12:59:58+0100'), '2024-03-01T11:59:58.000Z');
    assert.equal(iso('2024-03-01T06:29:58-05:30'), '2024-03-01T11:59:58.000Z');
    assert.equal(iso('2024-03-01T06:29:58-0530'), '2024-03-01T11:59:58.000Z');
    assert.equal(iso('2024-03-01T11:59:58+00:00'), '2024-03-01T11:59:58.000Z');
    assert.equal(iso('2024-03-01 00:30:00+01:00'), '2024-02-29T23:30:00.000Z');
  });

  it('keeps milliseconds of any fraction, truncating the rest', () => {
    assert.equal(iso('2024-03-01T11:59:58.1'), '2024-03-01T11:59:58.100Z');
    assert.equal(iso('2024-03-01T11:59:58.12'), '2024-03-01T11:59:58.120Z');
    assert.equal(iso('2024-03-01T11:59:58.123'), '2024-03-01T11:59:58.123Z');
    assert.equal(iso('2024-03-01T11:59:58.123456789Z'), '2024-03-01T11:59:58.123Z');
    assert.equal(iso('2024-03-01T11:59:58.9999'), '2024-03-01T11:59:58.999Z');
    assert.equal(iso('2024-03-01 12:59:58.5+01:00'), '2024-03-01T11:59:58.500Z');
    assert.equal(iso('2024-03-01 12:59:58.250+0100'), '2024-03-01T11:59:58.250Z');
  });

  it('handles leap days and month lengths', () => {
    assert.equal(iso('2024-02-29T00:00:00'), '2024-02-29T00:00:00.000Z');
    assert.equal(iso('2000-02-29T00:00:00'), '2000-02-29T00:00:00.000Z');
    assert.equal(iso('2023-02-29T00:00:00'), null);
    assert.equal(iso('1900-02-29T00:00:00'), null);
    assert.equal(iso('2024-04-31T00:00:00'), null);
    assert.equal(iso('2024-12-31T23:59:59'), '2024-12-31T23:59:59.000Z');
  });

  it('parses years below 100 literally', () => {
    assert.equal(parseTstamp('0050-01-01T00:00:00')?.getUTCFullYear(), 50);
  });

  it('rejects malformed strings', () => {
    for (const s of [
      '',
      '2024-03-01',
      '2024-03-01T11:59',
      '2024/03/01 11:59:58',
      '2024-03-01X11:59:58',
      '2024-3-01T11:59:58',
      '2024-03-01T11:59:58.',
      '2024-03-01T11:59:58.Z',
      '2024-03-01T11:59:58ZZ',
      '2024-03-01T11:59:58+01',
      '2024-03-01T11:59:58+1:00',
      '2024-03-01T11:59:58+01:0',
      '2024-03-01T11:59:58+25:00',
      '2024-03-01T11:59:58+01:60',
      '2024-03-01T11:59:58 ',
      ' 2024-03-01T11:59:58',
      '2024-13-01T11:59:58',
      '2024-00-01T11:59:58',
      '2024-03-00T11:59:58',
      '2024-03-01T24:00:00',
      '2024-03-01T11:60:00',
      '2024-03-01T11:59:60',
      '2024-03-01T11:59:5x',
      '２０２４-03-01T11:59:58',
      'not a timestamp at all',
    ]) {
      assert.equal(parseTstamp(s), null, JSON.stringify(s));
    }
  });

  it('agrees with Date.parse on ISO strings', () => {
    for (const s of ['2016-06-01T00:00:00Z', '2031-12-31T23:59:59.999Z', '2020-02-29T12:34:56.789+05:45']) {
      assert.equal(parseTstamp(s)?.getTime(), Date.parse(s));
    }
  });
});

describe('chooseTimestamp', () => {
  const rx = new Date('2024-03-01T12:00:00Z');

  it('uses rx (subscriber) without tstamp', () => {
    for (const t of [undefined, null, '']) {
      const c = chooseTimestamp(t, rx);
      assert.ok('source' in c);
      assert.equal(c.source, 'subscriber');
      assert.equal(c.tstamp.getTime(), rx.getTime());
    }
  });

  it('uses a valid tstamp (publisher)', () => {
    const c = chooseTimestamp('2024-03-01T11:59:58', rx);
    assert.ok('source' in c);
    assert.equal(c.source, 'publisher');
    assert.equal(c.tstamp.toISOString(), '2024-03-01T11:59:58.000Z');
  });

  it('rejects unparseable and non-string tstamps', () => {
    for (const t of ['yesterday', '2024-03-01T11:59:58+99:00', 1709294398, {}, true]) {
      const c = chooseTimestamp(t, rx);
      assert.ok('reject' in c, String(t));
      assert.equal(c.reject, 'invalid_timestamp');
      assert.match(c.detail, /^field "tstamp": /);
      assert.doesNotMatch(c.detail, /\n/);
    }
  });

  it('rejects times before 2015-01-01', () => {
    assert.equal(MIN_TSTAMP_MS, Date.UTC(2015, 0, 1));
    const old = chooseTimestamp('2014-12-31T23:59:59Z', rx);
    assert.ok('reject' in old);
    assert.match(old.detail, /before 2015-01-01/);
    const epoch = chooseTimestamp('1970-01-01T00:00:00', rx); // RTC lost power
    assert.ok('reject' in epoch);
    const ok = chooseTimestamp('2015-01-01T00:00:00Z', rx);
    assert.ok('source' in ok);
  });

  it('rejects times more than 24 h after receipt, accepts exactly 24 h', () => {
    assert.equal(MAX_FUTURE_MS, 86400000);
    const edge = chooseTimestamp('2024-03-02T12:00:00Z', rx);
    assert.ok('source' in edge);
    const late = chooseTimestamp('2024-03-02T12:00:00.001Z', rx);
    assert.ok('reject' in late);
    assert.match(late.detail, /more than 24 h after receipt/);
    const zoned = chooseTimestamp('2024-03-02T13:30:00+01:00', rx); // 12:30Z next day
    assert.ok('reject' in zoned);
  });

  it('accepts old readings (a backlog) as long as they are after 2015', () => {
    const c = chooseTimestamp('2016-05-01 01:02:03', rx);
    assert.ok('source' in c);
    assert.equal(c.source, 'publisher');
  });
});
