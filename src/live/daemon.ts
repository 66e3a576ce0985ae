/**
 * `tessdb live`: wires the MQTT session, the archive writer, the database writer, catch-up, file records,
 * statistics, metrics and signals together. `startLive` runs it in-process and returns a handle (the CLI
 * and the tests use the same entry point).
 */
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { ArchiveWriter, finaliseLeftovers, rotationSeconds, type RotationPolicy } from '../archive/index.js';
import { fullWhileExists } from '../archive/full-disk-sim.js';
import { maskUrl, type Config } from '../config/index.js';
import { requireCurrentSchema } from '../db/migrate.js';
import { clientConfig, isDatabaseConfigured } from '../db/connection.js';
import { newPool, openDatabase, type Database } from '../db/open.js';
import { syncSettings } from '../filter/index.js';
import { RegistryCache } from '../ingest/registry-cache.js';
import { NameIds } from '../load/names.js';
import { errorMessage, UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { batchAcksPerTurn } from './ack-batching.js';
import { archiveFilesOf } from './catch-up.js';
import { DbWriter, type DbWriterSettings } from './db-writer.js';
import { FileTracker } from './file-records.js';
import { startMetricsServer, type MetricsServer } from './metrics.js';
import { mqttSettings, withReceiveWindow } from './mqtt-options.js';
import { Receiver } from './receiver.js';
import { installSignalHandlers } from './signals.js';
import { LiveStats, StatsReporter, type StatsSnapshot } from './stats.js';
import { Subscriber } from './subscriber.js';

export interface LiveOptions {
  /** An open database; default: `openDatabase(config)` (the embedded one when none is configured), closed at stop. */
  db?: Database;
  /** Re-reads the configuration for SIGHUP / `reload()`; default: keep the running one (caches are still reloaded). */
  loadConfig?: () => Config;
  /** Install the SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2 handlers (the CLI does, in-process tests do not). */
  signals?: boolean;
  /** Environment for TESSDB_MQTT_PASSWORD (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface LiveExit {
  /** false when the archive could not be closed with everything accepted persisted. */
  archiveClosed: boolean;
}

export interface LiveHandle {
  /** Absolute archive directory. */
  readonly archiveDir: string;
  /** Host tag in this daemon's archive file names. */
  readonly tag: string;
  readonly clientId: string;
  /** Port of the /metrics endpoint when enabled. */
  readonly metricsPort: number | undefined;
  /** Resolves once the broker granted the first subscription. */
  readonly subscribed: Promise<void>;
  /** Resolves once the daemon has stopped (stop() or a signal). */
  readonly done: Promise<LiveExit>;
  stats(): StatsSnapshot;
  /** Logs the statistics now and stores them in live_stats. */
  report(): Promise<StatsSnapshot>;
  /** SIGUSR1 / SIGUSR2. */
  pause(): void;
  resume(): void;
  /** SIGHUP: applies what can change without reconnecting (from `config`, else `loadConfig()`), reloads the photometer cache. */
  reload(config?: Config): Promise<void>;
  /** Resolves once everything received so far is archived (flushed) and loaded or caught up (never while paused). */
  settle(): Promise<void>;
  /** SIGTERM: stop receiving, close the archive, last database batch, disconnect; bounded to ~9 s. */
  stop(): Promise<LiveExit>;
}

/** Keys `reload()` applies; any other change needs a restart. */
const RELOADABLE = [
  'live.batch_rows', 'live.batch_ms', 'live.stats_s', 'live.max_queue_rows', 'live.catch_up_hours',
  'mqtt.topics', 'mqtt.shared_group', 'mqtt.topic_prefix', 'registry.require_authorisation',
  'ingest.batch_rows', 'ingest.jobs', 'data_dirs', 'replica_dirs', 'include', 'exclude',
];

const STOP_BUDGET_MS = 7500; // under the CLI's 10 s limit with room for timers that fire late on a saturated machine
/** While the archive cannot be written, a reminder line this often (the first error is logged at once). */
const ARCHIVE_REMIND_MS = 10 * 60_000;
const MiB = 1024 * 1024;

export function archiveTag(config: Config): string {
  return config.archive.host_tag || config.host;
}

export function rotationPolicy(config: Config): RotationPolicy {
  return config.archive.rotate_s > 0 ? { seconds: config.archive.rotate_s } : config.archive.rotate;
}

function writerSettings(config: Config): DbWriterSettings {
  return {
    batchRows: config.live.batch_rows,
    batchMs: config.live.batch_ms,
    maxQueueRows: config.live.max_queue_rows,
    requireAuthorisation: config.registry.require_authorisation,
    topicPrefix: config.mqtt.topic_prefix,
    fileBatchRows: config.ingest.batch_rows,
  };
}

function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

function changedKeys(a: Config, b: Config): string[] {
  const fa = flatten(a);
  const fb = flatten(b);
  return [...new Set([...fa.keys(), ...fb.keys()])].filter((k) => fa.get(k) !== fb.get(k));
}

/**
 * The database for the daemon. A configured server that is down at start does not stop the daemon (it archives
 * and loads once the server is back); the embedded one must start.
 */
async function openLiveDatabase(config: Config): Promise<{ db: Database; reachable: boolean }> {
  try {
    return { db: await openDatabase(config, { max: 4 }), reachable: true };
  } catch (err) {
    if (!isDatabaseConfigured(config) || err instanceof UserError) throw err;
    log.warn(`${errorMessage(err)}: starting anyway — messages are archived and loaded once the database is reachable`);
    const pool = newPool({ ...clientConfig(config), max: 4 });
    const d = config.database;
    const description = d.url ? maskUrl(d.url) : `postgres://${d.user ? `${d.user}@` : ''}${d.host}:${d.port}/${d.dbname}`;
    return { db: { pool, description, close: () => pool.end() }, reachable: false };
  }
}

async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
  clearTimeout(timer);
}

export async function startLive(initial: Config, opts: LiveOptions = {}): Promise<LiveHandle> {
  let config = initial;
  const settings = mqttSettings(config, opts.env); // no broker configured: one-line error before anything starts
  const archiveDir = path.resolve(config.archive.dir);
  const tag = archiveTag(config);
  const rotate = rotationPolicy(config);
  const periodSeconds = rotationSeconds(rotate);
  fs.mkdirSync(archiveDir, { recursive: true });

  let db = opts.db;
  let ownDb = false;
  let reachable = true;
  if (!db) {
    ({ db, reachable } = await openLiveDatabase(config));
    ownDb = true;
  }
  let leftovers: string[];
  try {
    if (reachable) {
      await requireCurrentSchema(db.pool, config.database.schema);
      await syncSettings(db.pool, config);
    }
    leftovers = await finaliseLeftovers(archiveDir, { host: tag });
  } catch (err) {
    if (ownDb) await db.close().catch(() => undefined);
    throw err;
  }
  if (leftovers.length) log.info(`finalised ${leftovers.length} archive files left open by an earlier run; loading them`);
  const left = new Set(leftovers);
  const recent =
    config.live.catch_up_hours > 0
      ? archiveFilesOf(archiveDir, tag, Date.now() - config.live.catch_up_hours * 3600_000, { part: false }).filter((p) => !left.has(p))
      : [];

  const stats = new LiveStats();
  const tracker = new FileTracker();
  const registry = new RegistryCache();
  const fullIf = (opts.env ?? process.env).TESSDB_TEST_ARCHIVE_FULL_IF;
  if (fullIf) log.warn(`test hook TESSDB_TEST_ARCHIVE_FULL_IF: archive writes fail with ENOSPC while ${fullIf} exists`);
  const writer = new ArchiveWriter({
    fs: fullIf ? fullWhileExists(fullIf) : undefined,
    dir: archiveDir,
    host: tag,
    rotate,
    maxFileBytes: config.archive.max_file_mb * MiB,
    flushMs: config.archive.flush_ms,
    maxPayloadBytes: config.archive.max_payload_bytes,
  });
  const dbWriter = new DbWriter(
    {
      pool: db.pool,
      names: new NameIds(db.pool),
      registry,
      stats,
      tracker,
      host: config.host,
      archiveDir,
      tag,
      periodSeconds,
      flushArchive: () => writer.flush(),
    },
    writerSettings(config),
  );
  // The writer retries every archive.flush_ms and reports every failed attempt: say it once (and a reminder now
  // and then, or when the cause changes), and once when it is over.
  let archiveFailing: { since: number; remindedAt: number; code: string } | undefined;
  writer.on('error', (err: NodeJS.ErrnoException) => {
    stats.archiveErrors++;
    tracker.distrust(err.message);
    const now = performance.now();
    const code = err.code ?? err.message;
    if (!archiveFailing) {
      archiveFailing = { since: now, remindedAt: now, code };
      log.error(
        `cannot write the archive in ${archiveDir}: ${err.message} — not acknowledging messages (the broker keeps them) ` +
          `and retrying every ${config.archive.flush_ms} ms`,
      );
    } else if (code !== archiveFailing.code || now - archiveFailing.remindedAt >= ARCHIVE_REMIND_MS) {
      archiveFailing.code = code;
      archiveFailing.remindedAt = now;
      log.warn(`the archive in ${archiveDir} is still not writable after ${Math.round((now - archiveFailing.since) / 1000)} s: ${err.message}`);
    } else {
      log.debug(`archive write attempt failed: ${err.message}`);
    }
  });
  writer.on('recovered', ({ lines }) => {
    const since = archiveFailing?.since ?? performance.now();
    archiveFailing = undefined;
    log.info(`archive writable again after ${((performance.now() - since) / 1000).toFixed(1)} s (${lines} held lines written): taking messages again`);
    dbWriter.archiveRecovered();
  });
  writer.on('closed', (c) => {
    stats.filesClosed++;
    tracker.onClosed(c);
    dbWriter.wake();
    log.debug(`archive file closed: ${c.path} (${c.lines} lines)`);
  });
  dbWriter.addStartupWork(leftovers, recent);
  dbWriter.start();

  const receiver = new Receiver({
    writer,
    maxPayloadBytes: config.archive.max_payload_bytes,
    topicPrefix: config.mqtt.topic_prefix,
    sink: (seq, msg) => dbWriter.offer(seq, msg),
    stats,
    retryMs: config.archive.flush_ms,
  });
  const client = mqtt.connect(settings.url, withReceiveWindow(settings.options));
  receiver.attach(client);
  batchAcksPerTurn(client);
  const subscriber = new Subscriber(client, {
    topics: config.mqtt.topics,
    sharedGroup: config.mqtt.shared_group,
    protocolVersion: config.mqtt.protocol_version,
    reconnectMs: config.mqtt.reconnect_ms,
    description: settings.description,
    stats,
  });
  const reporter = new StatsReporter({
    stats,
    intervalS: config.live.stats_s,
    host: tag,
    pool: db.pool,
    canWrite: () => !dbWriter.isPaused && stats.dbAvailable,
  });
  let metrics: MetricsServer | undefined;
  if (config.live.metrics_port > 0) {
    try {
      metrics = await startMetricsServer(config.live.metrics_port, () => stats.snapshot());
      log.info(`Prometheus metrics on http://127.0.0.1:${metrics.port}/metrics`);
    } catch (err) {
      log.error(`metrics endpoint not started on 127.0.0.1:${config.live.metrics_port}: ${errorMessage(err)}`);
    }
  }
  reporter.start();
  subscriber.start();
  log.info(`tessdb live: archiving to ${archiveDir} (files tessdb_${tag}_*), loading into ${db.description}; broker ${settings.description}`);

  let resolveDone: (exit: LiveExit) => void = () => undefined;
  const done = new Promise<LiveExit>((resolve) => (resolveDone = resolve));
  let stopping: Promise<LiveExit> | undefined;
  let uninstall: (() => void) | undefined;

  const doStop = async (): Promise<LiveExit> => {
    const deadline = performance.now() + STOP_BUDGET_MS;
    const left = (): number => deadline - performance.now();
    reporter.stop();
    await bounded(receiver.stop(), 1000);
    await subscriber.stop();
    let archiveClosed = true;
    try {
      await Promise.race([
        writer.close(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out closing the archive')), Math.max(500, left() - 3000)).unref()),
      ]);
    } catch (err) {
      archiveClosed = false;
      log.error(`archive not closed cleanly: ${errorMessage(err)}`);
    }
    await dbWriter.stop(deadline - 1000);
    await bounded(reporter.report(), Math.min(500, left()));
    if (metrics) await bounded(metrics.close(), 200);
    if (ownDb) await bounded(db.close(), Math.max(100, left()));
    uninstall?.();
    log.info(`tessdb live stopped (${receiver.lastSeq} messages archived this run)`);
    const exit = { archiveClosed };
    resolveDone(exit);
    return exit;
  };

  const handle: LiveHandle = {
    archiveDir,
    tag,
    clientId: settings.clientId,
    metricsPort: metrics?.port,
    subscribed: subscriber.subscribed,
    done,
    stats: () => stats.snapshot(),
    report: () => reporter.report(),
    pause: () => dbWriter.pause(),
    resume: () => dbWriter.resume(),
    async reload(next?: Config) {
      let cfg: Config;
      try {
        cfg = next ?? opts.loadConfig?.() ?? config;
      } catch (err) {
        log.error(`reload: ${errorMessage(err)}; keeping the running configuration`);
        return;
      }
      const changed = changedKeys(config, cfg);
      const restart = changed.filter((k) => !RELOADABLE.some((r) => k === r || k.startsWith(`${r}.`)));
      dbWriter.configure(writerSettings(cfg));
      receiver.setTopicPrefix(cfg.mqtt.topic_prefix);
      reporter.setInterval(cfg.live.stats_s);
      subscriber.setTopics(cfg.mqtt.topics, cfg.mqtt.shared_group);
      registry.invalidate();
      await syncSettings(db.pool, cfg).catch((err) => log.warn(`reload: could not update settings: ${errorMessage(err)}`));
      config = cfg;
      const applied = changed.filter((k) => !restart.includes(k));
      log.info(`configuration reloaded${applied.length ? ` (applied: ${applied.join(', ')})` : ''}; photometer cache will be reloaded`);
      if (restart.length) log.warn(`changes to ${restart.join(', ')} take effect after a restart`);
      await reporter.report();
    },
    async settle() {
      await writer.flush();
      receiver.deliverNow();
      await dbWriter.whenIdle();
    },
    stop() {
      stopping ??= doStop();
      return stopping;
    },
  };
  if (opts.signals) {
    uninstall = installSignalHandlers({
      stop: () => handle.stop().then(() => undefined),
      reload: () => handle.reload(),
      pause: () => handle.pause(),
      resume: () => handle.resume(),
    });
  }
  return handle;
}
