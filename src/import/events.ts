/**
 * tessdb-server's photometer versions (`tess_t`) and name mappings (`name_to_mac_t`) → tessdb register
 * events, so that the registry fold reproduces them (pure, no I/O):
 *
 * - one imported register event (source "sqlite") per device and instant at which a version or a name
 *   mapping starts, carrying the name mapped to the device then and the calibration valid then;
 * - administrative events (source "manual", `{op, …, via: "sqlite"}`) where a version's location,
 *   observer, authorisation (or, when the fold knows the op, filter / pointing / field of view / cover
 *   offset) differs from the previous version of the device. They take effect at the version's start;
 *   the fold applies them after the registration of the same instant.
 *
 * A version that starts while its device has no name mapping gets no register event (a registration
 * needs a name, and inventing one would move another device's name); it is counted in `unnamed`.
 */
import { ADMIN_OPS, interpretPayload, manualEvent } from '../registry/index.js';
import type { RegisterEvent } from '../model/types.js';
import type { SourceMapping, SourceVersion } from './tessdb-sqlite.js';

export interface ImportEvents {
  events: RegisterEvent[];
  /** Version starts without a name mapping at that time (no register event). */
  unnamed: { mac: string; at: number }[];
}

/** The fold's defaults for a new device (what admin events are compared with for a first version). */
const DEFAULTS = { locationId: -1, observerId: -1, authorised: false, filter: 'UVIR', fov: 17, azimuth: 0, altitude: 90, coverOffset: 0 };

function validAt<T extends { since: number; until: number }>(rows: T[], t: number): T | undefined {
  // rows sorted by since; the last one starting at or before t that has not ended
  let found: T | undefined;
  for (const r of rows) {
    if (r.since > t) break;
    if (t < r.until) found = r;
  }
  return found;
}

function registerPayload(v: SourceVersion, name: string): Record<string, unknown> {
  const payload: Record<string, unknown> = { name, mac: v.mac };
  if (v.model === 'TESS4C') {
    for (let i = 0; i < 4; i++) payload[`F${i + 1}`] = { band: v.filter[i] ?? null, calib: v.zp[i] ?? null };
  } else {
    payload.calib = v.zp[0] ?? 0; // no zero point: 0 is below the valid range, so it never changes a calibration
    if (v.offset[0] !== null && v.offset[0] !== undefined) payload.offsethz = v.offset[0];
  }
  if (v.firmware !== null) payload.firmware = v.firmware;
  payload.tessdb_server = { tess_id: v.tessId, registered: v.registered, filter: v.filter[0] ?? null };
  return payload;
}

function registerEvent(v: SourceVersion, name: string, at: number): RegisterEvent {
  const payload = registerPayload(v, name);
  const it = interpretPayload('sqlite', payload);
  if (it.kind !== 'register') throw new Error(`tess_id ${v.tessId}: cannot build a register event (${it.kind === 'invalid' ? it.detail : 'admin'})`);
  return {
    name,
    mac: v.mac,
    receivedAt: new Date(at),
    model: it.model,
    rev: null,
    firmware: it.firmware,
    wdbm: null,
    channels: it.channels,
    source: 'sqlite',
    payload,
  };
}

/**
 * Build the events. `locationIds` / `observerIds` map tessdb-server ids to tessdb ids (a missing entry:
 * the Unknown −1).
 */
export function importEvents(
  versions: SourceVersion[],
  mappings: SourceMapping[],
  locationIds: Map<number, number>,
  observerIds: Map<number, number>,
): ImportEvents {
  const byMac = new Map<string, { versions: SourceVersion[]; mappings: SourceMapping[] }>();
  const group = (mac: string) => {
    let g = byMac.get(mac);
    if (!g) byMac.set(mac, (g = { versions: [], mappings: [] }));
    return g;
  };
  for (const v of versions) group(v.mac).versions.push(v);
  for (const m of mappings) group(m.mac).mappings.push(m);
  const events: RegisterEvent[] = [];
  const unnamed: ImportEvents['unnamed'] = [];
  const has = (op: string) => Object.prototype.hasOwnProperty.call(ADMIN_OPS, op);

  for (const [mac, g] of [...byMac].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (g.versions.length === 0) continue; // a name mapped to a MAC tess_t never had: nothing to register
    g.versions.sort((a, b) => a.since - b.since || a.tessId - b.tessId);
    g.mappings.sort((a, b) => a.since - b.since);
    // 2.x databases without name_to_mac_t: the name is tess_t's own column, valid for the version.
    const mappings: SourceMapping[] = g.mappings.length
      ? g.mappings
      : g.versions.filter((v) => v.name !== null).map((v) => ({ name: v.name!, mac, since: v.since, until: v.until }));
    const nameAt = (t: number) => validAt(mappings, t)?.name ?? null;
    const instants = [...new Set([...g.versions.map((v) => v.since), ...mappings.map((m) => m.since)])].sort((a, b) => a - b);
    for (const t of instants) {
      const name = nameAt(t);
      const v = validAt(g.versions, t) ?? (t < g.versions[0].since ? g.versions[0] : g.versions.filter((x) => x.since <= t).at(-1)!);
      if (name === null) {
        if (g.versions.some((x) => x.since === t)) unnamed.push({ mac, at: t });
        continue;
      }
      events.push(registerEvent(v, name, t));
    }
    // Administrative attributes, version by version.
    let prev = { ...DEFAULTS };
    for (const v of g.versions) {
      const name = nameAt(v.since) ?? mappings.find((m) => m.since >= v.since)?.name ?? mappings.at(-1)?.name;
      if (name === undefined) continue;
      const at = new Date(v.since);
      const cur = {
        locationId: locationIds.get(v.locationId) ?? -1,
        observerId: observerIds.get(v.observerId) ?? -1,
        authorised: v.authorised,
        filter: v.filter[0] ?? prev.filter,
        fov: v.fov ?? prev.fov,
        azimuth: v.azimuth ?? prev.azimuth,
        altitude: v.altitude ?? prev.altitude,
        coverOffset: v.coverOffset ?? prev.coverOffset,
      };
      const op = (o: string, extra: Record<string, unknown> = {}) => events.push(manualEvent(o, mac, name, at, { ...extra, via: 'sqlite' }));
      if (cur.locationId !== prev.locationId) op('set_location', { location_id: cur.locationId });
      if (cur.observerId !== prev.observerId) op('set_observer', { observer_id: cur.observerId });
      if (cur.authorised !== prev.authorised) op(cur.authorised ? 'authorise' : 'unauthorise');
      // TESS-W filters are not in register messages; TESS4C ones are (F1..F4 band).
      if (v.model === 'TESS-W' && cur.filter !== prev.filter && has('set_filter')) op('set_filter', { filter: cur.filter, channel: 1 });
      if (cur.fov !== prev.fov && has('set_fov')) op('set_fov', { fov: cur.fov });
      if (cur.azimuth !== prev.azimuth && has('set_azimuth')) op('set_azimuth', { azimuth: cur.azimuth });
      if (cur.altitude !== prev.altitude && has('set_altitude')) op('set_altitude', { altitude: cur.altitude });
      if (cur.coverOffset !== prev.coverOffset && has('set_cover_offset')) op('set_cover_offset', { cover_offset: cur.coverOffset });
      prev = cur;
    }
  }
  return { events, unnamed };
}

/** Per device, its name at a time (for attributing readings by tess_id). */
export class NameTimeline {
  private readonly byMac = new Map<string, { since: Float64Array; until: Float64Array; names: string[]; last: number }>();

  constructor(mappings: SourceMapping[], versions: SourceVersion[]) {
    const groups = new Map<string, SourceMapping[]>();
    for (const m of mappings) {
      let g = groups.get(m.mac);
      if (!g) groups.set(m.mac, (g = []));
      g.push(m);
    }
    if (mappings.length === 0) {
      for (const v of versions) {
        if (v.name === null) continue;
        let g = groups.get(v.mac);
        if (!g) groups.set(v.mac, (g = []));
        g.push({ name: v.name, mac: v.mac, since: v.since, until: v.until });
      }
    }
    for (const [mac, g] of groups) {
      g.sort((a, b) => a.since - b.since);
      this.byMac.set(mac, {
        since: Float64Array.from(g.map((m) => m.since)),
        until: Float64Array.from(g.map((m) => m.until)),
        names: g.map((m) => m.name),
        last: 0,
      });
    }
  }

  /** The name mapped to `mac` at `t` (ms), or null. */
  nameAt(mac: string, t: number): string | null {
    const tl = this.byMac.get(mac);
    if (!tl) return null;
    const i = tl.last;
    if (tl.since[i] <= t && t < tl.until[i]) return tl.names[i];
    let found = -1;
    for (let k = tl.since.length - 1; k >= 0; k--) {
      if (tl.since[k] <= t && t < tl.until[k]) {
        found = k;
        break;
      }
    }
    if (found < 0) return null;
    tl.last = found;
    return tl.names[found];
  }
}
