/**
 * Photometer administration (`tessdb photometer …`). Every change is an administrative event in the
 * register event log (`manualEvent`, source `manual`), folded into `photometers` / `name_to_mac` like
 * any registration: a new version from the effective date, never an in-place edit of history
 * (src/registry/fold.ts ADMIN_OPS). Values are checked here first, so a refused change records nothing.
 */
import type { PhotometerCalibration } from '../registry/types.js';
import type pg from 'pg';
import type { RegisterEvent } from '../model/types.js';
import { manualEvent, rebuildRegistry, recordRegisterEvents } from '../registry/index.js';
import { UserError } from '../util/errors.js';
import { actor, findLocation, findObserver, inTransaction } from './common.js';
import * as v from './validate.js';

type Queryable = pg.Pool | pg.ClientBase;

/** One version of a photometer, with its name, location and observer. */
export interface PhotometerVersionRow extends PhotometerCalibration {
  tess_id: number;
  mac: string;
  name: string;
  model: string;
  cover_offset: number;
  location_id: number;
  site: string;
  observer_id: number;
  observer: string;
  authorised: boolean;
  registered: string;
  valid_since: Date;
  valid_until: Date;
  valid_state: 'Current' | 'Expired';
}

export interface PhotometerListRow extends PhotometerVersionRow {
  latest_reading: Date | null;
}

const VERSION_SELECT = `
SELECT p.tess_id, p.mac_address AS mac,
       coalesce((SELECT m.name FROM name_to_mac m
                  WHERE m.mac_address = p.mac_address AND m.valid_since < p.valid_until AND m.valid_until > p.valid_since
                  ORDER BY m.valid_since DESC LIMIT 1), '') AS name,
       p.model, p.firmware, p.nchannels, p.zp1, p.zp2, p.zp3, p.zp4, p.filter1, p.filter2, p.filter3, p.filter4,
       p.offset1, p.offset2, p.offset3, p.offset4, p.azimuth, p.altitude, p.fov, p.cover_offset,
       p.location_id, l.site, p.observer_id, o.name AS observer, p.authorised, p.registered,
       p.valid_since, p.valid_until, p.valid_state
  FROM photometers p JOIN locations l USING (location_id) JOIN observers o USING (observer_id)`;

const LATEST_READING = `(SELECT max(r.tstamp) FROM readings r WHERE r.name_id = (SELECT n.name_id FROM names n WHERE n.name = v.name))`;

export interface ListFilter {
  state?: 'current' | 'expired' | 'all';
  unassigned?: boolean;
  unauthorised?: boolean;
  /** Only current photometers whose latest reading is older than this (or that never sent one). */
  silentSince?: Date;
}

export async function listPhotometers(db: Queryable, f: ListFilter = {}): Promise<PhotometerListRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const state = f.silentSince ? 'current' : (f.state ?? 'current');
  if (state === 'current') where.push(`p.valid_state = 'Current'`);
  if (state === 'expired') where.push(`p.valid_state = 'Expired'`);
  if (f.unassigned) where.push('p.location_id = -1');
  if (f.unauthorised) where.push('NOT p.authorised');
  let outer = '';
  if (f.silentSince) {
    params.push(f.silentSince.toISOString());
    outer = `WHERE latest_reading IS NULL OR latest_reading < $${params.length}::timestamptz`;
  }
  const sql = `SELECT * FROM (
      SELECT v.*, ${LATEST_READING} AS latest_reading
        FROM (${VERSION_SELECT} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}) v
    ) x ${outer}
    ORDER BY name, mac, valid_since`;
  const { rows } = await db.query<PhotometerListRow>(sql, params);
  return rows;
}

export interface Target {
  mac: string;
  /** The name the device had at the effective time (or its latest one). */
  name: string;
}

/**
 * A photometer by MAC address or by name. A name is looked up at `at` (default now); a name without
 * a mapping then, but with one before, resolves to the device it last stood for.
 */
export async function resolvePhotometer(db: Queryable, key: string, at: Date = new Date()): Promise<Target> {
  const mac = tryMac(key);
  if (mac) {
    const { rows } = await db.query<{ name: string | null; n: string }>(
      `SELECT (SELECT m.name FROM name_to_mac m WHERE m.mac_address = $1
                ORDER BY (m.valid_since <= $2 AND $2 < m.valid_until) DESC, m.valid_since DESC LIMIT 1) AS name,
              (SELECT count(*) FROM photometers WHERE mac_address = $1) AS n`,
      [mac, at.toISOString()],
    );
    if (Number(rows[0].n) === 0) throw new UserError(`no photometer with MAC ${mac} (see \`tessdb photometer list --all\`)`);
    return { mac, name: rows[0].name ?? '' };
  }
  const name = v.photometerName(key);
  const { rows } = await db.query<{ mac_address: string; valid_since: Date; valid_until: Date }>(
    `SELECT mac_address, valid_since, valid_until FROM name_to_mac WHERE name = $1
      ORDER BY (valid_since <= $2 AND $2 < valid_until) DESC, valid_since DESC`,
    [name, at.toISOString()],
  );
  if (rows.length === 0) throw new UserError(`no photometer named "${name}" (see \`tessdb photometer list\`)`);
  const hit = rows[0];
  if (hit.valid_since.getTime() > at.getTime()) {
    throw new UserError(`"${name}" had no device at ${at.toISOString()} (it is ${hit.mac_address} from ${hit.valid_since.toISOString()}); give a later --since or the MAC`);
  }
  return { mac: hit.mac_address, name };
}

function tryMac(text: string): string | null {
  if (text === '') return null;
  try {
    return v.macAddress(text);
  } catch {
    return null;
  }
}

/** The version of `mac` valid at `at`, or null. */
export async function versionAt(db: Queryable, mac: string, at: Date): Promise<PhotometerVersionRow | null> {
  const { rows } = await db.query<PhotometerVersionRow>(`${VERSION_SELECT} WHERE p.mac_address = $1 AND p.valid_since <= $2 AND $2 < p.valid_until`, [
    mac,
    at.toISOString(),
  ]);
  return rows[0] ?? null;
}

async function requireVersion(db: Queryable, t: Target, at: Date): Promise<PhotometerVersionRow> {
  const version = await versionAt(db, t.mac, at);
  if (version) return version;
  const { rows } = await db.query<{ first: Date }>('SELECT min(valid_since) AS first FROM photometers WHERE mac_address = $1', [t.mac]);
  const first = rows[0]?.first;
  throw new UserError(
    `photometer ${t.name || t.mac} (${t.mac}) has no version at ${at.toISOString()}` + (first ? `: it is known from ${first.toISOString()}` : ''),
  );
}

/** Record administrative events and fold them in, in one transaction. */
export async function applyEvents(pool: pg.Pool, events: RegisterEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  return inTransaction(pool, async (client) => {
    const recorded = await recordRegisterEvents(client, events);
    if (recorded.inserted > 0) await rebuildRegistry(client, { macs: recorded.affectedMacs, names: recorded.affectedNames });
    return recorded.inserted;
  });
}

export interface ChangeResult {
  name: string;
  mac: string;
  since: Date;
  /** What was changed, one line each (empty: nothing to change). */
  changes: string[];
  /** The version valid at `since` after the change. */
  version: PhotometerVersionRow | null;
}

function event(op: string, t: Target, at: Date, args: Record<string, unknown> = {}): RegisterEvent {
  return manualEvent(op, t.mac, t.name || 'unknown', at, { ...args, user: actor() });
}

async function finish(pool: pg.Pool, t: Target, at: Date, events: RegisterEvent[], changes: string[]): Promise<ChangeResult> {
  await applyEvents(pool, events);
  return { name: t.name, mac: t.mac, since: at, changes, version: await versionAt(pool, t.mac, at) };
}

export async function setAuthorised(pool: pg.Pool, key: string, value: boolean, at: Date): Promise<ChangeResult> {
  const t = await resolvePhotometer(pool, key, at);
  const version = await requireVersion(pool, t, at);
  if (version.authorised === value) return { name: t.name, mac: t.mac, since: at, changes: [], version };
  return finish(pool, t, at, [event(value ? 'authorise' : 'unauthorise', t, at)], [value ? 'authorised' : 'not authorised']);
}

export interface Assignment {
  location?: string;
  observer?: string;
}

export async function assign(pool: pg.Pool, key: string, a: Assignment, at: Date): Promise<ChangeResult> {
  if (a.location === undefined && a.observer === undefined) throw new UserError('nothing to assign: give --location and/or --observer');
  const t = await resolvePhotometer(pool, key, at);
  const version = await requireVersion(pool, t, at);
  const events: RegisterEvent[] = [];
  const changes: string[] = [];
  if (a.location !== undefined) {
    const loc = await findLocation(pool, a.location);
    if (loc.location_id !== version.location_id) {
      events.push(event('set_location', t, at, { location_id: loc.location_id }));
      changes.push(`location ${version.site} → ${loc.site}`);
    }
  }
  if (a.observer !== undefined) {
    const obs = await findObserver(pool, a.observer);
    if (obs.observer_id !== version.observer_id) {
      events.push(event('set_observer', t, at, { observer_id: obs.observer_id }));
      changes.push(`observer ${version.observer} → ${obs.name}`);
    }
  }
  return finish(pool, t, at, events, changes);
}

export interface Settings {
  channel?: number;
  zp?: number;
  filter?: string;
  offset?: number;
  azimuth?: number;
  altitude?: number;
  fov?: number;
  coverOffset?: number;
}

/** Set version-controlled attributes (validated by the caller with ./validate.ts). */
export async function setAttributes(pool: pg.Pool, key: string, s: Settings, at: Date): Promise<ChangeResult> {
  const given = (['zp', 'filter', 'offset', 'azimuth', 'altitude', 'fov', 'coverOffset'] as const).filter((k) => s[k] !== undefined);
  if (given.length === 0) throw new UserError('nothing to set: give --zp, --filter, --offset, --azimuth, --altitude, --fov or --cover-offset');
  const t = await resolvePhotometer(pool, key, at);
  const version = await requireVersion(pool, t, at);
  const channel = s.channel ?? 1;
  if (channel > version.nchannels) {
    throw new UserError(`channel ${channel}: ${t.name || t.mac} is a ${version.model} with ${version.nchannels} channel${version.nchannels > 1 ? 's' : ''}`);
  }
  const events: RegisterEvent[] = [];
  const changes: string[] = [];
  const chArg = version.nchannels > 1 || s.channel !== undefined ? { channel } : {};
  const suffix = version.nchannels > 1 ? ` (channel ${channel})` : '';
  const perChannel = (field: 'zp' | 'filter' | 'offset', op: string, label: string) => {
    const value = s[field];
    if (value === undefined) return;
    const old = version[`${field}${channel}` as keyof PhotometerVersionRow] as number | string | null;
    if (typeof value === 'number' && typeof old === 'number' ? Math.fround(value) === Math.fround(old) : value === old) return;
    events.push(event(op, t, at, { [field]: value, ...chArg }));
    changes.push(`${label}${suffix} ${old ?? '-'} → ${value}`);
  };
  perChannel('zp', 'set_zero_point', 'zero point');
  perChannel('filter', 'set_filter', 'filter');
  perChannel('offset', 'set_offset', 'frequency offset');
  const scalar = (field: 'azimuth' | 'altitude' | 'fov' | 'coverOffset', op: string, arg: string, label: string) => {
    const value = s[field];
    if (value === undefined) return;
    const old = version[field === 'coverOffset' ? 'cover_offset' : field];
    if (Math.fround(value) === Math.fround(old)) return;
    events.push(event(op, t, at, { [arg]: value }));
    changes.push(`${label} ${old} → ${value}`);
  };
  scalar('azimuth', 'set_azimuth', 'azimuth', 'azimuth');
  scalar('altitude', 'set_altitude', 'altitude', 'altitude');
  scalar('fov', 'set_fov', 'fov', 'field of view');
  scalar('coverOffset', 'set_cover_offset', 'cover_offset', 'cover offset');
  return finish(pool, t, at, events, changes);
}

/** The device known as `key` (name or MAC) takes the name `newName` from `at`. */
export async function rename(pool: pg.Pool, key: string, newName: string, at: Date): Promise<ChangeResult> {
  const name = v.photometerName(newName);
  const t = await resolvePhotometer(pool, key, at);
  await requireVersion(pool, t, at);
  if (t.name === name) {
    const { rowCount } = await pool.query('SELECT 1 FROM name_to_mac WHERE name = $1 AND mac_address = $2 AND valid_since <= $3 AND $3 < valid_until', [
      name,
      t.mac,
      at.toISOString(),
    ]);
    if (rowCount) return { name, mac: t.mac, since: at, changes: [], version: await versionAt(pool, t.mac, at) };
  }
  const { rows } = await pool.query<{ mac_address: string; valid_since: Date }>(
    `SELECT mac_address, valid_since FROM name_to_mac WHERE name = $1 AND mac_address <> $2 AND valid_since <= $3 AND $3 < valid_until`,
    [name, t.mac, at.toISOString()],
  );
  if (rows.length > 0) {
    throw new UserError(`the name "${name}" belongs to ${rows[0].mac_address} (since ${rows[0].valid_since.toISOString()}); rename that device first`);
  }
  const renamed: Target = { mac: t.mac, name };
  await applyEvents(pool, [manualEvent('rename', t.mac, name, at, { user: actor(), previous_name: t.name || null })]);
  return { name, mac: t.mac, since: at, changes: [`name ${t.name || '-'} → ${name}`], version: await versionAt(pool, renamed.mac, at) };
}

export interface NewPhotometer {
  name: string;
  mac: string;
  model: 'TESS-W' | 'TESS4C';
  /** One zero point per channel (1 or 4); default 20.5. */
  zps?: number[];
  filters?: string[];
  firmware?: string;
  authorise?: boolean;
  location?: string;
  observer?: string;
}

/**
 * A manual registration (tessdb-server's `tess create`): a `manual` register event (registered =
 * 'Manual'), plus authorise / location / observer events at the same instant.
 */
export async function createPhotometer(pool: pg.Pool, p: NewPhotometer, at: Date): Promise<ChangeResult> {
  const name = v.photometerName(p.name);
  const mac = v.macAddress(p.mac);
  const nch = p.model === 'TESS4C' ? 4 : 1;
  const zps = p.zps ?? Array<number>(nch).fill(20.5);
  if (zps.length !== nch) throw new UserError(`a ${p.model} has ${nch} zero point${nch > 1 ? 's' : ''}; got ${zps.length}`);
  const filters = p.filters ?? [];
  if (filters.length > nch) throw new UserError(`a ${p.model} has ${nch} filter${nch > 1 ? 's' : ''}; got ${filters.length}`);
  const known = await pool.query<{ name: string | null }>(
    `SELECT (SELECT m.name FROM name_to_mac m WHERE m.mac_address = $1 ORDER BY m.valid_since DESC LIMIT 1) AS name
       FROM photometers WHERE mac_address = $1 LIMIT 1`,
    [mac],
  );
  if (known.rows.length > 0) throw new UserError(`MAC ${mac} is already registered${known.rows[0].name ? ` (as "${known.rows[0].name}")` : ''}`);
  const taken = await pool.query<{ mac_address: string }>(
    'SELECT mac_address FROM name_to_mac WHERE name = $1 AND valid_since <= $2 AND $2 < valid_until',
    [name, at.toISOString()],
  );
  if (taken.rows.length > 0) {
    throw new UserError(`the name "${name}" belongs to ${taken.rows[0].mac_address}; rename that device first (a replacement unit takes the name by itself when it registers)`);
  }
  const location = p.location !== undefined ? await findLocation(pool, p.location) : undefined;
  const observer = p.observer !== undefined ? await findObserver(pool, p.observer) : undefined;
  const user = actor();
  const payload: Record<string, unknown> = { name, mac, rev: 1, user };
  if (p.firmware) payload.firmware = p.firmware;
  if (nch === 1) payload.calib = zps[0];
  else zps.forEach((zp, i) => (payload[`F${i + 1}`] = { band: filters[i] ?? 'UVIR', calib: zp }));
  const registration: RegisterEvent = {
    name,
    mac,
    receivedAt: at,
    model: p.model,
    rev: 1,
    firmware: p.firmware ?? null,
    wdbm: null,
    channels: zps.map((zp, i) => ({ zp, filter: nch > 1 ? (filters[i] ?? 'UVIR') : null, offsetHz: null })),
    source: 'manual',
    payload,
  };
  const t: Target = { mac, name };
  const events: RegisterEvent[] = [registration];
  const changes = [`registered ${name} ${mac} (${p.model}, zero point ${zps.join(', ')})`];
  if (nch === 1 && filters[0] !== undefined && filters[0] !== 'UVIR') {
    events.push(event('set_filter', t, at, { filter: filters[0] }));
    changes.push(`filter ${filters[0]}`);
  }
  if (p.authorise) {
    events.push(event('authorise', t, at));
    changes.push('authorised');
  }
  if (location && location.location_id !== -1) {
    events.push(event('set_location', t, at, { location_id: location.location_id }));
    changes.push(`location ${location.site}`);
  }
  if (observer && observer.observer_id !== -1) {
    events.push(event('set_observer', t, at, { observer_id: observer.observer_id }));
    changes.push(`observer ${observer.name}`);
  }
  return finish(pool, t, at, events, changes);
}

export interface PhotometerDetails {
  name: string;
  mac: string;
  current: PhotometerVersionRow | null;
  versions: PhotometerVersionRow[];
  names: Array<{ name: string; mac: string; valid_since: Date; valid_until: Date; valid_state: string }>;
  location: Record<string, unknown> | null;
  observer: Record<string, unknown> | null;
  latest_reading: Record<string, unknown> | null;
  readings: { count: number; first: Date | null };
  admin_events: Array<{ at: Date; op: string; user: string | null; details: Record<string, unknown> }>;
  registrations: { count: number; last: Date | null; last_payload: unknown };
}

export async function showPhotometer(db: Queryable, key: string): Promise<PhotometerDetails> {
  const t = await resolvePhotometer(db, key);
  const versions = (await db.query<PhotometerVersionRow>(`${VERSION_SELECT} WHERE p.mac_address = $1 ORDER BY p.valid_since`, [t.mac])).rows;
  const current = versions.find((x) => x.valid_state === 'Current') ?? versions.at(-1) ?? null;
  const names = (
    await db.query(
      `SELECT name, mac_address AS mac, valid_since, valid_until, valid_state FROM name_to_mac
        WHERE mac_address = $1 OR name IN (SELECT name FROM name_to_mac WHERE mac_address = $1)
        ORDER BY valid_since, name`,
      [t.mac],
    )
  ).rows;
  const location = current ? ((await db.query('SELECT * FROM location_t WHERE location_id = $1', [current.location_id])).rows[0] ?? null) : null;
  const observer = current
    ? ((await db.query('SELECT observer_id, name, type, affiliation, acronym, email, website_url FROM observers WHERE observer_id = $1', [current.observer_id]))
        .rows[0] ?? null)
    : null;
  let latest: Record<string, unknown> | null = null;
  let first: Date | null = null;
  let count = 0;
  if (t.name) {
    const r = await db.query(
      `SELECT r.tstamp, r.seq, r.freq, r.mag, r.tamb, r.tsky, r.wdbm, r.daylight, r.load_src::text AS load_src
         FROM readings r WHERE r.name_id = (SELECT name_id FROM names WHERE name = $1) ORDER BY r.tstamp DESC LIMIT 1`,
      [t.name],
    );
    latest = r.rows[0] ?? null;
    const f = await db.query<{ first: Date | null; n: string }>(
      `SELECT min(tstamp) AS first, count(*) AS n FROM readings WHERE name_id = (SELECT name_id FROM names WHERE name = $1)`,
      [t.name],
    );
    first = f.rows[0].first;
    count = Number(f.rows[0].n);
  }
  const admin = (
    await db.query<{ received_at: Date; payload: Record<string, unknown> }>(
      `SELECT received_at, payload FROM register_events WHERE mac_address = $1 AND source = 'manual' ORDER BY received_at, event_id`,
      [t.mac],
    )
  ).rows.map((r) => {
    const { op, user, mac: _m, name: _n, ...details } = r.payload;
    return { at: r.received_at, op: typeof op === 'string' ? op : 'register', user: typeof user === 'string' ? user : null, details };
  });
  const reg = await db.query<{ n: string; last: Date | null; payload: unknown }>(
    `SELECT count(*) OVER () AS n, received_at AS last, payload FROM register_events
      WHERE mac_address = $1 AND (source <> 'manual' OR NOT payload ? 'op') ORDER BY received_at DESC LIMIT 1`,
    [t.mac],
  );
  return {
    name: t.name,
    mac: t.mac,
    current,
    versions,
    names,
    location,
    observer,
    latest_reading: latest,
    readings: { count: count, first },
    admin_events: admin,
    registrations: { count: Number(reg.rows[0]?.n ?? 0), last: reg.rows[0]?.last ?? null, last_payload: reg.rows[0]?.payload ?? null },
  };
}
