import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRegister, validateRegisterPayload, type RegisterEvent, type Reject } from '../../src/model/index.js';
import { RX, TESS4C_REGISTER, TESSW_REGISTER, withFields } from './fixtures.js';

function ok(payload: unknown): RegisterEvent {
  const r = parseRegister(payload, RX);
  assert.ok('event' in r, 'reject: ' + ('reject' in r ? r.reject.detail : ''));
  return r.event;
}

function bad(payload: unknown): Reject {
  const r = parseRegister(payload, RX);
  assert.ok('reject' in r, 'expected a reject');
  assert.equal(r.reject.reason, 'invalid_payload');
  assert.equal(r.reject.day.toISOString(), '2024-03-01T00:00:00.000Z');
  return r.reject;
}

describe('parseRegister: TESS-W', () => {
  it('firmware 3.2 register message', () => {
    const e = ok(TESSW_REGISTER);
    assert.deepEqual(e, {
      name: 'stars1',
      mac: '60:01:94:2E:CE:EB',
      receivedAt: RX,
      model: 'TESS-W',
      rev: 2,
      firmware: null,
      wdbm: -64,
      channels: [{ zp: 20.5, filter: null, offsetHz: null }],
      source: 'mqtt',
      payload: TESSW_REGISTER,
    });
    assert.equal(e.payload, TESSW_REGISTER, 'payload kept verbatim');
  });

  it('firmware, offsethz, integer calib, upper-case name, bare MAC', () => {
    const e = ok({ name: ' STARS2 ', mac: '6001942eceeb', calib: 20, rev: 1, firmware: '1.2', offsethz: 0.3 });
    assert.equal(e.name, 'stars2');
    assert.equal(e.mac, '60:01:94:2E:CE:EB');
    assert.equal(e.firmware, '1.2');
    assert.deepEqual(e.channels, [{ zp: 20, filter: null, offsetHz: 0.3 }]);
  });

  it('a low zero point is passed through (the registry decides)', () => {
    assert.equal(ok(withFields(TESSW_REGISTER, { calib: 0 })).channels[0].zp, 0);
  });

  it('missing or wrong mandatory fields are named', () => {
    for (const f of ['name', 'mac', 'calib', 'rev']) {
      assert.equal(bad(withFields(TESSW_REGISTER, { [f]: undefined })).detail, `field "${f}": is required`);
    }
    assert.match(bad(withFields(TESSW_REGISTER, { calib: '20.5' })).detail, /^field "calib": must be number/);
    assert.match(bad(withFields(TESSW_REGISTER, { calib: null })).detail, /^field "calib": must be number/);
    assert.match(bad(withFields(TESSW_REGISTER, { rev: 2.5 })).detail, /^field "rev": must be integer/);
    assert.match(bad(withFields(TESSW_REGISTER, { firmware: 3 })).detail, /^field "firmware": must be string or null/);
    assert.match(bad(withFields(TESSW_REGISTER, { name: "x' OR 1=1" })).detail, /^field "name": /);
    assert.match(bad(JSON.parse('{"name":"s","mac":"1:2:3:4:5:6","rev":1,"calib":1e999}')).detail, /finite/);
    assert.match(bad(withFields(TESSW_REGISTER, { calib: 1e39 })).detail, /^field "calib": must be <=/);
    assert.match(bad(withFields(TESSW_REGISTER, { offsethz: 1e-40 })).detail, /^field "offsethz": must be 0 or of magnitude/);
    assert.match(bad(withFields(TESS4C_REGISTER, { F2: { band: 'R', calib: -1e39 } })).detail, /^field "F2\.calib": must be >=/);
  });

  it('invalid MACs are rejects naming the field', () => {
    for (const mac of ['60:1:94:2E:CE', 'zz:01:94:2E:CE:EB', '', '60:01:94:2E:CE:EB:11']) {
      const rej = bad(withFields(TESSW_REGISTER, { mac }));
      assert.match(rej.detail, /^field "mac": not a MAC address/);
      assert.equal(rej.name, 'stars1');
    }
    assert.match(bad(withFields(TESSW_REGISTER, { mac: 600194 })).detail, /^field "mac": must be string/);
  });

  it('chan and unknown keys are never fatal', () => {
    ok(withFields(TESSW_REGISTER, { chan: 5, model: 'TESS-W', extra: [1] }));
  });
});

describe('parseRegister: TESS4C', () => {
  it('four channels from F1..F4', () => {
    const e = ok(TESS4C_REGISTER);
    assert.equal(e.model, 'TESS4C');
    assert.equal(e.mac, 'A0:B7:65:01:02:03');
    assert.equal(e.firmware, 'Nov 12 2024');
    assert.equal(e.rev, 3);
    assert.deepEqual(e.channels, [
      { zp: 20.44, filter: 'UVIR', offsetHz: null },
      { zp: 20.1, filter: 'R', offsetHz: null },
      { zp: 19.9, filter: 'G', offsetHz: null },
      { zp: 19.5, filter: 'B', offsetHz: null },
    ]);
  });

  it('does not need calib at the top; null/missing channel values are unknown', () => {
    const e = ok(withFields(TESS4C_REGISTER, { firmware: null, F3: { band: null, calib: null }, F4: {} }));
    assert.equal(e.firmware, null);
    assert.deepEqual(e.channels[2], { zp: null, filter: null, offsetHz: null });
    assert.deepEqual(e.channels[3], { zp: null, filter: null, offsetHz: null });
  });

  it('missing or malformed channels are rejects', () => {
    assert.equal(bad(withFields(TESS4C_REGISTER, { F4: undefined })).detail, 'field "F4": is required');
    assert.match(bad(withFields(TESS4C_REGISTER, { F2: 'R' })).detail, /^field "F2": must be object/);
    assert.match(bad(withFields(TESS4C_REGISTER, { F2: { band: 'R', calib: '20' } })).detail, /^field "F2\.calib": must be number or null/);
    assert.match(bad(withFields(TESS4C_REGISTER, { F1: { band: 7, calib: 20 } })).detail, /^field "F1\.band": must be string or null/);
  });
});

describe('validateRegisterPayload', () => {
  it('returns null or a one-line error', () => {
    assert.equal(validateRegisterPayload(TESSW_REGISTER), null);
    assert.equal(validateRegisterPayload(TESS4C_REGISTER), null);
    assert.equal(validateRegisterPayload({ calib: 20 }), 'field "name": is required');
  });
});
