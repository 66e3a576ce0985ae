/** Realistic payloads and message builders shared by the model tests. */
import type { ArchiveMessage } from '../../src/model/index.js';

export const RX = new Date('2024-03-01T12:00:00.000Z');

/** TESS-W firmware rev 1 (2016-2017): the mandatory fields only. */
export const TESSW_REV1 = { seq: 10308, name: 'stars1', freq: 7384.0, mag: 11.29, tamb: 23.51, tsky: 23.53, rev: 1 };

/** TESS-W firmware 3.x ("rev":2): azi/alt from the magnetometer, BME280 extras, RSSI. */
export const TESSW_REV2 = {
  seq: 15,
  rev: 2,
  name: 'stars488',
  freq: 4852.0,
  mag: 11.19,
  tamb: 27.33,
  tsky: 20.87,
  wdBm: -70,
  alt: 86.3,
  azi: 147.0,
  ain: 480,
  text: 22.85,
  hrel: 45.1,
  pres: 1013.2,
};

/** A rev 3 payload with its own timestamp, hash, GPS position and `az`. */
export const TESSW_REV3 = {
  seq: 4242,
  rev: 3,
  name: 'stars1234',
  freq: 1.234,
  mag: 21.03,
  tamb: 4.5,
  tsky: -18.25,
  wdBm: -55,
  az: 12.5,
  alt: 88.0,
  lat: 40.4168,
  long: -3.7038,
  height: 667.0,
  hash: 'CEB',
  tstamp: '2024-03-01T11:59:58Z',
};

/** TESS4C reading: four channels, no freq/mag at the top. */
export const TESS4C_READING = {
  seq: 77,
  rev: 1,
  name: 'stars1000',
  wdBm: -61,
  tamb: 10.2,
  tsky: -5.4,
  F1: { freq: 10.5, mag: 20.1, zp: 20.44 },
  F2: { freq: 20.25, mag: 19.2, zp: 20.1 },
  F3: { freq: 30.0, mag: 18.7, zp: 19.9 },
  F4: { freq: 40.125, mag: 18.0, zp: 19.5 },
};

/** TESS-W register as built by firmware 3.2 (MAC without zero padding). */
export const TESSW_REGISTER = { name: 'stars1', rev: 2, mac: '60:1:94:2E:CE:EB', chan: 'pruebas', calib: 20.5, wdBm: -64 };

/** TESS4C register as sent by tess-publisher. */
export const TESS4C_REGISTER = {
  rev: 3,
  name: 'stars1000',
  mac: 'a0:b7:65:1:2:3',
  firmware: 'Nov 12 2024',
  F1: { band: 'UVIR', calib: 20.44 },
  F2: { band: 'R', calib: 20.1 },
  F3: { band: 'G', calib: 19.9 },
  F4: { band: 'B', calib: 19.5 },
};

export function msg(topic: string, payload: unknown, extra: Partial<ArchiveMessage> = {}): ArchiveMessage {
  return { rx: RX, topic, qos: 1, retain: false, payload, ...extra };
}

export function readingMsg(payload: unknown, extra: Partial<ArchiveMessage> = {}): ArchiveMessage {
  const name =
    payload !== null && typeof payload === 'object' && typeof (payload as { name?: unknown }).name === 'string'
      ? (payload as { name: string }).name
      : 'stars1';
  return msg(`STARS4ALL/${name}/reading`, payload, extra);
}

/** Deep copy plus overrides (`undefined` deletes a key). */
export function withFields<T extends object>(base: T, fields: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) delete o[k];
    else o[k] = v;
  }
  return o;
}
