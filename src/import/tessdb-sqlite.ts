/**
 * Reading a tessdb-server SQLite database (better-sqlite3, read-only): which schema it has, and its
 * dimensions and readings in tessdb's terms. Both schemas of tessdb-server are understood:
 *
 * - legacy 2.x: `tess_t` with one `zero_point`/`filter`, `location_t` with `site`/`location`/`province`,
 *   `tess_readings_t` with `ambient_temperature`/`height`, no observers;
 * - version "03"/"04" (`config_t` database.version): `tess_t` with `nchannels`, `zp1..4`, `filter1..4`
 *   (and `offset1..4` in 04), `observer_t`, `location_t` with `place`/`town`/`sub_region`/`region`,
 *   `tess_readings_t` with `box_temperature`/`elevation`/`observer_id`, and `tess_readings4c_t`.
 *
 * Columns are looked up by name (PRAGMA table_info), so intermediate variants read too.
 */
import Database from 'better-sqlite3';
import { normaliseMac } from '../model/mac.js';
import { parseTstampMs } from '../model/timestamp.js';
import type { TimestampSource } from '../model/types.js';

export type SqliteDb = Database.Database;

export interface TessdbSchema {
  /** `config_t` database.version ("03", "04"), or null (legacy 2.x has none). */
  version: string | null;
  /** A 2.x `tess_t` (one `zero_point` column). */
  legacy: boolean;
  tables: Set<string>;
  columns: Map<string, Set<string>>;
  /** Readings tables present, in import order. */
  readingTables: ('tess_readings_t' | 'tess_readings4c_t')[];
}

export interface SourceLocation {
  id: number;
  site: string;
  place: string | null;
  province: string | null;
  country: string | null;
  longitude: number | null;
  latitude: number | null;
  elevation: number | null;
  zipcode: string | null;
  timezone: string | null;
  contactPerson: string | null;
  contactEmail: string | null;
  organization: string | null;
}

export interface SourceObserver {
  id: number;
  name: string;
  type: 'person' | 'organization';
  affiliation: string | null;
  acronym: string | null;
  email: string | null;
  websiteUrl: string | null;
}

/** One `tess_t` row: a version of a device. */
export interface SourceVersion {
  tessId: number;
  mac: string;
  since: number;
  until: number;
  model: 'TESS-W' | 'TESS4C';
  firmware: string | null;
  nchannels: number;
  zp: (number | null)[];
  filter: (string | null)[];
  offset: (number | null)[];
  fov: number | null;
  azimuth: number | null;
  altitude: number | null;
  coverOffset: number | null;
  locationId: number;
  observerId: number;
  authorised: boolean;
  registered: string | null;
  /** 2.x `tess_t.name`, when the column exists. */
  name: string | null;
}

export interface SourceMapping {
  name: string;
  mac: string;
  since: number;
  until: number;
}

/** Rows of `tess_t` or `name_to_mac_t` that could not be used, with why. */
export interface Skipped {
  table: string;
  detail: string;
}

export function openTessdbSqlite(file: string): SqliteDb {
  return new Database(file, { readonly: true, fileMustExist: true });
}

function columnsOf(db: SqliteDb, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${JSON.stringify(table)})`).all() as { name: string }[]).map((r) => r.name.toLowerCase()));
}

export function detectSchema(db: SqliteDb): TessdbSchema {
  const tables = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name));
  const columns = new Map<string, Set<string>>();
  for (const t of tables) columns.set(t, columnsOf(db, t));
  if (!tables.has('tess_t') || !(tables.has('tess_readings_t') || tables.has('tess_readings4c_t'))) {
    throw new Error(`not a tessdb-server database: no tess_t and tess_readings_t tables (has ${[...tables].slice(0, 8).join(', ') || 'no tables'})`);
  }
  let version: string | null = null;
  if (tables.has('config_t')) {
    const row = db.prepare(`SELECT value FROM config_t WHERE section = 'database' AND property = 'version'`).get() as { value: string } | undefined;
    version = row?.value ?? null;
  }
  const readingTables = (['tess_readings_t', 'tess_readings4c_t'] as const).filter((t) => tables.has(t));
  return { version, legacy: columns.get('tess_t')!.has('zero_point'), tables, columns, readingTables };
}

export function describeSchema(s: TessdbSchema): string {
  return s.legacy ? 'tessdb-server 2.x schema' : `tessdb-server schema ${s.version ?? '(no version)'}`;
}

/** A tessdb-server timestamp text ('2019-05-21T10:05:33', '2019-05-21 10:05:33.000', …) → ms; far-future text → +∞. */
export function sqliteTime(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (s.startsWith('2999') || s.startsWith('9999')) return Number.POSITIVE_INFINITY;
  return parseTstampMs(s.length === 10 ? `${s}T00:00:00` : s);
}

const text = (v: unknown): string | null => (v === null || v === undefined || String(v).trim() === '' ? null : String(v).trim());
const real = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

export function readLocations(db: SqliteDb, s: TessdbSchema): SourceLocation[] {
  if (!s.tables.has('location_t')) return [];
  const c = s.columns.get('location_t')!;
  const rows = db.prepare('SELECT * FROM location_t WHERE location_id <> -1 ORDER BY location_id').all() as Record<string, unknown>[];
  const out: SourceLocation[] = rows.map((r) => {
    // 2.x: site, location (town), province, state; 03/04: place, town, sub_region, region
    const site = text(c.has('site') ? r.site : r.place) ?? `location ${r.location_id}`;
    return {
      id: Number(r.location_id),
      site,
      place: text(c.has('site') ? r.location : r.town),
      province: text(c.has('province') ? r.province : r.sub_region),
      country: text(r.country),
      longitude: real(r.longitude),
      latitude: real(r.latitude),
      elevation: real(r.elevation),
      zipcode: text(r.zipcode),
      timezone: text(r.timezone),
      contactPerson: text(r.contact_name),
      contactEmail: text(r.contact_email),
      organization: text(r.organization),
    };
  });
  // tessdb's locations.site is unique; tessdb-server's place is not: the same name at two places gets the id appended.
  const count = new Map<string, number>();
  for (const l of out) count.set(l.site, (count.get(l.site) ?? 0) + 1);
  for (const l of out) if (count.get(l.site)! > 1) l.site = `${l.site} [${l.id}]`;
  return out;
}

export function readObservers(db: SqliteDb, s: TessdbSchema): SourceObserver[] {
  if (!s.tables.has('observer_t')) return [];
  const c = s.columns.get('observer_t')!;
  const order = c.has('valid_since') ? 'ORDER BY observer_id' : 'ORDER BY observer_id';
  const rows = db.prepare(`SELECT * FROM observer_t WHERE observer_id <> -1 ${order}`).all() as Record<string, unknown>[];
  return rows.map((r) => ({
    id: Number(r.observer_id),
    name: text(r.name) ?? `observer ${r.observer_id}`,
    type: /^org/i.test(String(r.type ?? '')) ? 'organization' : 'person',
    affiliation: text(r.affiliation),
    acronym: text(r.acronym),
    email: text(r.email),
    websiteUrl: text(r.website_url),
  }));
}

export function readVersions(db: SqliteDb, s: TessdbSchema, skipped: Skipped[]): SourceVersion[] {
  const c = s.columns.get('tess_t')!;
  const rows = db.prepare('SELECT * FROM tess_t ORDER BY tess_id').all() as Record<string, unknown>[];
  const out: SourceVersion[] = [];
  for (const r of rows) {
    const mac = typeof r.mac_address === 'string' ? normaliseMac(r.mac_address) : null;
    const since = sqliteTime(r.valid_since);
    const until = sqliteTime(r.valid_until) ?? Number.POSITIVE_INFINITY;
    if (mac === null || since === null) {
      skipped.push({ table: 'tess_t', detail: `tess_id ${r.tess_id}: ${mac === null ? `MAC ${JSON.stringify(r.mac_address)} is not a MAC address` : `valid_since ${JSON.stringify(r.valid_since)} is not a time`}` });
      continue;
    }
    const model = /4c/i.test(String(r.model ?? '')) || Number(r.nchannels) === 4 ? 'TESS4C' : 'TESS-W';
    const nchannels = model === 'TESS4C' ? 4 : 1;
    const zp = s.legacy ? [real(r.zero_point)] : [1, 2, 3, 4].slice(0, nchannels).map((i) => real(r[`zp${i}`]));
    const filter = s.legacy ? [text(r.filter)] : [1, 2, 3, 4].slice(0, nchannels).map((i) => text(r[`filter${i}`]));
    const offset = [1, 2, 3, 4].slice(0, nchannels).map((i) => (c.has(`offset${i}`) ? real(r[`offset${i}`]) : null));
    out.push({
      tessId: Number(r.tess_id),
      mac,
      since,
      until,
      model,
      firmware: text(r.firmware),
      nchannels,
      zp,
      filter,
      offset,
      fov: real(r.fov),
      azimuth: real(r.azimuth),
      altitude: real(r.altitude),
      coverOffset: real(r.cover_offset),
      locationId: r.location_id === null || r.location_id === undefined ? -1 : Number(r.location_id),
      observerId: c.has('observer_id') && r.observer_id !== null ? Number(r.observer_id) : -1,
      authorised: Number(r.authorised ?? 0) === 1,
      registered: text(r.registered),
      name: c.has('name') ? text(r.name)?.toLowerCase() ?? null : null,
    });
  }
  return out;
}

export function readMappings(db: SqliteDb, s: TessdbSchema, skipped: Skipped[]): SourceMapping[] {
  if (!s.tables.has('name_to_mac_t')) return [];
  const rows = db.prepare('SELECT rowid, * FROM name_to_mac_t ORDER BY valid_since, rowid').all() as Record<string, unknown>[];
  const out: SourceMapping[] = [];
  for (const r of rows) {
    const mac = typeof r.mac_address === 'string' ? normaliseMac(r.mac_address) : null;
    const name = text(r.name)?.toLowerCase() ?? null;
    const since = sqliteTime(r.valid_since);
    const until = sqliteTime(r.valid_until) ?? Number.POSITIVE_INFINITY;
    if (mac === null || name === null || since === null) {
      skipped.push({ table: 'name_to_mac_t', detail: `${JSON.stringify(r.name)} → ${JSON.stringify(r.mac_address)} since ${JSON.stringify(r.valid_since)}: unusable` });
      continue;
    }
    out.push({ name, mac, since, until });
  }
  return out;
}

/** `tess_units_t.units_id` → timestamp source ('Publisher' → publisher; anything else → subscriber). */
export function readUnits(db: SqliteDb, s: TessdbSchema): Map<number, TimestampSource> {
  const out = new Map<number, TimestampSource>();
  if (!s.tables.has('tess_units_t')) return out;
  for (const r of db.prepare('SELECT units_id, timestamp_source FROM tess_units_t').all() as { units_id: number; timestamp_source: string | null }[]) {
    out.set(Number(r.units_id), /^pub/i.test(r.timestamp_source ?? '') ? 'publisher' : 'subscriber');
  }
  return out;
}

/** A reading row, positional: see {@link readingColumns}. */
export type ReadingRow = (number | string | null)[];

/** Column positions of {@link readingQuery} rows. */
export const R = {
  date: 0, time: 1, tess: 2, units: 3, seq: 4, f1: 5, m1: 6, tamb: 7, tsky: 8, az: 9, alt: 10, lon: 11, lat: 12, height: 13, wdbm: 14,
  f2: 15, m2: 16, f3: 17, m3: 18, f4: 19, m4: 20,
} as const;

/** SELECT list of a readings table in the positions of {@link R} (missing columns read as NULL). */
export function readingColumns(s: TessdbSchema, table: 'tess_readings_t' | 'tess_readings4c_t'): string {
  const c = s.columns.get(table)!;
  const col = (...names: string[]) => names.find((n) => c.has(n)) ?? 'NULL';
  const list = [
    'date_id', 'time_id', 'tess_id', col('units_id'), col('sequence_number'),
    table === 'tess_readings4c_t' ? col('freq1') : col('frequency'),
    table === 'tess_readings4c_t' ? col('mag1') : col('magnitude'),
    col('box_temperature', 'ambient_temperature'), col('sky_temperature'), col('azimuth'), col('altitude'),
    col('longitude'), col('latitude'), col('elevation', 'height'), col('signal_strength'),
  ];
  if (table === 'tess_readings4c_t') list.push(col('freq2'), col('mag2'), col('freq3'), col('mag3'), col('freq4'), col('mag4'));
  return list.join(', ');
}

/**
 * Rows of `table` after key `after` (date_id, time_id, tess_id), in key order (the primary key's index):
 * stable across VACUUM, unlike rowids. `limit` rows at most.
 */
export function readingChunk(db: SqliteDb, s: TessdbSchema, table: 'tess_readings_t' | 'tess_readings4c_t', after: [number, number, number] | null, limit: number): ReadingRow[] {
  const cols = readingColumns(s, table);
  const sql = after
    ? `SELECT ${cols} FROM ${table} WHERE (date_id, time_id, tess_id) > (?, ?, ?) ORDER BY date_id, time_id, tess_id LIMIT ?`
    : `SELECT ${cols} FROM ${table} ORDER BY date_id, time_id, tess_id LIMIT ?`;
  const stmt = db.prepare(sql).raw(true);
  return (after ? stmt.all(after[0], after[1], after[2], limit) : stmt.all(limit)) as ReadingRow[];
}

/** A quick estimate of a table's rows (largest rowid), for the progress bar. */
export function estimateRows(db: SqliteDb, table: string): number {
  const r = db.prepare(`SELECT max(rowid) AS n FROM ${table}`).get() as { n: number | null };
  return Number(r.n ?? 0);
}
