/**
 * `tessdb import-sqlite PATH`: a tessdb-server SQLite database → tessdb, idempotently and resumably.
 *
 * 1. The file is recorded as an inventory origin (kind 'sqlite').
 * 2. One transaction: locations and observers (upserted by name, never overwritten), then register events
 *    built from tess_t / name_to_mac_t (events.ts) recorded in the event log and folded: photometer
 *    versions and name mappings. Re-running records nothing new (event hashes).
 * 3. Readings of tess_readings_t and tess_readings4c_t, in primary-key order (date_id, time_id, tess_id),
 *    in chunks: each chunk is loaded through the shared ReadingLoader (load source "sqlite") and committed
 *    together with its progress row (import_progress) and its reject counts. A killed import resumes
 *    after the last committed key; a finished one reads only rows added since (`restart` reads all again;
 *    loading stays idempotent, so that inserts nothing twice).
 * 4. The file's ingest record (file_ingests) with the totals.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { DaylightRanges, refreshDaylight } from '../filter/daylight.js';
import { flushReadings, type BatchState } from '../ingest/apply-batch.js';
import { hashFile } from '../inventory/hash.js';
import { ReadingLoader } from '../load/loader.js';
import { NameIds } from '../load/names.js';
import { PartitionManager } from '../load/partitions.js';
import { addRejects, RejectCounter } from '../load/rejects.js';
import type { Reading, Reject } from '../model/types.js';
import { loadRegistrySnapshot, rebuildRegistry, recordRegisterEvents, type RegistrySnapshot } from '../registry/index.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { importEvents, NameTimeline } from './events.js';
import { rowProgress } from './progress.js';
import {
  describeSchema,
  detectSchema,
  estimateRows,
  openTessdbSqlite,
  R,
  readingChunk,
  readLocations,
  readMappings,
  readObservers,
  readUnits,
  readVersions,
  type ReadingRow,
  type Skipped,
  type SourceLocation,
  type SourceObserver,
  type SourceVersion,
  type SqliteDb,
  type TessdbSchema,
} from './tessdb-sqlite.js';

export interface ImportOptions {
  /** Rows per committed chunk (default 50,000). */
  chunkRows?: number;
  /** Forget recorded progress and read every row again (idempotent: duplicates are not inserted). */
  restart?: boolean;
  quiet?: boolean;
}

export interface TableSummary {
  table: string;
  resumedAfter: string | null;
  read: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  /** Totals over every run of this import (import_progress). */
  total: { read: number; inserted: number; duplicates: number; rejected: number };
}

export interface ImportSummary {
  path: string;
  originId: number;
  schema: string;
  locations: { total: number; created: number };
  observers: { total: number; created: number };
  photometers: { versions: number; devices: number; mappings: number; events: number; eventsRecorded: number; unnamed: number; skipped: Skipped[] };
  readings: { read: number; inserted: number; duplicates: number; rejected: number; rejectsByReason: Record<string, number> };
  tables: TableSummary[];
  status: 'loaded' | 'loaded_with_errors';
  seconds: number;
  rowsPerSecond: number;
}

const DEFAULT_CHUNK_ROWS = 50_000;
const INPUT_ERRORS = new Set(['bad_line', 'invalid_json', 'invalid_payload', 'invalid_timestamp', 'payload_too_large']);

type Table = TessdbSchema['readingTables'][number];

export async function importSqlite(pool: pg.Pool, config: Config, file: string, opts: ImportOptions = {}): Promise<ImportSummary> {
  const started = Date.now();
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new UserError(`${file}: no such file`);
  let db: SqliteDb;
  let schema: TessdbSchema;
  try {
    db = openTessdbSqlite(abs);
    schema = detectSchema(db);
  } catch (err) {
    throw new UserError(`${file}: cannot import: ${(err as Error).message}`);
  }
  try {
    const origin = await recordOrigin(pool, config.host, abs);
    log.info(`${abs}: ${describeSchema(schema)}`);
    const dims = await importDimensions(pool, db, schema);
    const summary: ImportSummary = {
      path: abs,
      originId: origin.originId,
      schema: describeSchema(schema),
      locations: dims.locations,
      observers: dims.observers,
      photometers: dims.photometers,
      readings: { read: 0, inserted: 0, duplicates: 0, rejected: 0, rejectsByReason: {} },
      tables: [],
      status: 'loaded',
      seconds: 0,
      rowsPerSecond: 0,
    };
    if (opts.restart) {
      await pool.query('DELETE FROM import_progress WHERE origin_id = $1', [origin.originId]);
      await pool.query('DELETE FROM reject_counts WHERE origin_id = $1', [origin.originId]);
    }
    const client = await pool.connect();
    try {
      const snapshot = await loadRegistrySnapshot(client);
      const reader = new ChunkImporter(client, pool, db, schema, config, origin, snapshot, dims, opts.chunkRows ?? DEFAULT_CHUNK_ROWS);
      const estimate = schema.readingTables.reduce((n, t) => n + estimateRows(db, t), 0);
      const progress = rowProgress('import-sqlite', estimate, { quiet: opts.quiet });
      try {
        for (const table of schema.readingTables) summary.tables.push(await reader.table(table, (n) => progress.tick(n)));
      } finally {
        progress.stop();
      }
      for (const t of summary.tables) {
        summary.readings.read += t.read;
        summary.readings.inserted += t.inserted;
        summary.readings.duplicates += t.duplicates;
        summary.readings.rejected += t.rejected;
      }
      summary.readings.rejectsByReason = reader.rejectsByReason;
      summary.status = await recordIngest(client, origin, started);
    } finally {
      client.release();
    }
    summary.seconds = (Date.now() - started) / 1000;
    summary.rowsPerSecond = Math.round(summary.readings.read / Math.max(summary.seconds, 0.001));
    return summary;
  } finally {
    db.close();
  }
}

interface Origin {
  originId: number;
  contentHash: string;
}

/** The database file as an inventory origin of kind 'sqlite' (as `ingest --file` records files). */
async function recordOrigin(pool: pg.Pool, host: string, abs: string): Promise<Origin> {
  const st = fs.statSync(abs);
  const hash = await hashFile(abs);
  const { rows } = await pool.query<{ origin_id: string }>(
    `INSERT INTO file_origins (host, path, size_bytes, mtime, content_hash, kind)
     VALUES ($1, $2, $3, $4, $5, 'sqlite')
     ON CONFLICT (host, path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes, mtime = EXCLUDED.mtime,
       content_hash = EXCLUDED.content_hash, kind = EXCLUDED.kind, kind_reason = NULL, last_seen = now(), missing_since = NULL
     RETURNING origin_id`,
    [host, abs, st.size, new Date(Math.trunc(st.mtimeMs)), hash],
  );
  return { originId: Number(rows[0].origin_id), contentHash: hash };
}

interface Dimensions {
  locations: ImportSummary['locations'];
  observers: ImportSummary['observers'];
  photometers: ImportSummary['photometers'];
  names: NameTimeline;
  versions: Map<number, SourceVersion>;
}

async function importDimensions(pool: pg.Pool, db: SqliteDb, schema: TessdbSchema): Promise<Dimensions> {
  const skipped: Skipped[] = [];
  const locations = readLocations(db, schema);
  const observers = readObservers(db, schema);
  const versions = readVersions(db, schema, skipped);
  const mappings = readMappings(db, schema, skipped);
  for (const s of skipped) log.warn(`${s.table}: ${s.detail}`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const loc = await upsertLocations(client, locations);
    const obs = await upsertObservers(client, observers);
    const { events, unnamed } = importEvents(versions, mappings, loc.ids, obs.ids);
    for (const u of unnamed) log.debug(`tess_t: the version of ${u.mac} starting ${new Date(u.at).toISOString()} has no name then: not registered`);
    const recorded = await recordRegisterEvents(client, events);
    if (recorded.inserted > 0) await rebuildRegistry(client, { macs: recorded.affectedMacs, names: recorded.affectedNames });
    await client.query('COMMIT');
    return {
      locations: { total: locations.length, created: loc.created },
      observers: { total: observers.length, created: obs.created },
      photometers: {
        versions: versions.length,
        devices: new Set(versions.map((v) => v.mac)).size,
        mappings: mappings.length,
        events: events.length,
        eventsRecorded: recorded.inserted,
        unnamed: unnamed.length,
        skipped,
      },
      names: new NameTimeline(mappings, versions),
      versions: new Map(versions.map((v) => [v.tessId, v])),
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const inRange = (v: number | null, lim: number) => (v !== null && Math.abs(v) <= lim ? v : null);

/** Locations by site name: existing ones are kept as they are (never overwritten). → tessdb-server id → tessdb id. */
async function upsertLocations(client: pg.ClientBase, locations: SourceLocation[]): Promise<{ ids: Map<number, number>; created: number }> {
  const ids = new Map<number, number>([[-1, -1]]);
  if (locations.length === 0) return { ids, created: 0 };
  const { rows: inserted } = await client.query<{ site: string }>(
    `INSERT INTO locations (site, place, province, country, longitude, latitude, elevation, zipcode, timezone,
                            contact_person, contact_email, organization)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::real[],
                          $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
     ON CONFLICT (site) DO NOTHING RETURNING site`,
    [
      locations.map((l) => l.site),
      locations.map((l) => l.place),
      locations.map((l) => l.province),
      locations.map((l) => l.country),
      locations.map((l) => inRange(l.longitude, 180)),
      locations.map((l) => inRange(l.latitude, 90)),
      locations.map((l) => l.elevation),
      locations.map((l) => l.zipcode),
      locations.map((l) => l.timezone ?? 'Etc/UTC'),
      locations.map((l) => l.contactPerson),
      locations.map((l) => l.contactEmail),
      locations.map((l) => l.organization),
    ],
  );
  const { rows } = await client.query<{ location_id: number; site: string }>('SELECT location_id, site FROM locations WHERE site = ANY($1::text[])', [
    locations.map((l) => l.site),
  ]);
  const bySite = new Map(rows.map((r) => [r.site, r.location_id]));
  for (const l of locations) ids.set(l.id, bySite.get(l.site)!);
  return { ids, created: inserted.length };
}

/** Observers by name (tessdb-server keeps versions of an observer; tessdb one row per name). */
async function upsertObservers(client: pg.ClientBase, observers: SourceObserver[]): Promise<{ ids: Map<number, number>; created: number }> {
  const ids = new Map<number, number>([[-1, -1]]);
  if (observers.length === 0) return { ids, created: 0 };
  // The latest version of each name (highest observer_id) provides the attributes.
  const latest = new Map<string, SourceObserver>();
  for (const o of observers) latest.set(o.name, o);
  const list = [...latest.values()];
  const { rows: inserted } = await client.query<{ name: string }>(
    `INSERT INTO observers (name, type, affiliation, acronym, email, website_url)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
     ON CONFLICT (name) DO NOTHING RETURNING name`,
    [list.map((o) => o.name), list.map((o) => o.type), list.map((o) => o.affiliation), list.map((o) => o.acronym), list.map((o) => o.email), list.map((o) => o.websiteUrl)],
  );
  const { rows } = await client.query<{ observer_id: number; name: string }>('SELECT observer_id, name FROM observers WHERE name = ANY($1::text[])', [list.map((o) => o.name)]);
  const byName = new Map(rows.map((r) => [r.name, r.observer_id]));
  for (const o of observers) ids.set(o.id, byName.get(o.name)!);
  return { ids, created: inserted.length };
}

interface ProgressRow {
  last_date_id: number | null;
  last_time_id: number | null;
  last_tess_id: number | null;
  rows_read: string;
  rows_inserted: string;
  rows_duplicate: string;
  rows_rejected: string;
}

/** Reads one readings table chunk by chunk; each chunk is one transaction with its progress row. */
class ChunkImporter {
  private readonly loader: ReadingLoader;
  private readonly units: Map<number, Reading['tstampSource']>;
  private readonly byReason = new Map<string, number>();

  constructor(
    private readonly client: pg.PoolClient,
    pool: pg.Pool,
    private readonly db: SqliteDb,
    private readonly schema: TessdbSchema,
    config: Config,
    private readonly origin: Origin,
    private readonly snapshot: RegistrySnapshot,
    private readonly dims: Dimensions,
    private readonly chunkRows: number,
  ) {
    this.loader = new ReadingLoader(new NameIds(pool), new PartitionManager(), { requireAuthorisation: config.registry.require_authorisation });
    this.units = readUnits(db, schema);
  }

  get rejectsByReason(): Record<string, number> {
    return Object.fromEntries(this.byReason);
  }

  async table(table: Table, onRows: (n: number) => void): Promise<TableSummary> {
    const c = this.client;
    await c.query(
      `INSERT INTO import_progress (origin_id, source_table, content_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [this.origin.originId, table, this.origin.contentHash],
    );
    const { rows } = await c.query<ProgressRow>('SELECT * FROM import_progress WHERE origin_id = $1 AND source_table = $2', [this.origin.originId, table]);
    const p = rows[0];
    let after: [number, number, number] | null = p.last_date_id === null ? null : [p.last_date_id, p.last_time_id!, p.last_tess_id!];
    const summary: TableSummary = {
      table,
      resumedAfter: after ? after.join('/') : null,
      read: 0,
      inserted: 0,
      duplicates: 0,
      rejected: 0,
      total: { read: Number(p.rows_read), inserted: Number(p.rows_inserted), duplicates: Number(p.rows_duplicate), rejected: Number(p.rows_rejected) },
    };
    if (after) log.info(`${table}: continuing after key ${after.join('/')} (date_id/time_id/tess_id); ${p.rows_read} rows were imported before`);
    const four = table === 'tess_readings4c_t';
    let chunks = 0;
    for (;;) {
      const chunk = readingChunk(this.db, this.schema, table, after, this.chunkRows);
      if (chunk.length === 0) break;
      const last = chunk[chunk.length - 1];
      const key: [number, number, number] = [Number(last[R.date]), Number(last[R.time]), Number(last[R.tess])];
      const rejects = new RejectCounter();
      const readings = this.readings(chunk, four, rejects);
      await c.query('BEGIN');
      try {
        const state: BatchState = { attribution: this.snapshot, registryChanged: false, pending: readings, daylight: new DaylightRanges() };
        const counts = await flushReadings(c, this.loader, state, rejects);
        await refreshDaylight(c, state.daylight!);
        await addRejects(c, this.origin.originId, rejects.list());
        const inputErrors = rejects.list().filter((t) => INPUT_ERRORS.has(t.reason)).reduce((n, t) => n + t.count, 0);
        await c.query(
          `UPDATE import_progress SET last_date_id = $3, last_time_id = $4, last_tess_id = $5,
             rows_read = rows_read + $6, rows_inserted = rows_inserted + $7, rows_duplicate = rows_duplicate + $8,
             rows_rejected = rows_rejected + $9, input_errors = input_errors + $10, done = false, content_hash = $11, updated_at = now()
           WHERE origin_id = $1 AND source_table = $2`,
          [this.origin.originId, table, key[0], key[1], key[2], chunk.length, counts.inserted, counts.duplicates, rejects.total, inputErrors, this.origin.contentHash],
        );
        await c.query('COMMIT');
        summary.read += chunk.length;
        summary.inserted += counts.inserted;
        summary.duplicates += counts.duplicates;
        summary.rejected += rejects.total;
        for (const [reason, n] of Object.entries(rejects.byReason())) this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + n);
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        this.loader.afterRollback();
        throw err;
      }
      after = key;
      chunks++;
      onRows(chunk.length);
      log.debug(`${table}: chunk ${chunks} committed, ${chunk.length} rows, up to key ${key.join('/')}`);
      if (chunk.length < this.chunkRows) break;
    }
    await c.query(`UPDATE import_progress SET done = true, updated_at = now() WHERE origin_id = $1 AND source_table = $2`, [this.origin.originId, table]);
    summary.total.read += summary.read;
    summary.total.inserted += summary.inserted;
    summary.total.duplicates += summary.duplicates;
    summary.total.rejected += summary.rejected;
    return summary;
  }

  /** Source rows → readings (name from the name mapping valid at the reading's time); unusable rows → rejects. */
  private readings(chunk: ReadingRow[], four: boolean, rejects: RejectCounter): Reading[] {
    const out: Reading[] = [];
    const versions = this.dims.versions;
    const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
    let dayCacheId = -1;
    let dayMs = 0;
    for (const r of chunk) {
      const dateId = Number(r[R.date]);
      const timeId = Number(r[R.time]);
      if (dateId !== dayCacheId) {
        const y = Math.floor(dateId / 10000);
        const m = Math.floor(dateId / 100) % 100;
        const d = dateId % 100;
        const ms = Date.UTC(y, m - 1, d);
        const back = new Date(ms);
        dayMs = back.getUTCFullYear() === y && back.getUTCMonth() === m - 1 && back.getUTCDate() === d ? ms : NaN;
        dayCacheId = dateId;
      }
      const hh = Math.floor(timeId / 10000);
      const mi = Math.floor(timeId / 100) % 100;
      const ss = timeId % 100;
      const t = dayMs + (hh * 3600 + mi * 60 + ss) * 1000;
      const v = versions.get(Number(r[R.tess]));
      if (!Number.isFinite(t) || hh > 23 || mi > 59 || ss > 59 || t < Date.UTC(2015, 0, 1)) {
        rejects.add(reject('invalid_timestamp', null, Number.isFinite(dayMs) ? new Date(dayMs) : new Date(0), `date_id ${dateId}, time_id ${timeId}: not a valid time`, r));
        continue;
      }
      if (!v) {
        rejects.add(reject('unregistered', null, new Date(dayMs), `tess_id ${r[R.tess]} is not in tess_t`, r));
        continue;
      }
      const name = this.dims.names.nameAt(v.mac, t);
      if (name === null) {
        rejects.add(reject('unregistered', null, new Date(dayMs), `tess_id ${r[R.tess]} (${v.mac}) has no name in name_to_mac_t at ${new Date(t).toISOString()}`, r));
        continue;
      }
      const freq = num(r[R.f1]);
      const mag = num(r[R.m1]);
      if (freq === null && mag === null) {
        rejects.add(reject('invalid_payload', name, new Date(dayMs), `tess_id ${r[R.tess]} at ${new Date(t).toISOString()}: neither a frequency nor a magnitude`, r));
        continue;
      }
      out.push({
        name,
        tstamp: new Date(t),
        tstampSource: this.units.get(Number(r[R.units])) ?? 'subscriber',
        seq: int(r[R.seq]),
        freq,
        mag,
        tamb: num(r[R.tamb]),
        tsky: num(r[R.tsky]),
        rev: null,
        wdbm: int(r[R.wdbm]),
        azimuth: num(r[R.az]),
        altitude: num(r[R.alt]),
        longitude: num(r[R.lon]),
        latitude: num(r[R.lat]),
        height: num(r[R.height]),
        freq2: four ? num(r[R.f2]) : null,
        mag2: four ? num(r[R.m2]) : null,
        freq3: four ? num(r[R.f3]) : null,
        mag3: four ? num(r[R.m3]) : null,
        freq4: four ? num(r[R.f4]) : null,
        mag4: four ? num(r[R.m4]) : null,
        loadSource: 'sqlite',
      });
    }
    return out;
  }
}

function reject(reason: Reject['reason'], name: string | null, day: Date, detail: string, row: ReadingRow): Reject {
  return { reason, name, day, detail, sample: JSON.stringify(row) };
}

/** The file's ingest record from the progress rows (every run of this import together). */
async function recordIngest(client: pg.ClientBase, origin: Origin, started: number): Promise<'loaded' | 'loaded_with_errors'> {
  const { rows } = await client.query<{ read: string; inserted: string; duplicate: string; rejected: string; errors: string }>(
    `SELECT coalesce(sum(rows_read), 0) AS read, coalesce(sum(rows_inserted), 0) AS inserted, coalesce(sum(rows_duplicate), 0) AS duplicate,
            coalesce(sum(rows_rejected), 0) AS rejected, coalesce(sum(input_errors), 0) AS errors
       FROM import_progress WHERE origin_id = $1`,
    [origin.originId],
  );
  const t = rows[0];
  const status = Number(t.errors) > 0 ? 'loaded_with_errors' : 'loaded';
  await client.query(
    `INSERT INTO file_ingests (origin_id, content_hash, status, rows_read, rows_inserted, rows_duplicate, rows_rejected, error, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (origin_id, content_hash) DO UPDATE SET
       status = EXCLUDED.status, rows_read = EXCLUDED.rows_read, rows_inserted = EXCLUDED.rows_inserted,
       rows_duplicate = EXCLUDED.rows_duplicate, rows_rejected = EXCLUDED.rows_rejected, error = EXCLUDED.error,
       started_at = EXCLUDED.started_at, finished_at = now(), loaded_by = 'ingest'`,
    [origin.originId, origin.contentHash, status, t.read, t.inserted, t.duplicate, t.rejected, status === 'loaded' ? null : `${t.errors} unusable rows (see reject_counts)`, new Date(started)],
  );
  return status;
}
