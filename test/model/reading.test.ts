import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReading, validateReadingPayload, type Reading, type Reject } from '../../src/model/index.js';
import { RX, TESS4C_READING, TESSW_REV1, TESSW_REV2, TESSW_REV3, withFields } from './fixtures.js';

function ok(payload: unknown, topicName: string | null = null): Reading {
  const r = parseReading(payload, RX, topicName);
  assert.ok('reading' in r, 'reject: ' + ('reject' in r ? r.reject.detail : ''));
  return r.reading;
}

function bad(payload: unknown, topicName: string | null = null): Reject {
  const r = parseReading(payload, RX, topicName);
  assert.ok('reject' in r, 'expected a reject');
  assert.doesNotMatch(r.reject.detail, /[\n\r]/);
  return r.reject;
}

describe('parseReading: TESS-W', () => {
  it('rev 1: mandatory fields only, receipt time', () => {
    const r = ok(TESSW_REV1);
    assert.deepEqual(r, {
      name: 'stars1',
      tstamp: RX,
      tstampSource: 'subscriber',
      seq: 10308,
      freq: 7384,
      mag: 11.29,
      tamb: 23.51,
      tsky: 23.53,
      rev: 1,
      wdbm: null,
      azimuth: null,
      altitude: null,
      longitude: null,
      latitude: null,
      height: null,
      freq2: null,
      mag2: null,
      freq3: null,
      mag3: null,
      freq4: null,
      mag4: null,
      loadSource: 'mqtt',
    });
    assert.equal(r.tstamp, RX, 'subscriber time is rx itself');
  });

  it('rev 2: azi → azimuth, extras ignored', () => {
    const r = ok(TESSW_REV2);
    assert.equal(r.azimuth, 147);
    assert.equal(r.altitude, 86.3);
    assert.equal(r.wdbm, -70);
    assert.equal(r.rev, 2);
    assert.equal(r.name, 'stars488');
    assert.ok(!('ain' in r) && !('text' in r));
  });

  it('rev 3: own tstamp, az, GPS fields', () => {
    const r = ok(TESSW_REV3);
    assert.equal(r.tstampSource, 'publisher');
    assert.equal(r.tstamp.toISOString(), '2024-03-01T11:59:58.000Z');
    assert.equal(r.azimuth, 12.5);
    assert.equal(r.altitude, 88);
    assert.equal(r.latitude, 40.4168);
    assert.equal(r.longitude, -3.7038);
    assert.equal(r.height, 667);
    assert.equal(r.freq2, null);
  });

  it('az wins over azi; azi used when az is absent or null', () => {
    assert.equal(ok(withFields(TESSW_REV1, { az: 10, azi: 20 })).azimuth, 10);
    assert.equal(ok(withFields(TESSW_REV1, { azi: 20 })).azimuth, 20);
    assert.equal(ok(withFields(TESSW_REV1, { az: null, azi: 20 })).azimuth, 20);
    assert.equal(ok(withFields(TESSW_REV1, { az: 0, azi: 20 })).azimuth, 0);
  });

  it('null optional fields mean absent', () => {
    const r = ok(withFields(TESSW_REV1, { wdBm: null, alt: null, lat: null, long: null, height: null, tstamp: null }));
    assert.equal(r.wdbm, null);
    assert.equal(r.altitude, null);
    assert.equal(r.tstampSource, 'subscriber');
  });

  it('saturated reading (mag 0) is a normal reading', () => {
    const r = ok(withFields(TESSW_REV1, { mag: 0, freq: 50000 }));
    assert.equal(r.mag, 0);
  });

  it('integers where floats are expected are fine', () => {
    const r = ok(withFields(TESSW_REV1, { freq: 7384, mag: 11, tamb: 23, tsky: -5 }));
    assert.equal(r.mag, 11);
  });

  it('unknown keys are ignored, and not-stored fields are never validated', () => {
    ok(withFields(TESSW_REV2, { udp: 1646, ZP: 20.5, whatever: { deep: [1, 2] }, ain: 'x', hash: 12, text: null }));
  });

  it('seq 0 and PostgreSQL integer max are accepted', () => {
    assert.equal(ok(withFields(TESSW_REV1, { seq: 0 })).seq, 0);
    assert.equal(ok(withFields(TESSW_REV1, { seq: 2147483647 })).seq, 2147483647);
  });

  it('values stored as real must fit a 4-byte float', () => {
    ok(withFields(TESSW_REV3, { freq: 3.4e38, mag: -3.4e38, tamb: 1.2e-38, tsky: -1.2e-38, az: 0, alt: -0, height: 1e-5 }));
    assert.match(bad(withFields(TESSW_REV1, { freq: 3.5e38 })).detail, /^field "freq": must be <= 3\.4028234663852886e\+38/);
    assert.match(bad(withFields(TESSW_REV1, { tamb: -1e300 })).detail, /^field "tamb": must be >= -3\.40/);
    assert.match(bad(withFields(TESSW_REV1, { mag: 1e-300 })).detail, /^field "mag": must be 0 or of magnitude >= 1\.17/);
    assert.match(bad(withFields(TESSW_REV1, { azi: -5e-324 })).detail, /^field "azi": must be 0 or of magnitude/);
    assert.match(bad(withFields(TESS4C_READING, { F3: { freq: 1e39, mag: 1 } })).detail, /^field "F3\.freq": must be <=/);
    // latitude/longitude are stored as double precision: no extra bound
    assert.equal(ok(withFields(TESSW_REV1, { lat: 1e-300, long: 1e300 })).latitude, 1e-300);
  });
});

describe('parseReading: TESS4C', () => {
  it('F1 → freq/mag, F2..F4 → freq2/mag2..freq4/mag4', () => {
    const r = ok(TESS4C_READING);
    assert.equal(r.name, 'stars1000');
    assert.deepEqual(
      [r.freq, r.mag, r.freq2, r.mag2, r.freq3, r.mag3, r.freq4, r.mag4],
      [10.5, 20.1, 20.25, 19.2, 30, 18.7, 40.125, 18],
    );
    assert.equal(r.tamb, 10.2);
    assert.equal(r.wdbm, -61);
  });

  it('early TESS4C without temperatures is accepted', () => {
    const r = ok(withFields(TESS4C_READING, { tamb: undefined, tsky: undefined }));
    assert.equal(r.tamb, null);
    assert.equal(r.tsky, null);
  });

  it('a missing channel or channel field is a reject naming it', () => {
    assert.match(bad(withFields(TESS4C_READING, { F3: undefined })).detail, /^field "F3": is required/);
    const noMag = withFields(TESS4C_READING, { F2: { freq: 1, zp: 20 } });
    assert.match(bad(noMag).detail, /^field "F2\.mag": is required/);
    const strMag = withFields(TESS4C_READING, { F4: { freq: 1, mag: '18.0', zp: 20 } });
    assert.match(bad(strMag).detail, /^field "F4\.mag": must be number/);
    assert.match(bad(withFields(TESS4C_READING, { F2: 5 })).detail, /^field "F2": must be object/);
  });

  it('zp of a channel is not validated (not stored)', () => {
    ok(withFields(TESS4C_READING, { F1: { freq: 1, mag: 2, zp: 'n/a' } }));
  });
});

describe('parseReading: names', () => {
  it('are trimmed and lower-cased', () => {
    assert.equal(ok(withFields(TESSW_REV1, { name: '  STARS1 ' })).name, 'stars1');
    assert.equal(ok(withFields(TESSW_REV1, { name: 'Stars_Test-01' })).name, 'stars_test-01');
  });

  it('the payload name wins over the topic name', () => {
    assert.equal(ok(TESSW_REV1, 'stars999').name, 'stars1');
  });

  it('SQL-ish, quoted, blank, long and non-ASCII names are rejects naming the field', () => {
    for (const name of [
      "stars1'; DROP TABLE readings; --",
      'stars"1',
      "o'brien",
      'stars 1',
      'stars1\\',
      'stars1\u0000',
      '',
      '   ',
      'x'.repeat(65),
      'estrellas-ñ',
      'ß',
      '\u212Aelvin', // KELVIN SIGN lower-cases to ASCII "k" but is not accepted

    ]) {
      const rej = bad(withFields(TESSW_REV1, { name }));
      assert.equal(rej.reason, 'invalid_payload');
      assert.match(rej.detail, /^field "name": /, name);
      assert.ok(!rej.name?.includes('\u0000'));
    }
    assert.equal(ok(withFields(TESSW_REV1, { name: 'x'.repeat(64) })).name.length, 64);
    assert.equal(ok(withFields(TESSW_REV1, { name: '\tstars1\n' })).name, 'stars1', 'surrounding white space is trimmed');
  });

  it('a reject is named after the topic when the payload name is unusable', () => {
    assert.equal(bad(withFields(TESSW_REV1, { name: "a'b" }), 'stars7').name, 'stars7');
    assert.equal(bad(withFields(TESSW_REV1, { name: 42 }), 'stars7').name, 'stars7');
    assert.equal(bad(withFields(TESSW_REV1, { name: "a'b" }), null).name, "a'b");
    assert.equal(bad(withFields(TESSW_REV1, { mag: 'x' }), 'stars7').name, 'stars1');
  });
});

describe('parseReading: rejects', () => {
  it('each missing mandatory TESS-W field is named', () => {
    for (const f of ['seq', 'name', 'freq', 'mag', 'tamb', 'tsky', 'rev']) {
      const rej = bad(withFields(TESSW_REV1, { [f]: undefined }));
      assert.equal(rej.reason, 'invalid_payload');
      assert.equal(rej.detail, `field "${f}": is required`);
    }
  });

  it('wrong types are named with the offending value', () => {
    const cases: [string, unknown, RegExp][] = [
      ['mag', '17.3', /^field "mag": must be number \(got "17\.3"\)$/],
      ['freq', null, /^field "freq": must be number \(got null\)$/],
      ['tamb', true, /^field "tamb": must be number/],
      ['tsky', [1], /^field "tsky": must be number/],
      ['seq', 1.5, /^field "seq": must be integer/],
      ['seq', '15', /^field "seq": must be integer/],
      ['seq', -1, /^field "seq": must be >= 0/],
      ['seq', 2147483648, /^field "seq": must be <= 2147483647/],
      ['rev', '2', /^field "rev": must be integer/],
      ['wdBm', -70.5, /^field "wdBm": must be integer or null/],
      ['wdBm', 99999, /^field "wdBm": must be <= 32767/],
      ['az', 'N', /^field "az": must be number or null/],
      ['azi', {}, /^field "azi": must be number or null/],
      ['lat', '40.4', /^field "lat": must be number or null/],
      ['name', 42, /^field "name": must be string/],
    ];
    for (const [field, value, re] of cases) {
      const rej = bad(withFields(TESSW_REV1, { [field]: value }));
      assert.equal(rej.reason, 'invalid_payload', field);
      assert.match(rej.detail, re);
    }
  });

  it('non-finite numbers (NaN, Infinity, 1e400) are rejects', () => {
    const fromJson = JSON.parse('{"seq":1,"name":"stars1","freq":1e400,"mag":11,"tamb":1,"tsky":1,"rev":1}');
    assert.equal(fromJson.freq, Infinity);
    assert.match(bad(fromJson).detail, /^field "freq": must be a finite number \(got Infinity\)$/);
    assert.match(bad(withFields(TESSW_REV1, { mag: NaN })).detail, /^field "mag": must be a finite number \(got NaN\)$/);
    assert.match(bad(withFields(TESSW_REV1, { tamb: -Infinity })).detail, /finite/);
    assert.match(bad(withFields(TESSW_REV3, { height: Infinity })).detail, /^field "height": must be a finite number/);
    assert.match(bad(withFields(TESSW_REV1, { seq: Infinity })).detail, /^field "seq": /);
    assert.match(bad(withFields(TESS4C_READING, { F2: { freq: NaN, mag: 1 } })).detail, /^field "F2\.freq": must be a finite/);
  });

  it('non-object payloads are rejects', () => {
    for (const p of [null, 42, 'text', [TESSW_REV1], true]) {
      assert.equal(bad(p).reason, 'invalid_payload');
    }
  });

  it('bad timestamps are invalid_timestamp on the receipt day', () => {
    for (const tstamp of ['yesterday', '2024-03-01T11:59:58+0', '2014-06-01T00:00:00', '2024-03-05T00:00:00', 1709294398]) {
      const rej = bad(withFields(TESSW_REV1, { tstamp }));
      assert.equal(rej.reason, 'invalid_timestamp', String(tstamp));
      assert.match(rej.detail, /^field "tstamp": /);
      assert.equal(rej.day.toISOString(), '2024-03-01T00:00:00.000Z');
    }
  });

  it('a reject of a reading with a valid own time belongs to that day', () => {
    const rej = bad(withFields(TESSW_REV1, { tstamp: '2024-02-29T23:59:00Z', mag: 'x' }));
    assert.equal(rej.day.toISOString(), '2024-02-29T00:00:00.000Z');
  });

  it('samples are the payload JSON, cut to 2,000 characters', () => {
    const small = bad(withFields(TESSW_REV1, { mag: 'x' }));
    assert.deepEqual(JSON.parse(small.sample), withFields(TESSW_REV1, { mag: 'x' }));
    const big = bad(withFields(TESSW_REV1, { mag: 'x', junk: 'y'.repeat(10000) }));
    assert.equal(big.sample.length, 2000);
    const emoji = bad(withFields(TESSW_REV1, { mag: 'x', junk: '😀'.repeat(2000) }));
    assert.ok(emoji.sample.length <= 2000);
    assert.ok(!/[\ud800-\udbff]$/.test(emoji.sample), 'no dangling high surrogate');
  });

  it('detail and name never contain NUL or line breaks', () => {
    const rej = bad(withFields(TESSW_REV1, { name: 'a\u0000\nb', mag: 'x' }));
    assert.ok(!/[\u0000\n\r]/.test(rej.detail));
    assert.ok(!/[\u0000\n\r]/.test(rej.name ?? ''));
    assert.ok(!/\u0000/.test(rej.sample));
  });
});

describe('validateReadingPayload', () => {
  it('returns null or a one-line error naming the field', () => {
    assert.equal(validateReadingPayload(TESSW_REV2), null);
    assert.equal(validateReadingPayload(TESS4C_READING), null);
    assert.equal(validateReadingPayload(withFields(TESSW_REV1, { mag: 'x' })), 'field "mag": must be number (got "x")');
    assert.equal(validateReadingPayload([]), 'payload: must be object (got [])');
  });
});
