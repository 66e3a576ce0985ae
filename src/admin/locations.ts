/**
 * Locations and observers (`tessdb location …`, `tessdb observer …`). `locations` / `observers` hold
 * the current values; every insert and change is also kept as a version in `location_versions` /
 * `observer_versions` by the triggers of sql/004, with who made it (tessdb.actor).
 */
import type pg from 'pg';
import { UserError } from '../util/errors.js';
import { findLocation, findObserver, inTransaction } from './common.js';
import * as v from './validate.js';

type Queryable = pg.Pool | pg.ClientBase;

/** Location fields an operator can give; strings are raw command-line text ('' clears a field). */
export interface LocationInput {
  site?: string;
  place?: string;
  province?: string;
  country?: string;
  zipcode?: string;
  timezone?: string;
  longitude?: string;
  latitude?: string;
  elevation?: string;
  contact_person?: string;
  contact_email?: string;
  organization?: string;
}

type Value = string | number | null;

/** Validated column → value (null clears an optional field). */
function locationColumns(input: LocationInput): Record<string, Value> {
  const out: Record<string, Value> = {};
  const text = (k: keyof LocationInput) => {
    const x = input[k];
    if (x !== undefined) out[k] = x.trim() === '' ? null : x.trim();
  };
  const num = (k: 'longitude' | 'latitude' | 'elevation', check: (t: string) => number) => {
    const x = input[k];
    if (x !== undefined) out[k] = x.trim() === '' ? null : check(x);
  };
  if (input.site !== undefined) out.site = v.nonEmpty('site', input.site);
  for (const k of ['place', 'province', 'country', 'zipcode', 'contact_person', 'organization'] as const) text(k);
  if (input.contact_email !== undefined) out.contact_email = v.email(input.contact_email) || null;
  if (input.timezone !== undefined) out.timezone = v.timezone(input.timezone);
  num('longitude', v.longitude);
  num('latitude', v.latitude);
  num('elevation', v.elevation);
  return out;
}

export interface LocationRow {
  location_id: number;
  site: string;
  place: string | null;
  province: string | null;
  country: string | null;
  zipcode: string | null;
  timezone: string;
  longitude: number | null;
  latitude: number | null;
  elevation: number | null;
  contact_person: string | null;
  contact_email: string | null;
  organization: string | null;
  created_at: Date;
}

async function checkTimezoneInDatabase(db: Queryable, tz: Value | undefined): Promise<void> {
  if (typeof tz !== 'string') return;
  const { rowCount } = await db.query('SELECT 1 FROM pg_timezone_names WHERE name = $1', [tz]);
  if (!rowCount) throw new UserError(`time zone "${tz}" is not known to this PostgreSQL server: use another IANA name`);
}

function uniqueViolation(err: unknown, what: string): never {
  if ((err as { code?: string }).code === '23505') throw new UserError(`${what} already exists`);
  throw err;
}

export async function createLocation(pool: pg.Pool, input: LocationInput): Promise<LocationRow> {
  if (input.site === undefined) throw new UserError('a location needs a site name');
  const cols = locationColumns(input);
  await checkTimezoneInDatabase(pool, cols.timezone);
  const names = Object.keys(cols);
  return inTransaction(pool, async (c) => {
    try {
      const { rows } = await c.query<LocationRow>(
        `INSERT INTO locations (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        names.map((k) => cols[k]),
      );
      return rows[0];
    } catch (err) {
      uniqueViolation(err, `location "${cols.site}"`);
    }
  });
}

export interface UpdateResult<T> {
  before: T;
  after: T;
  changed: string[];
}

export async function updateLocation(pool: pg.Pool, key: string, input: LocationInput): Promise<UpdateResult<LocationRow>> {
  const cols = locationColumns(input);
  const names = Object.keys(cols);
  if (names.length === 0) throw new UserError('nothing to update: give at least one field (see --help)');
  await checkTimezoneInDatabase(pool, cols.timezone);
  const { location_id } = await findLocation(pool, key);
  if (location_id === -1) throw new UserError('the "Unknown" location (-1) cannot be changed');
  return inTransaction(pool, async (c) => {
    const before = (await c.query<LocationRow>('SELECT * FROM locations WHERE location_id = $1 FOR UPDATE', [location_id])).rows[0];
    try {
      const { rows } = await c.query<LocationRow>(
        `UPDATE locations SET ${names.map((k, i) => `${k} = $${i + 2}`).join(', ')} WHERE location_id = $1 RETURNING *`,
        [location_id, ...names.map((k) => cols[k])],
      );
      return { before, after: rows[0], changed: changedKeys(before, rows[0]) };
    } catch (err) {
      uniqueViolation(err, `location "${cols.site}"`);
    }
  });
}

function changedKeys(a: object, b: object): string[] {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  return Object.keys(y).filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]));
}

export interface LocationListRow extends LocationRow {
  photometers: number;
  names: string | null;
}

/** All locations with their current photometers; `unused`: only those no current photometer is at (never "Unknown"). */
export async function listLocations(db: Queryable, opts: { unused?: boolean } = {}): Promise<LocationListRow[]> {
  const { rows } = await db.query<LocationListRow & { photometers: string }>(
    `SELECT l.*, count(p.tess_id) AS photometers,
            string_agg((SELECT m.name FROM name_to_mac m WHERE m.mac_address = p.mac_address ORDER BY m.valid_since DESC LIMIT 1), ', ' ORDER BY p.mac_address) AS names
       FROM locations l LEFT JOIN photometers p ON p.location_id = l.location_id AND p.valid_state = 'Current'
      ${opts.unused ? 'WHERE l.location_id <> -1' : ''}
      GROUP BY l.location_id
      ${opts.unused ? 'HAVING count(p.tess_id) = 0' : ''}
      ORDER BY l.site`,
  );
  return rows.map((r) => ({ ...r, photometers: Number(r.photometers) }));
}

export interface LocationDetails {
  location: LocationRow;
  photometers: Array<{ name: string; mac: string; since: Date }>;
  versions: Array<{ valid_since: Date; valid_until: Date; valid_state: string; changed_by: string; data: Record<string, unknown> }>;
}

export async function showLocation(db: Queryable, key: string): Promise<LocationDetails> {
  const { location_id } = await findLocation(db, key);
  const location = (await db.query<LocationRow>('SELECT * FROM locations WHERE location_id = $1', [location_id])).rows[0];
  const photometers = (
    await db.query<{ name: string; mac: string; since: Date }>(
      `SELECT coalesce((SELECT m.name FROM name_to_mac m WHERE m.mac_address = p.mac_address ORDER BY m.valid_since DESC LIMIT 1), '') AS name,
              p.mac_address AS mac,
              (SELECT min(q.valid_since) FROM photometers q WHERE q.mac_address = p.mac_address AND q.location_id = p.location_id
                  AND NOT EXISTS (SELECT 1 FROM photometers z WHERE z.mac_address = p.mac_address AND z.location_id <> p.location_id
                                   AND z.valid_since > q.valid_since)) AS since
         FROM photometers p WHERE p.location_id = $1 AND p.valid_state = 'Current' ORDER BY 1`,
      [location_id],
    )
  ).rows;
  const versions = (
    await db.query('SELECT valid_since, valid_until, valid_state, changed_by, data FROM location_versions WHERE location_id = $1 ORDER BY valid_since', [
      location_id,
    ])
  ).rows;
  return { location, photometers, versions };
}

// ---------------------------------------------------------------------------------------------------
// Observers
// ---------------------------------------------------------------------------------------------------

export interface ObserverInput {
  name?: string;
  type?: string;
  affiliation?: string;
  acronym?: string;
  email?: string;
  website_url?: string;
}

export interface ObserverRow {
  observer_id: number;
  name: string;
  type: 'person' | 'organization';
  affiliation: string | null;
  acronym: string | null;
  email: string | null;
  website_url: string | null;
  created_at: Date;
}

function observerColumns(input: ObserverInput): Record<string, Value> {
  const out: Record<string, Value> = {};
  if (input.name !== undefined) out.name = v.nonEmpty('observer name', input.name);
  if (input.type !== undefined) {
    const t = input.type.trim().toLowerCase();
    if (t !== 'person' && t !== 'organization') throw new UserError(`observer type "${input.type}" must be person or organization`);
    out.type = t;
  }
  for (const k of ['affiliation', 'acronym', 'website_url'] as const) {
    const x = input[k];
    if (x !== undefined) out[k] = x.trim() === '' ? null : x.trim();
  }
  if (input.email !== undefined) out.email = v.email(input.email) || null;
  return out;
}

export async function createObserver(pool: pg.Pool, input: ObserverInput): Promise<ObserverRow> {
  if (input.name === undefined) throw new UserError('an observer needs a name');
  const cols = observerColumns(input);
  const names = Object.keys(cols);
  return inTransaction(pool, async (c) => {
    try {
      const { rows } = await c.query<ObserverRow>(
        `INSERT INTO observers (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        names.map((k) => cols[k]),
      );
      return rows[0];
    } catch (err) {
      uniqueViolation(err, `observer "${cols.name}"`);
    }
  });
}

export async function updateObserver(pool: pg.Pool, key: string, input: ObserverInput): Promise<UpdateResult<ObserverRow>> {
  const cols = observerColumns(input);
  const names = Object.keys(cols);
  if (names.length === 0) throw new UserError('nothing to update: give at least one field (see --help)');
  const { observer_id } = await findObserver(pool, key);
  if (observer_id === -1) throw new UserError('the "Unknown" observer (-1) cannot be changed');
  return inTransaction(pool, async (c) => {
    const before = (await c.query<ObserverRow>('SELECT * FROM observers WHERE observer_id = $1 FOR UPDATE', [observer_id])).rows[0];
    try {
      const { rows } = await c.query<ObserverRow>(
        `UPDATE observers SET ${names.map((k, i) => `${k} = $${i + 2}`).join(', ')} WHERE observer_id = $1 RETURNING *`,
        [observer_id, ...names.map((k) => cols[k])],
      );
      return { before, after: rows[0], changed: changedKeys(before, rows[0]) };
    } catch (err) {
      uniqueViolation(err, `observer "${cols.name}"`);
    }
  });
}

export interface ObserverListRow extends ObserverRow {
  photometers: number;
}

export async function listObservers(db: Queryable, opts: { unused?: boolean } = {}): Promise<ObserverListRow[]> {
  const { rows } = await db.query<ObserverListRow & { photometers: string }>(
    `SELECT o.*, count(p.tess_id) AS photometers
       FROM observers o LEFT JOIN photometers p ON p.observer_id = o.observer_id AND p.valid_state = 'Current'
      ${opts.unused ? 'WHERE o.observer_id <> -1' : ''}
      GROUP BY o.observer_id ${opts.unused ? 'HAVING count(p.tess_id) = 0' : ''}
      ORDER BY o.name`,
  );
  return rows.map((r) => ({ ...r, photometers: Number(r.photometers) }));
}

export interface ObserverDetails {
  observer: ObserverRow;
  photometers: Array<{ name: string; mac: string }>;
  versions: Array<{ valid_since: Date; valid_until: Date; valid_state: string; changed_by: string; data: Record<string, unknown> }>;
}

export async function showObserver(db: Queryable, key: string): Promise<ObserverDetails> {
  const { observer_id } = await findObserver(db, key);
  const observer = (await db.query<ObserverRow>('SELECT * FROM observers WHERE observer_id = $1', [observer_id])).rows[0];
  const photometers = (
    await db.query<{ name: string; mac: string }>(
      `SELECT coalesce((SELECT m.name FROM name_to_mac m WHERE m.mac_address = p.mac_address ORDER BY m.valid_since DESC LIMIT 1), '') AS name,
              p.mac_address AS mac
         FROM photometers p WHERE p.observer_id = $1 AND p.valid_state = 'Current' ORDER BY 1`,
      [observer_id],
    )
  ).rows;
  const versions = (
    await db.query('SELECT valid_since, valid_until, valid_state, changed_by, data FROM observer_versions WHERE observer_id = $1 ORDER BY valid_since', [
      observer_id,
    ])
  ).rows;
  return { observer, photometers, versions };
}
