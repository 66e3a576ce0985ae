/** Building administrative registry events (source 'manual', payload `{op, mac, name, ...extra}`). */
import { normaliseMac } from '../model/mac.js';
import type { RegisterEvent } from '../model/types.js';

/** Operations the fold implements today; others are kept in the log and ignored until implemented. */
export type AdminOpName =
  | 'authorise'
  | 'unauthorise'
  | 'set_location'
  | 'set_observer'
  | 'set_zero_point'
  | 'set_filter'
  | 'set_offset'
  | 'set_azimuth'
  | 'set_altitude'
  | 'set_fov'
  | 'set_cover_offset'
  | 'rename';

/**
 * An administrative event for the device `mac` (known as `name`), effective from `at`: the fold starts
 * a new photometer version at `at`. `extra` goes into the payload (e.g. `{ user: 'rafa' }`).
 * MAC and name are normalised (throws on an invalid MAC). The event hash covers op, mac, name, time and extra, so recording it twice is a no-op.
 */
export function manualEvent(
  op: AdminOpName | (string & {}),
  mac: string,
  name: string,
  at: Date,
  extra: Record<string, unknown> = {},
): RegisterEvent {
  const normal = normaliseMac(mac);
  if (normal === null) throw new Error(`manual registry event: "${mac}" is not a MAC address`);
  const lname = name.trim().toLowerCase();
  return {
    name: lname,
    mac: normal,
    receivedAt: at,
    model: 'TESS-W',
    rev: null,
    firmware: null,
    wdbm: null,
    channels: [],
    source: 'manual',
    payload: { ...extra, op, mac: normal, name: lname },
  };
}
