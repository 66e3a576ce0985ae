/**
 * The registry fold (pure): register events in time order → photometer versions and name mappings,
 * following tessdb-server's registration rules (design.md §1). See docs in ./README.md.
 *
 * "MAC known" / "name known" mean: has a current name mapping at the event's time (as in
 * tessdb-server). Every register event of a device that already has a photometer version is also
 * checked for a calibration change, whatever the mapping case.
 */
import type { ChannelCalibration } from '../model/types.js';
import { eventHash } from './hash.js';
import { interpretPayload, type Interpretation } from './payload.js';
import {
  DEFAULT_FILTER,
  DEFAULT_ZP,
  FOREVER,
  MAX_ADMIN_ZP,
  MIN_ADMIN_ZP,
  MIN_VALID_ZP,
  ZP_CHANGE,
  type EventSource,
  type FoldEvent,
  type FoldNote,
  type NameMapping,
  type Outcome,
  type PhotometerVersion,
  type Registered,
  type RegistryFold,
} from './types.js';

const ZP = ['zp1', 'zp2', 'zp3', 'zp4'] as const;
const FILTER = ['filter1', 'filter2', 'filter3', 'filter4'] as const;
const OFFSET = ['offset1', 'offset2', 'offset3', 'offset4'] as const;
/** Float tolerance so that a decimal change of exactly 0.005 counts as a change. */
const EPS = 1e-9;

type Register = Extract<Interpretation, { kind: 'register' }>;
type Calibration = Pick<
  PhotometerVersion,
  'model' | 'nchannels' | 'zp1' | 'zp2' | 'zp3' | 'zp4' | 'filter1' | 'filter2' | 'filter3' | 'filter4' | 'offset1' | 'offset2' | 'offset3' | 'offset4'
>;

export function registeredBy(source: EventSource): Registered {
  return source === 'mqtt' ? 'Automatic' : source === 'manual' ? 'Manual' : 'Imported';
}

function validZp(zp: number | null): zp is number {
  return zp !== null && zp >= MIN_VALID_ZP;
}

/** Mutable fold state. Rows are mutated in place while current; `dropped` holds zero-length rows. */
class RegistryState {
  readonly versions: PhotometerVersion[] = [];
  readonly mappings: NameMapping[] = [];
  readonly current = new Map<string, PhotometerVersion>();
  readonly byName = new Map<string, NameMapping>();
  readonly byMac = new Map<string, NameMapping>();
  readonly dropped = new Set<object>();

  expireMapping(m: NameMapping, t: Date): void {
    this.byName.delete(m.name);
    this.byMac.delete(m.mac);
    if (m.validSince.getTime() >= t.getTime()) this.dropped.add(m);
    else {
      m.validUntil = t;
      m.validState = 'Expired';
    }
  }

  addMapping(name: string, mac: string, t: Date): void {
    const m: NameMapping = { name, mac, validSince: t, validUntil: FOREVER, validState: 'Current' };
    this.mappings.push(m);
    this.byName.set(name, m);
    this.byMac.set(mac, m);
  }

  addVersion(v: PhotometerVersion): void {
    this.versions.push(v);
    this.current.set(v.mac, v);
  }

  /** Expire the device's current version at t and start a new one with `changes`; same-instant: in place. */
  newVersion(prev: PhotometerVersion, changes: Partial<PhotometerVersion>, t: Date): void {
    if (prev.validSince.getTime() >= t.getTime()) {
      Object.assign(prev, changes);
      return;
    }
    prev.validUntil = t;
    prev.validState = 'Expired';
    this.addVersion({ ...prev, ...changes, validSince: t, validUntil: FOREVER, validState: 'Current' });
  }
}

/** Write channel i's zero point, filter (channel 1 defaults to UVIR) and offset into a row. */
function setChannel(row: Partial<PhotometerVersion>, i: number, zp: number, filter: string | null, offset: number): void {
  const r = row as Record<string, unknown>;
  r[ZP[i]] = zp;
  r[FILTER[i]] = filter ?? (i === 0 ? DEFAULT_FILTER : null);
  r[OFFSET[i]] = offset;
}

/** Calibration of a brand-new device: the event's, with defaults for unknown or faulty values. */
function initialCalibration(reg: Register): Calibration {
  const c: Calibration = {
    model: reg.model,
    nchannels: reg.channels.length,
    zp1: DEFAULT_ZP,
    zp2: null,
    zp3: null,
    zp4: null,
    filter1: DEFAULT_FILTER,
    filter2: null,
    filter3: null,
    filter4: null,
    offset1: 0,
    offset2: null,
    offset3: null,
    offset4: null,
  };
  reg.channels.forEach((ch, i) => {
    setChannel(c, i, validZp(ch.zp) ? ch.zp : DEFAULT_ZP, ch.filter, ch.offsetHz ?? 0);
  });
  return c;
}

/** The calibration changes an event brings to `prev`, or null when it is a plain reboot. */
function calibrationChanges(prev: PhotometerVersion, reg: Register): Partial<PhotometerVersion> | null {
  const next: Partial<PhotometerVersion> = {};
  let changed = prev.model !== reg.model || prev.nchannels !== reg.channels.length;
  if (changed) Object.assign(next, initialCalibration(reg));
  for (let i = 0; i < 4; i++) {
    const ch: ChannelCalibration | undefined = reg.channels[i];
    if (ch === undefined) continue;
    const oldZp = prev[ZP[i]];
    const zp = validZp(ch.zp) && (oldZp === null || Math.abs(ch.zp - oldZp) >= ZP_CHANGE - EPS) ? ch.zp : oldZp;
    const oldFilter = prev[FILTER[i]];
    const filter = ch.filter !== null && ch.filter !== oldFilter ? ch.filter : oldFilter;
    const oldOffset = prev[OFFSET[i]];
    const offset =
      ch.offsetHz !== null && (oldOffset === null || Math.fround(ch.offsetHz) !== Math.fround(oldOffset)) ? ch.offsetHz : oldOffset;
    if (zp !== oldZp || filter !== oldFilter || offset !== oldOffset) changed = true;
    setChannel(next, i, zp ?? DEFAULT_ZP, filter, offset ?? 0);
  }
  return changed ? next : null;
}

function applyRegister(s: RegistryState, ev: FoldEvent, reg: Register): FoldNote {
  const t = ev.receivedAt;
  const byMac = s.byMac.get(ev.mac);
  const byName = s.byName.get(ev.name);
  let outcome: Outcome;
  if (!byMac && !byName) outcome = 'new';
  else if (byMac && !byName) outcome = 'rename';
  else if (!byMac && byName) outcome = 'replace';
  else outcome = byMac === byName ? 'reboot' : 'override';

  // Location/observer carried over from the device that had the name until now (replace).
  const predecessor = outcome === 'replace' ? s.current.get(byName!.mac) : undefined;
  if (byMac && outcome !== 'reboot') s.expireMapping(byMac, t);
  if (byName && outcome !== 'reboot' && byName !== byMac) s.expireMapping(byName, t);
  if (outcome !== 'reboot') s.addMapping(ev.name, ev.mac, t);

  const prev = s.current.get(ev.mac);
  let detail: string | undefined;
  if (!prev) {
    s.addVersion({
      mac: ev.mac,
      firmware: reg.firmware,
      ...initialCalibration(reg),
      azimuth: 0,
      altitude: 90,
      fov: 17,
      coverOffset: 0,
      locationId: predecessor?.locationId ?? -1,
      observerId: predecessor?.observerId ?? -1,
      authorised: false,
      registered: registeredBy(ev.source),
      validSince: t,
      validUntil: FOREVER,
      validState: 'Current',
    });
  } else {
    if (outcome === 'new') detail = 'known device without a current name';
    const changes = calibrationChanges(prev, reg);
    if (changes) {
      changes.firmware = reg.firmware ?? prev.firmware;
      s.newVersion(prev, changes, t);
      if (outcome === 'reboot') outcome = 'recalibrated';
      else detail = 'recalibrated';
    }
  }
  return { at: t, name: ev.name, mac: ev.mac, outcome, detail };
}

/** Administrative operations (source 'manual', payload `{op, ...}`): each starts a new version at t. */
type AdminOp = (s: RegistryState, ev: FoldEvent, args: Record<string, unknown>) => FoldNote;

function setAuthorised(value: boolean): AdminOp {
  return (s, ev) => {
    const note: FoldNote = { at: ev.receivedAt, name: ev.name, mac: ev.mac, outcome: value ? 'authorised' : 'unauthorised' };
    const prev = s.current.get(ev.mac);
    if (!prev) return { ...note, outcome: 'ignored', detail: 'no photometer with this MAC at that time' };
    if (prev.authorised === value) return { ...note, detail: 'unchanged' };
    s.newVersion(prev, { authorised: value }, ev.receivedAt);
    return note;
  };
}

/** `set_location` / `set_observer`: `{ "location_id": n }` / `{ "observer_id": n }` (must exist: foreign keys). */
function setReference(field: 'locationId' | 'observerId', arg: 'location_id' | 'observer_id'): AdminOp {
  return (s, ev, args) => {
    const note: FoldNote = { at: ev.receivedAt, name: ev.name, mac: ev.mac, outcome: 'updated' };
    const id = args[arg];
    if (typeof id !== 'number' || !Number.isInteger(id)) return { ...note, outcome: 'ignored', detail: `field "${arg}" is not an integer` };
    const prev = s.current.get(ev.mac);
    if (!prev) return { ...note, outcome: 'ignored', detail: 'no photometer with this MAC at that time' };
    if (prev[field] === id) return { ...note, detail: 'unchanged' };
    s.newVersion(prev, { [field]: id }, ev.receivedAt);
    return note;
  };
}

/** Channel argument of a per-channel op: `channel` 1..4 (default 1), within the device's channel count. */
function channelArg(prev: PhotometerVersion, args: Record<string, unknown>): number | string {
  const ch = args.channel ?? 1;
  if (typeof ch !== 'number' || !Number.isInteger(ch) || ch < 1 || ch > 4) return 'field "channel" is not 1..4';
  if (ch > prev.nchannels) return `channel ${ch} but the photometer has ${prev.nchannels}`;
  return ch - 1;
}

/**
 * `set_zero_point`: `{ "zp": x, "channel"?: 1..4 }`, x in [MIN_ADMIN_ZP, MAX_ADMIN_ZP].
 * `set_filter`: `{ "filter": "UVIR", "channel"?: 1..4 }`, a non-empty string.
 * `set_offset`: `{ "offset": hz, "channel"?: 1..4 }`, ≥ 0.
 */
function setChannelValue(key: 'zp' | 'filter' | 'offset'): AdminOp {
  const columns = key === 'zp' ? ZP : key === 'filter' ? FILTER : OFFSET;
  return (s, ev, args) => {
    const note: FoldNote = { at: ev.receivedAt, name: ev.name, mac: ev.mac, outcome: 'updated' };
    const prev = s.current.get(ev.mac);
    if (!prev) return { ...note, outcome: 'ignored', detail: 'no photometer with this MAC at that time' };
    const i = channelArg(prev, args);
    if (typeof i === 'string') return { ...note, outcome: 'ignored', detail: i };
    const value = args[key];
    let problem: string | null = null;
    if (key === 'filter') {
      if (typeof value !== 'string' || value.trim() === '') problem = 'field "filter" is not a non-empty string';
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      problem = `field "${key}" is not a number`;
    } else if (key === 'zp' && (value < MIN_ADMIN_ZP || value > MAX_ADMIN_ZP)) {
      problem = `zero point ${value} is outside ${MIN_ADMIN_ZP}..${MAX_ADMIN_ZP}`;
    } else if (key === 'offset' && value < 0) {
      problem = `offset ${value} is negative`;
    }
    if (problem) return { ...note, outcome: 'ignored', detail: problem };
    const column = columns[i];
    if (prev[column] === value) return { ...note, detail: 'unchanged' };
    s.newVersion(prev, { [column]: value } as Partial<PhotometerVersion>, ev.receivedAt);
    return note;
  };
}

/** `set_azimuth` / `set_altitude` / `set_fov` / `set_cover_offset`: one number within a range. */
function setNumber(field: 'azimuth' | 'altitude' | 'fov' | 'coverOffset', arg: string, min: number, max: number): AdminOp {
  return (s, ev, args) => {
    const note: FoldNote = { at: ev.receivedAt, name: ev.name, mac: ev.mac, outcome: 'updated' };
    const value = args[arg];
    if (typeof value !== 'number' || !Number.isFinite(value)) return { ...note, outcome: 'ignored', detail: `field "${arg}" is not a number` };
    if (value < min || value > max) return { ...note, outcome: 'ignored', detail: `${arg} ${value} is outside ${min}..${max}` };
    const prev = s.current.get(ev.mac);
    if (!prev) return { ...note, outcome: 'ignored', detail: 'no photometer with this MAC at that time' };
    if (prev[field] === value) return { ...note, detail: 'unchanged' };
    s.newVersion(prev, { [field]: value }, ev.receivedAt);
    return note;
  };
}

/**
 * `rename`: the device `mac` is known as `name` from t. Its current mapping (if any) expires at t and
 * a new one starts. Refused (ignored) when the device has no photometer at t or when the name is
 * mapped to another device at t (that would be a replacement, which only a registration can make).
 */
const rename: AdminOp = (s, ev) => {
  const t = ev.receivedAt;
  const note: FoldNote = { at: t, name: ev.name, mac: ev.mac, outcome: 'rename' };
  if (!s.current.has(ev.mac)) return { ...note, outcome: 'ignored', detail: 'no photometer with this MAC at that time' };
  const byName = s.byName.get(ev.name);
  const byMac = s.byMac.get(ev.mac);
  if (byName && byName.mac !== ev.mac) return { ...note, outcome: 'ignored', detail: `name "${ev.name}" is in use by ${byName.mac}` };
  if (byMac && byMac === byName) return { ...note, detail: 'unchanged' };
  if (byMac) s.expireMapping(byMac, t);
  s.addMapping(ev.name, ev.mac, t);
  return note;
};

/** Administrative operations by name (payload `{op, mac, name, ...args}`); each starts a new version (or mapping) at t. */
export const ADMIN_OPS: Readonly<Record<string, AdminOp>> = {
  authorise: setAuthorised(true),
  unauthorise: setAuthorised(false),
  set_location: setReference('locationId', 'location_id'),
  set_observer: setReference('observerId', 'observer_id'),
  set_zero_point: setChannelValue('zp'),
  set_filter: setChannelValue('filter'),
  set_offset: setChannelValue('offset'),
  set_azimuth: setNumber('azimuth', 'azimuth', 0, 360),
  set_altitude: setNumber('altitude', 'altitude', -90, 90),
  set_fov: setNumber('fov', 'fov', 0, 180),
  set_cover_offset: setNumber('coverOffset', 'cover_offset', -10, 10),
  rename,
};

/** Administrative operations sort after registrations of the same instant (they act on the device a registration creates). */
function isAdmin(e: FoldEvent): boolean {
  const p = e.payload as { op?: unknown } | null;
  return e.source === 'manual' && typeof p === 'object' && p !== null && p.op !== undefined;
}

function cmpEvents(a: FoldEvent & { hash: string }, b: FoldEvent & { hash: string }): number {
  const d = a.receivedAt.getTime() - b.receivedAt.getTime();
  if (d !== 0) return d;
  const k = Number(isAdmin(a)) - Number(isAdmin(b));
  if (k !== 0) return k;
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
}

function cmpRows(a: { validSince: Date }, b: { validSince: Date }, ka: string, kb: string): number {
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.validSince.getTime() - b.validSince.getTime();
}

/**
 * Fold register events into the registry. Events are ordered here by (receivedAt, event hash), so the
 * result depends on the set of events only, never on their order or insertion ids.
 */
export function foldRegistry(events: readonly FoldEvent[]): RegistryFold {
  const ordered = events
    .map((e) => ({ ...e, hash: e.hash ?? eventHash(e.receivedAt, e.source, e.payload) }))
    .sort(cmpEvents);
  const s = new RegistryState();
  const notes: FoldNote[] = [];
  for (const ev of ordered) {
    const it = interpretPayload(ev.source, ev.payload);
    if (it.kind === 'invalid') {
      notes.push({ at: ev.receivedAt, name: ev.name, mac: ev.mac, outcome: 'ignored', detail: it.detail });
    } else if (it.kind === 'register') {
      notes.push(applyRegister(s, ev, it));
    } else {
      const op = Object.prototype.hasOwnProperty.call(ADMIN_OPS, it.op) ? ADMIN_OPS[it.op] : undefined;
      notes.push(
        op
          ? op(s, ev, it.args)
          : { at: ev.receivedAt, name: ev.name, mac: ev.mac, outcome: 'ignored', detail: `unknown op "${it.op}"` },
      );
    }
  }
  const versions = s.versions.filter((v) => !s.dropped.has(v)).sort((a, b) => cmpRows(a, b, a.mac, b.mac));
  const mappings = s.mappings.filter((m) => !s.dropped.has(m)).sort((a, b) => cmpRows(a, b, a.name, b.name));
  return { versions, mappings, notes };
}
