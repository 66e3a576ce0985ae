/** Register events for the registry tests. */
import type { RegisterEvent } from '../../src/model/types.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');
/** T0 + minutes. */
export const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);

export function tessw(
  name: string,
  mac: string,
  t: Date,
  calib: number,
  extra: { offsethz?: number; firmware?: string; source?: RegisterEvent['source'] } = {},
): RegisterEvent {
  const payload: Record<string, unknown> = { name, mac, rev: 1, calib };
  if (extra.offsethz !== undefined) payload.offsethz = extra.offsethz;
  if (extra.firmware !== undefined) payload.firmware = extra.firmware;
  return {
    name,
    mac,
    receivedAt: t,
    model: 'TESS-W',
    rev: 1,
    firmware: extra.firmware ?? null,
    wdbm: null,
    channels: [{ zp: calib, filter: null, offsetHz: extra.offsethz ?? null }],
    source: extra.source ?? 'mqtt',
    payload,
  };
}

export function tess4c(name: string, mac: string, t: Date, chans: Array<[band: string, calib: number]>): RegisterEvent {
  const payload: Record<string, unknown> = { name, mac, rev: 1 };
  chans.forEach(([band, calib], i) => (payload[`F${i + 1}`] = { band, calib }));
  return {
    name,
    mac,
    receivedAt: t,
    model: 'TESS4C',
    rev: 1,
    firmware: null,
    wdbm: null,
    channels: chans.map(([band, calib]) => ({ zp: calib, filter: band, offsetHz: null })),
    source: 'mqtt',
    payload,
  };
}

/** The firmware's three register messages at boot, 1 s apart. */
export function boot(name: string, mac: string, t: Date, calib: number): RegisterEvent[] {
  return [0, 1, 2].map((s) => tessw(name, mac, new Date(t.getTime() + s * 1000), calib));
}

export const MAC_A = 'AA:00:00:00:00:01';
export const MAC_B = 'AA:00:00:00:00:02';
export const MAC_C = 'AA:00:00:00:00:03';
export const MAC_D = 'AA:00:00:00:00:04';
