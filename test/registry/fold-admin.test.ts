/** Administrative ops of the fold beyond authorisation and placement: calibration, pointing, rename. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FOREVER, foldRegistry, manualEvent } from '../../src/registry/index.js';
import { MAC_A, MAC_B, at, boot, tess4c, tessw } from './fixtures.js';

const iso = (d: Date) => d.toISOString();

test('set_zero_point / set_filter / set_azimuth / set_altitude start a version at t; same instant: one version', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.44),
    manualEvent('set_zero_point', MAC_A, 'stars1', at(10), { zp: 20.61 }),
    manualEvent('set_filter', MAC_A, 'stars1', at(20), { filter: 'BG39' }),
    manualEvent('set_azimuth', MAC_A, 'stars1', at(20), { azimuth: 45 }),
    manualEvent('set_altitude', MAC_A, 'stars1', at(20), { altitude: 80 }),
  ]);
  assert.deepEqual(
    r.versions.map((v) => [iso(v.validSince), v.zp1, v.filter1, v.azimuth, v.altitude, v.validState]),
    [
      [iso(at(0)), 20.44, 'UVIR', 0, 90, 'Expired'],
      [iso(at(10)), 20.61, 'UVIR', 0, 90, 'Expired'],
      [iso(at(20)), 20.61, 'BG39', 45, 80, 'Current'],
    ],
  );
  assert.deepEqual(r.notes.map((n) => n.outcome), ['new', 'updated', 'updated', 'updated', 'updated']);
});

test('invalid administrative values are ignored with a note, never applied', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.44),
    manualEvent('set_zero_point', MAC_A, 'stars1', at(1), { zp: 9.5 }),
    manualEvent('set_zero_point', MAC_A, 'stars1', at(2), { zp: 31 }),
    manualEvent('set_zero_point', MAC_A, 'stars1', at(3), { zp: 21, channel: 2 }),
    manualEvent('set_filter', MAC_A, 'stars1', at(4), { filter: '' }),
    manualEvent('set_azimuth', MAC_A, 'stars1', at(5), { azimuth: 400 }),
    manualEvent('set_altitude', MAC_A, 'stars1', at(6), { altitude: 'up' }),
    manualEvent('set_zero_point', MAC_B, 'nobody', at(7), { zp: 20 }),
  ]);
  assert.equal(r.versions.length, 1);
  assert.deepEqual(
    r.notes.slice(1).map((n) => [n.outcome, n.detail]),
    [
      ['ignored', 'zero point 9.5 is outside 10..30'],
      ['ignored', 'zero point 31 is outside 10..30'],
      ['ignored', 'channel 2 but the photometer has 1'],
      ['ignored', 'field "filter" is not a non-empty string'],
      ['ignored', 'azimuth 400 is outside 0..360'],
      ['ignored', 'field "altitude" is not a number'],
      ['ignored', 'no photometer with this MAC at that time'],
    ],
  );
});

test('TESS4C: per-channel zero point and filter', () => {
  const r = foldRegistry([
    tess4c('s4', MAC_B, at(0), [['a', 20.1], ['b', 20.2], ['c', 20.3], ['d', 20.4]]),
    manualEvent('set_zero_point', MAC_B, 's4', at(5), { zp: 21, channel: 3 }),
    manualEvent('set_filter', MAC_B, 's4', at(5), { filter: 'R', channel: 4 }),
  ]);
  const cur = r.versions.at(-1)!;
  assert.deepEqual([cur.zp1, cur.zp2, cur.zp3, cur.zp4, cur.filter4], [20.1, 20.2, 21, 20.4, 'R']);
  assert.equal(r.versions.length, 2);
});

test('an administrative zero point is superseded by a later register message that differs (tessdb-server)', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.44),
    manualEvent('set_zero_point', MAC_A, 'stars1', at(10), { zp: 20.61 }),
    ...boot('stars1', MAC_A, at(20), 20.44),
  ]);
  assert.deepEqual(r.versions.map((v) => v.zp1), [20.44, 20.61, 20.44]);
});

test('rename: the MAC’s mapping expires at t and a new one starts; refused when the name is taken', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.5),
    tessw('stars2', MAC_B, at(0), 20.5),
    manualEvent('rename', MAC_A, 'stars9', at(10)),
    manualEvent('rename', MAC_A, 'stars2', at(20)), // stars2 is MAC_B's
    manualEvent('rename', MAC_A, 'stars9', at(30)), // already its name
  ]);
  assert.deepEqual(
    r.mappings.map((m) => [m.name, m.mac, iso(m.validSince), iso(m.validUntil)]),
    [
      ['stars1', MAC_A, iso(at(0)), iso(at(10))],
      ['stars2', MAC_B, iso(at(0)), iso(FOREVER)],
      ['stars9', MAC_A, iso(at(10)), iso(FOREVER)],
    ],
  );
  assert.deepEqual(r.notes.slice(2).map((n) => [n.outcome, n.detail]), [
    ['rename', undefined],
    ['ignored', `name "stars2" is in use by ${MAC_B}`],
    ['rename', 'unchanged'],
  ]);
  assert.equal(r.versions.length, 2, 'a rename starts no photometer version');
});

test('an administrative op at the instant of a manual registration applies to the new device', () => {
  const reg = tessw('stars7', MAC_A, at(0), 20.3, { source: 'manual' });
  const r = foldRegistry([manualEvent('set_filter', MAC_A, 'stars7', at(0), { filter: 'BG39' }), manualEvent('authorise', MAC_A, 'stars7', at(0)), reg]);
  assert.equal(r.versions.length, 1);
  assert.deepEqual([r.versions[0].filter1, r.versions[0].authorised, r.versions[0].registered], ['BG39', true, 'Manual']);
});
