/**
 * What `tessdb status` shows: database size, readings per month and per photometer, photometers
 * current / silent, inventory (pending, failed, missing files and replicas), rejects, the daylight
 * filter and the latest statistics of each `live` daemon.
 */
import type pg from 'pg';
import { INGESTIBLE_KINDS } from '../ingest/sources/index.js';

export interface PhotometerStatus {
  name: string;
  readings: number | null; // exact when the table is small, else null
  first: Date | null;
  latest: Date | null;
  silentMinutes: number | null;
}

export interface MonthStatus {
  month: string; // YYYY-MM
  readings: number;
  /** false: the planner's estimate (large partitions are not counted row by row). */
  exact: boolean;
  bytes: number;
}

export interface LiveStatus {
  host: string;
  reportedAt: Date;
  minutesAgo: number;
  stats: unknown;
}

export interface StatusReport {
  databaseBytes: number;
  readingsEstimate: number;
  readingsPerMonth: MonthStatus[];
  photometers: PhotometerStatus[];
  registry: {
    /** Photometers (MACs) with a current version. */
    current: number;
    authorised: number;
    /** Current photometers at the "Unknown" location. */
    unassigned: number;
    /** Current names with readings whose latest reading is older than silentAfterMinutes. */
    silent: string[];
    /** Current names that never sent a reading. */
    neverSeen: string[];
    silentAfterMinutes: number;
  };
  inventory: {
    files: number;
    pending: number;
    failed: number;
    withErrors: number;
    unknownKind: number;
    missing: number;
    replicas: number;
    /** Replicas whose file is gone from its volume. */
    missingReplicas: number;
    /** Present origins of this host without any present replica (only meaningful with replica_dirs). */
    withoutReplica: number;
  };
  rejects: Record<string, number>;
  daylight: {
    /** What the views apply now (settings table). */
    setting: string | null;
    /** Flagged readings (exact only when the table is small, else null). */
    flagged: number | null;
  };
  live: LiveStatus[];
}

const EXACT_COUNT_LIMIT = 5_000_000;

export interface StatusOptions {
  silentAfterMinutes?: number;
}

export async function statusReport(pool: pg.Pool, host: string, opts: StatusOptions = {}): Promise<StatusReport> {
  const silentAfter = opts.silentAfterMinutes ?? 60;
  const size = await pool.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
  const parts = await pool.query<{ relname: string; est: string; bytes: string }>(
    `SELECT c.relname, greatest(c.reltuples, 0)::bigint AS est, pg_total_relation_size(c.oid) AS bytes
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass ORDER BY c.relname`,
  );
  let estimate = parts.rows.reduce((s, r) => s + Number(r.est), 0);
  const exact = estimate < EXACT_COUNT_LIMIT;
  const photometers = await pool.query<{ name: string; readings: string | null; first: Date | null; latest: Date | null }>(
    `SELECT n.name,
            ${exact ? '(SELECT count(*) FROM readings r WHERE r.name_id = n.name_id)' : 'NULL'} AS readings,
            (SELECT min(tstamp) FROM readings r WHERE r.name_id = n.name_id) AS first,
            (SELECT max(tstamp) FROM readings r WHERE r.name_id = n.name_id) AS latest
       FROM names n ORDER BY n.name`,
  );
  if (exact) estimate = photometers.rows.reduce((s, r) => s + Number(r.readings ?? 0), 0);

  const readingsPerMonth: MonthStatus[] = [];
  for (const p of parts.rows) {
    const m = /^readings_(\d{4})(\d{2})$/.exec(p.relname);
    if (!m) continue;
    let n = Number(p.est);
    if (exact) {
      const c = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${p.relname}"`); // name checked by the pattern above
      n = Number(c.rows[0].n);
    }
    readingsPerMonth.push({ month: `${m[1]}-${m[2]}`, readings: n, exact, bytes: Number(p.bytes) });
  }

  const reg = await pool.query<{ current: string; authorised: string; unassigned: string }>(
    `SELECT count(*) AS current, count(*) FILTER (WHERE authorised) AS authorised, count(*) FILTER (WHERE location_id = -1) AS unassigned
       FROM photometers WHERE valid_state = 'Current'`,
  );
  const currentNames = await pool.query<{ name: string }>(`SELECT DISTINCT name FROM name_to_mac WHERE valid_state = 'Current' ORDER BY name`);
  const now = Date.now();
  const latestByName = new Map(photometers.rows.map((r) => [r.name, r.latest]));
  const silent: string[] = [];
  const neverSeen: string[] = [];
  for (const { name } of currentNames.rows) {
    const latest = latestByName.get(name) ?? null;
    if (latest === null) neverSeen.push(name);
    else if (now - latest.getTime() > silentAfter * 60_000) silent.push(name);
  }

  const inv = await pool.query<Record<string, string>>(
    `SELECT count(*) FILTER (WHERE missing_since IS NULL) AS files,
            count(*) FILTER (WHERE missing_since IS NULL AND kind = ANY($2::text[]) AND NOT EXISTS (
              SELECT 1 FROM file_ingests i WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status <> 'failed')) AS pending,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM file_ingests i WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status = 'failed')) AS failed,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM file_ingests i WHERE i.origin_id = o.origin_id AND i.content_hash = o.content_hash AND i.status = 'loaded_with_errors')) AS with_errors,
            count(*) FILTER (WHERE kind = 'unknown') AS unknown_kind,
            count(*) FILTER (WHERE missing_since IS NOT NULL) AS missing,
            count(*) FILTER (WHERE missing_since IS NULL AND NOT EXISTS (
              SELECT 1 FROM file_replicas f WHERE f.origin_id = o.origin_id AND f.missing_since IS NULL)) AS without_replica
       FROM file_origins o WHERE host = $1`,
    [host, INGESTIBLE_KINDS],
  );
  const rep = await pool.query<{ replicas: string; missing: string }>(
    `SELECT count(*) FILTER (WHERE missing_since IS NULL) AS replicas, count(*) FILTER (WHERE missing_since IS NOT NULL) AS missing FROM file_replicas`,
  );
  const rejects = await pool.query<{ reason: string; n: string }>('SELECT reason, sum(count)::bigint AS n FROM reject_counts GROUP BY reason ORDER BY 2 DESC');
  const setting = await pool.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'filter.daylight'`).catch(() => ({ rows: [] as { value: string }[] }));
  const flagged = exact ? Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM readings WHERE daylight')).rows[0].n) : null;
  const live = await pool.query<{ host: string; reported_at: Date; stats: unknown }>(
    `SELECT DISTINCT ON (host) host, reported_at, stats FROM live_stats ORDER BY host, reported_at DESC`,
  );
  const i = inv.rows[0];
  return {
    databaseBytes: Number(size.rows[0].bytes),
    readingsEstimate: estimate,
    readingsPerMonth,
    photometers: photometers.rows
      .filter((r) => r.latest !== null)
      .map((r) => ({
        name: r.name,
        readings: r.readings === null ? null : Number(r.readings),
        first: r.first,
        latest: r.latest,
        silentMinutes: r.latest ? Math.floor((now - r.latest.getTime()) / 60_000) : null,
      })),
    registry: {
      current: Number(reg.rows[0].current),
      authorised: Number(reg.rows[0].authorised),
      unassigned: Number(reg.rows[0].unassigned),
      silent,
      neverSeen,
      silentAfterMinutes: silentAfter,
    },
    inventory: {
      files: Number(i.files), pending: Number(i.pending), failed: Number(i.failed), withErrors: Number(i.with_errors),
      unknownKind: Number(i.unknown_kind), missing: Number(i.missing),
      replicas: Number(rep.rows[0].replicas), missingReplicas: Number(rep.rows[0].missing), withoutReplica: Number(i.without_replica),
    },
    rejects: Object.fromEntries(rejects.rows.map((r) => [r.reason, Number(r.n)])),
    daylight: { setting: setting.rows[0]?.value ?? null, flagged },
    live: live.rows.map((r) => ({ host: r.host, reportedAt: r.reported_at, minutesAgo: Math.floor((now - r.reported_at.getTime()) / 60_000), stats: r.stats })),
  };
}
