import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRegister } from '../../src/model/register.js';
import { FOREVER, foldRegistry, manualEvent, payloadMismatch, type PhotometerVersion } from '../../src/registry/index.js';
import { MAC_A, MAC_B, MAC_C, MAC_D, at, boot, tess4c, tessw } from './fixtures.js';

const cur = (versions: PhotometerVersion[], mac: string) => versions.filter((v) => v.mac === mac && v.validState === 'Current');
const mappingsOf = (r: ReturnType<typeof foldRegistry>) =>
  r.mappings.map((m) => `${m.name}->${m.mac} ${m.validSince.toISOString()}..${m.validUntil.toISOString()} ${m.validState}`);
const iso = (d: Date) => d.toISOString();
const END = iso(FOREVER);

test('new photometer: one version with defaults and one mapping', () => {
  const r = foldRegistry([tessw('stars1', MAC_A, at(0), 20.44, { firmware: '1.2', offsethz: 0.02 })]);
  assert.equal(r.versions.length, 1);
  const v = r.versions[0];
  assert.deepEqual(
    { ...v },
    {
      mac: MAC_A, model: 'TESS-W', firmware: '1.2', nchannels: 1,
      zp1: 20.44, zp2: null, zp3: null, zp4: null,
      filter1: 'UVIR', filter2: null, filter3: null, filter4: null,
      offset1: 0.02, offset2: null, offset3: null, offset4: null,
      azimuth: 0, altitude: 90, fov: 17, coverOffset: 0, locationId: -1, observerId: -1,
      authorised: false, registered: 'Automatic',
      validSince: at(0), validUntil: FOREVER, validState: 'Current',
    },
  );
  assert.deepEqual(mappingsOf(r), [`stars1->${MAC_A} ${iso(at(0))}..${END} Current`]);
  assert.deepEqual(r.notes.map((n) => n.outcome), ['new']);
});

test('registered follows the source: mqtt Automatic, ida/sqlite Imported, manual Manual', () => {
  const r = foldRegistry([
    tessw('a', MAC_A, at(0), 20, { source: 'mqtt' }),
    tessw('b', MAC_B, at(0), 20, { source: 'ida' }),
    tessw('c', MAC_C, at(0), 20, { source: 'sqlite' }),
    tessw('d', MAC_D, at(0), 20, { source: 'manual' }),
  ]);
  assert.deepEqual(r.versions.map((v) => v.registered), ['Automatic', 'Imported', 'Imported', 'Manual']);
});

test('the three boot messages are one registration (reboots without change)', () => {
  const r = foldRegistry([...boot('stars1', MAC_A, at(0), 20.5), ...boot('stars1', MAC_A, at(60), 20.5)]);
  assert.equal(r.versions.length, 1);
  assert.equal(r.mappings.length, 1);
  assert.deepEqual(r.notes.map((n) => n.outcome), ['new', 'reboot', 'reboot', 'reboot', 'reboot', 'reboot']);
});

test('rename: the MAC’s old mapping expires at t, the new one starts at t; no new version', () => {
  const r = foldRegistry([...boot('stars1', MAC_A, at(0), 20.5), ...boot('stars9', MAC_A, at(10), 20.5)]);
  assert.deepEqual(mappingsOf(r), [
    `stars1->${MAC_A} ${iso(at(0))}..${iso(at(10))} Expired`,
    `stars9->${MAC_A} ${iso(at(10))}..${END} Current`,
  ]);
  assert.equal(r.versions.length, 1);
  assert.equal(r.notes[3].outcome, 'rename');
});

test('replace: a new device takes the name; location and observer carry over, authorised does not', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.5),
    manualEvent('set_location', MAC_A, 'stars1', at(1), { location_id: 7 }),
    manualEvent('set_observer', MAC_A, 'stars1', at(2), { observer_id: 3 }),
    manualEvent('authorise', MAC_A, 'stars1', at(3)),
    ...boot('stars1', MAC_B, at(10), 20.61),
  ]);
  assert.deepEqual(mappingsOf(r), [
    `stars1->${MAC_A} ${iso(at(0))}..${iso(at(10))} Expired`,
    `stars1->${MAC_B} ${iso(at(10))}..${END} Current`,
  ]);
  const [b] = cur(r.versions, MAC_B);
  assert.equal(b.locationId, 7);
  assert.equal(b.observerId, 3);
  assert.equal(b.authorised, false);
  assert.equal(b.zp1, 20.61);
  assert.equal(b.validSince.getTime(), at(10).getTime());
  // The old device keeps its current version (only its mapping expired).
  assert.equal(cur(r.versions, MAC_A)[0].locationId, 7);
  assert.equal(r.notes.find((n) => n.mac === MAC_B)?.outcome, 'replace');
});

test('reboot with a zero point change ≥ 0.005 starts a version; other attributes are copied', () => {
  const r = foldRegistry([
    ...boot('stars1', MAC_A, at(0), 20.5),
    manualEvent('authorise', MAC_A, 'stars1', at(1)),
    manualEvent('set_location', MAC_A, 'stars1', at(2), { location_id: 4 }),
    ...boot('stars1', MAC_A, at(10), 20.51),
  ]);
  const a = r.versions.filter((v) => v.mac === MAC_A);
  assert.deepEqual(
    a.map((v) => [v.zp1, v.authorised, v.locationId, iso(v.validSince), iso(v.validUntil), v.validState]),
    [
      [20.5, false, -1, iso(at(0)), iso(at(1)), 'Expired'],
      [20.5, true, -1, iso(at(1)), iso(at(2)), 'Expired'],
      [20.5, true, 4, iso(at(2)), iso(at(10)), 'Expired'],
      [20.51, true, 4, iso(at(10)), END, 'Current'],
    ],
  );
  assert.equal(a[3].registered, 'Automatic');
  assert.equal(r.mappings.length, 1);
  assert.ok(r.notes.some((n) => n.outcome === 'recalibrated'));
});

test('a zero point change below 0.005 is not a change (and does not drift)', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.5),
    tessw('stars1', MAC_A, at(1), 20.504),
    tessw('stars1', MAC_A, at(2), 20.508), // 0.008 from the stored 20.5, though 0.004 from the last message
  ]);
  assert.deepEqual(r.versions.map((v) => v.zp1), [20.5, 20.508]);
  assert.equal(r.versions[1].validSince.getTime(), at(2).getTime());
});

test('a change of exactly 0.005 (decimal) is a change', () => {
  const r = foldRegistry([tessw('stars1', MAC_A, at(0), 20.5), tessw('stars1', MAC_A, at(1), 20.505)]);
  assert.deepEqual(r.versions.map((v) => v.zp1), [20.5, 20.505]);
});

test('a zero point below 10 never changes the calibration; a new photometer gets 20.5', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.3),
    tessw('stars1', MAC_A, at(1), 2.0),
    tessw('stars1', MAC_A, at(2), 0),
    tessw('stars2', MAC_B, at(0), 2.0),
    tessw('stars2', MAC_B, at(1), 20.3), // a real zero point later is a change
  ]);
  assert.deepEqual(r.versions.filter((v) => v.mac === MAC_A).map((v) => v.zp1), [20.3]);
  assert.deepEqual(r.versions.filter((v) => v.mac === MAC_B).map((v) => v.zp1), [20.5, 20.3]);
});

test('offset change starts a version; an absent offset keeps the old one', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.5, { offsethz: 0 }),
    tessw('stars1', MAC_A, at(1), 20.5),
    tessw('stars1', MAC_A, at(2), 20.5, { offsethz: 0.25 }),
  ]);
  assert.deepEqual(r.versions.map((v) => v.offset1), [0, 0.25]);
});

test('firmware alone is not version-controlled; a new version takes the event’s firmware', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.5, { firmware: 'v1' }),
    tessw('stars1', MAC_A, at(1), 20.5, { firmware: 'v2' }),
    tessw('stars1', MAC_A, at(2), 20.6, { firmware: 'v3' }),
  ]);
  assert.deepEqual(r.versions.map((v) => v.firmware), ['v1', 'v3']);
});

test('TESS4C: four channels, model TESS4C; a filter change starts a version', () => {
  const chans: Array<[string, number]> = [['UVIR', 20.1], ['R', 19.9], ['G', 19.8], ['B', 19.7]];
  const r = foldRegistry([
    tess4c('stars4c', MAC_C, at(0), chans),
    tess4c('stars4c', MAC_C, at(1), chans),
    tess4c('stars4c', MAC_C, at(2), [['UVIR', 20.1], ['Ha', 19.9], ['G', 19.8], ['B', 19.7]]),
    tess4c('stars4c', MAC_C, at(3), [['UVIR', 20.1], ['Ha', 19.9], ['G', 5], ['B', 19.702]]), // zp<10, Δ<0.005
    tess4c('stars4c', MAC_C, at(4), [['UVIR', 20.1], ['Ha', 19.9], ['G', 19.8], ['B', 19.75]]),
  ]);
  assert.equal(r.versions.length, 3);
  const [v1, v2, v3] = r.versions;
  assert.deepEqual(
    [v1.model, v1.nchannels, v1.zp1, v1.zp2, v1.zp3, v1.zp4, v1.filter1, v1.filter2, v1.filter3, v1.filter4],
    ['TESS4C', 4, 20.1, 19.9, 19.8, 19.7, 'UVIR', 'R', 'G', 'B'],
  );
  assert.deepEqual([v1.offset1, v1.offset2, v1.offset3, v1.offset4], [0, 0, 0, 0]);
  assert.equal(v2.filter2, 'Ha');
  assert.equal(v2.validSince.getTime(), at(2).getTime());
  assert.equal(v3.zp4, 19.75);
  assert.equal(v3.zp3, 19.8);
});

test('TESS4C: a faulty channel zero point on a new unit defaults to 20.5', () => {
  const r = foldRegistry([tess4c('s', MAC_C, at(0), [['UVIR', 20.1], ['R', 3], ['G', 19.8], ['B', 19.7]])]);
  assert.equal(r.versions[0].zp2, 20.5);
});

test('override: MAC and name both known but mapped elsewhere → both old mappings expire', () => {
  const r = foldRegistry([
    ...boot('stars1', MAC_A, at(0), 20.5),
    ...boot('stars2', MAC_B, at(0), 20.6),
    tessw('stars1', MAC_B, at(10), 20.6),
  ]);
  assert.deepEqual(mappingsOf(r), [
    `stars1->${MAC_A} ${iso(at(0))}..${iso(at(10))} Expired`,
    `stars1->${MAC_B} ${iso(at(10))}..${END} Current`,
    `stars2->${MAC_B} ${iso(at(0))}..${iso(at(10))} Expired`,
  ]);
  assert.equal(r.versions.length, 2);
  assert.equal(r.notes.at(-1)?.outcome, 'override');
});

test('an orphaned device (after override) registering again with a free name gets a mapping, not a second photometer', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.5),
    tessw('stars2', MAC_B, at(0), 20.6),
    tessw('stars1', MAC_B, at(10), 20.6), // A and stars2 orphaned
    tessw('stars3', MAC_A, at(20), 20.7), // A: no current mapping, stars3 unknown → 'new', recalibrated
  ]);
  assert.deepEqual(r.versions.filter((v) => v.mac === MAC_A).map((v) => [v.zp1, v.validState]), [
    [20.5, 'Expired'],
    [20.7, 'Current'],
  ]);
  assert.equal(r.notes.at(-1)?.outcome, 'new');
  assert.equal(r.notes.at(-1)?.detail, 'recalibrated');
});

test('authorise / unauthorise: a new version from the event time with the flag flipped; repeats are no-ops', () => {
  const r = foldRegistry([
    tessw('stars1', MAC_A, at(0), 20.5),
    manualEvent('authorise', MAC_A, 'stars1', at(5)),
    manualEvent('authorise', MAC_A, 'stars1', at(6)),
    manualEvent('unauthorise', MAC_A, 'stars1', at(8)),
    manualEvent('authorise', MAC_D, 'nobody', at(8.5)), // unknown device: ignored
    manualEvent('frobnicate', MAC_A, 'stars1', at(9)), // unknown op: ignored
  ]);
  assert.deepEqual(r.versions.map((v) => [v.authorised, iso(v.validSince), v.validState]), [
    [false, iso(at(0)), 'Expired'],
    [true, iso(at(5)), 'Expired'],
    [false, iso(at(8)), 'Current'],
  ]);
  assert.deepEqual(r.notes.map((n) => n.outcome), ['new', 'authorised', 'authorised', 'unauthorised', 'ignored', 'ignored']);
});

test('an admin event dated before later registrations lands at its time whatever order it arrives in', () => {
  const events = [tessw('stars1', MAC_A, at(0), 20.5), tessw('stars1', MAC_A, at(20), 20.6), manualEvent('authorise', MAC_A, 'stars1', at(10))];
  const r = foldRegistry(events);
  assert.deepEqual(r.versions.map((v) => [v.zp1, v.authorised]), [[20.5, false], [20.5, true], [20.6, true]]);
  assert.deepEqual(foldRegistry([...events].reverse()), r);
});

test('events at the same instant never produce zero-length rows', () => {
  const t = at(0);
  const r = foldRegistry([tessw('stars1', MAC_A, t, 20.5), tessw('stars2', MAC_A, t, 20.6), manualEvent('authorise', MAC_A, 'stars2', t)]);
  for (const row of [...r.versions, ...r.mappings]) assert.ok(row.validSince < row.validUntil);
  assert.equal(r.versions.length, 1);
  assert.equal(r.mappings.length, 1);
  // Same-instant events apply in event-hash order: the mapping is the last registration's.
  const lastRegistration = r.notes.filter((n) => n.outcome !== 'authorised' && n.outcome !== 'ignored').at(-1);
  assert.equal(r.mappings[0].name, lastRegistration?.name);
});

test('invalid payloads are ignored with a note', () => {
  const bad = { ...tessw('stars1', MAC_A, at(0), 20.5), payload: { name: 'stars1', mac: MAC_A, rev: 1 } };
  const r = foldRegistry([bad]);
  assert.equal(r.versions.length, 0);
  assert.equal(r.notes[0].outcome, 'ignored');
});

test('events from the model parser fold as their payload says', () => {
  const payload = { name: 'STARS77', mac: '60:1:94:2E:CE:EB', rev: 1, calib: 20.37, offsethz: 0.1, firmware: 'Nov 2 2023' };
  const parsed = parseRegister(payload, at(0));
  assert.ok('event' in parsed);
  assert.equal(payloadMismatch(parsed.event), null);
  const r = foldRegistry([parsed.event]);
  assert.equal(r.versions[0].mac, '60:01:94:2E:CE:EB');
  assert.equal(r.mappings[0].name, 'stars77');
  assert.deepEqual([r.versions[0].zp1, r.versions[0].offset1, r.versions[0].firmware], [20.37, 0.1, 'Nov 2 2023']);
  const p4 = { name: 'x4', mac: 'AA:BB:CC:DD:EE:FF', rev: 1, F1: { band: 'UVIR', calib: 20 }, F2: { band: 'R', calib: 19 }, F3: { band: 'G', calib: 19 }, F4: { band: 'B', calib: 19 } };
  const parsed4 = parseRegister(p4, at(0));
  assert.ok('event' in parsed4);
  assert.equal(payloadMismatch(parsed4.event), null);
});

test('payloadMismatch reports an event whose fields its payload does not carry', () => {
  const e = tessw('stars1', MAC_A, at(0), 20.5);
  assert.match(payloadMismatch({ ...e, channels: [{ zp: 20.4, filter: null, offsetHz: null }] }) ?? '', /channel 1/);
  assert.equal(payloadMismatch(manualEvent('authorise', MAC_A, 'stars1', at(0))), null);
});
