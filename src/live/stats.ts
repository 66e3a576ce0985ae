/**
 * The daemon's counters (what tessdb-server's operators read every hour): received, archived, readings,
 * registers, loaded, duplicates, rejected per reason, retained, dropped queue copies, queue depth, lag, batch
 * timings. Reported as a log line and a live_stats row every `live.stats_s`, on SIGHUP, at stop, and through
 * the optional Prometheus endpoint (metrics.ts).
 */
import type pg from 'pg';
import { errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';

export interface StatsSnapshot {
  at: string;
  started_at: string;
  uptime_s: number;
  /** MQTT messages handed over by the broker. */
  received: number;
  /** Messages written to the archive (every received message, unless stopped mid-way). */
  archived: number;
  /** Messages that are valid readings / registrations. */
  readings: number;
  registers: number;
  /** Readings inserted into the database, and those already there (redeliveries, overlaps). */
  loaded: number;
  duplicates: number;
  /** Messages or readings not loaded, by reason (retained, invalid_json, unregistered…). */
  rejected: Record<string, number>;
  rejected_total: number;
  retained: number;
  /** Messages not queued because the queue was full (they are in the archive and are caught up from it). */
  dropped: number;
  queue: number;
  catch_up_files: number;
  catch_up_lines: number;
  files_closed: number;
  files_recorded_live: number;
  batches: number;
  batch_ms_avg: number;
  batch_ms_max: number;
  batch_ms_last: number;
  db_errors: number;
  db_available: boolean;
  paused: boolean;
  connected: boolean;
  connects: number;
  archive_errors: number;
  /** Newest reading time loaded, and now minus it. */
  newest_reading: string | null;
  lag_s: number | null;
}

export class LiveStats {
  readonly startedAt = new Date();
  received = 0;
  archived = 0;
  readings = 0;
  registers = 0;
  loaded = 0;
  duplicates = 0;
  retained = 0;
  dropped = 0;
  readonly rejected = new Map<string, number>();
  catchUpFiles = 0;
  catchUpLines = 0;
  filesClosed = 0;
  filesRecorded = 0;
  batches = 0;
  batchMsTotal = 0;
  batchMsMax = 0;
  batchMsLast = 0;
  dbErrors = 0;
  dbAvailable = true;
  paused = false;
  connected = false;
  connects = 0;
  archiveErrors = 0;
  newestLoaded: Date | null = null;
  queueDepth: () => number = () => 0;

  reject(reason: string, n = 1): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + n);
    if (reason === 'retained') this.retained += n;
  }

  batch(ms: number, newest: Date | null): void {
    this.batches++;
    this.batchMsTotal += ms;
    this.batchMsLast = ms;
    if (ms > this.batchMsMax) this.batchMsMax = ms;
    if (newest && (!this.newestLoaded || newest > this.newestLoaded)) this.newestLoaded = newest;
  }

  snapshot(now = new Date()): StatsSnapshot {
    const rejected = Object.fromEntries([...this.rejected].sort(([a], [b]) => a.localeCompare(b)));
    const round = (x: number): number => Math.round(x * 10) / 10;
    return {
      at: now.toISOString(),
      started_at: this.startedAt.toISOString(),
      uptime_s: Math.round((now.getTime() - this.startedAt.getTime()) / 1000),
      received: this.received,
      archived: this.archived,
      readings: this.readings,
      registers: this.registers,
      loaded: this.loaded,
      duplicates: this.duplicates,
      rejected,
      rejected_total: Object.values(rejected).reduce((a, b) => a + b, 0),
      retained: this.retained,
      dropped: this.dropped,
      queue: this.queueDepth(),
      catch_up_files: this.catchUpFiles,
      catch_up_lines: this.catchUpLines,
      files_closed: this.filesClosed,
      files_recorded_live: this.filesRecorded,
      batches: this.batches,
      batch_ms_avg: this.batches ? round(this.batchMsTotal / this.batches) : 0,
      batch_ms_max: round(this.batchMsMax),
      batch_ms_last: round(this.batchMsLast),
      db_errors: this.dbErrors,
      db_available: this.dbAvailable,
      paused: this.paused,
      connected: this.connected,
      connects: this.connects,
      archive_errors: this.archiveErrors,
      newest_reading: this.newestLoaded?.toISOString() ?? null,
      lag_s: this.newestLoaded ? round((now.getTime() - this.newestLoaded.getTime()) / 1000) : null,
    };
  }
}

const DELTA_KEYS = ['received', 'archived', 'readings', 'registers', 'loaded', 'duplicates', 'rejected_total', 'dropped'] as const;

/** One log line: totals since start, and what changed since the previous report. */
export function formatStats(s: StatsSnapshot, prev?: StatsSnapshot): string {
  const d = (k: (typeof DELTA_KEYS)[number]): string => (prev ? ` (+${s[k] - prev[k]})` : '');
  const rejects = Object.entries(s.rejected).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const parts = [
    `received ${s.received}${d('received')}`,
    `archived ${s.archived}${d('archived')}`,
    `readings ${s.readings}${d('readings')}`,
    `registers ${s.registers}${d('registers')}`,
    `loaded ${s.loaded}${d('loaded')}`,
    `duplicates ${s.duplicates}${d('duplicates')}`,
    `rejected ${s.rejected_total}${d('rejected_total')} [${rejects}]`,
    `queue ${s.queue}`,
    `dropped ${s.dropped}${d('dropped')}`,
    `lag ${s.lag_s === null ? '-' : `${s.lag_s} s`}`,
    `batches ${s.batches} (avg ${s.batch_ms_avg} ms, max ${s.batch_ms_max} ms)`,
  ];
  if (s.catch_up_files || s.catch_up_lines) parts.push(`caught up ${s.catch_up_files} files + ${s.catch_up_lines} open-file lines`);
  const state = [s.connected ? 'connected' : 'disconnected', s.paused ? 'database writes paused' : s.db_available ? '' : 'database unavailable']
    .filter(Boolean)
    .join(', ');
  return `stats: ${parts.join(', ')}; ${state}`;
}

export interface ReporterOptions {
  stats: LiveStats;
  intervalS: number;
  /** Host tag of this daemon (live_stats.host). */
  host: string;
  /** Where live_stats rows go; undefined: log only. */
  pool?: pg.Pool;
  /** false while database writes are paused or the database is down: log only. */
  canWrite: () => boolean;
}

export class StatsReporter {
  private timer: NodeJS.Timeout | undefined;
  private prev: StatsSnapshot | undefined;

  constructor(private readonly opts: ReporterOptions) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.report(), this.opts.intervalS * 1000);
    this.timer.unref();
  }

  setInterval(seconds: number): void {
    if (seconds === this.opts.intervalS) return;
    this.opts.intervalS = seconds;
    if (this.timer) this.start();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Logs the statistics and stores them in live_stats (best effort). */
  async report(): Promise<StatsSnapshot> {
    const snap = this.opts.stats.snapshot();
    log.info(formatStats(snap, this.prev));
    const prev = this.prev;
    this.prev = snap;
    if (this.opts.pool && this.opts.canWrite()) {
      const interval = prev ? Object.fromEntries(DELTA_KEYS.map((k) => [k, snap[k] - prev[k]])) : null;
      await this.opts.pool
        .query('INSERT INTO live_stats (host, stats) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
          this.opts.host,
          JSON.stringify({ ...snap, interval_s: prev ? Math.round((Date.parse(snap.at) - Date.parse(prev.at)) / 1000) : null, interval }),
        ])
        .catch((err) => log.debug(`live_stats not stored: ${errorMessage(err)}`));
    }
    return snap;
  }
}
