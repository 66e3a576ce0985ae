/** Shared helpers for the live tests: a broker, a migrated fresh database, configurations, publishers, probes. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type pg from 'pg';
import { openArchive } from '../../src/archive/index.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { migrate } from '../../src/db/migrate.js';
import type { ArchiveMessage } from '../../src/model/types.js';
import { setLogLevel } from '../../src/util/log.js';
import { uniqueId, type TestBroker } from '../helpers/broker.js';
import { BIN, NODE_WARNING } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

export { startBroker, uniqueId, freePort, type TestBroker } from '../helpers/broker.js';

// In-process daemons log warnings only, unless TESSDB_TEST_VERBOSE is set.
if (!process.env.TESSDB_TEST_VERBOSE) setLogLevel('warn');

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tessdb-live-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export async function migratedDatabase(prefix = 'live'): Promise<TestDatabase> {
  const db = await freshDatabase(prefix);
  await migrate(db.pool, 'public');
  return db;
}

export interface LiveSetup {
  dir: string;
  archiveDir: string;
  /** Unique first topic level (the test's own "STARS4ALL"). */
  prefix: string;
  clientId: string;
  host: string;
  broker: TestBroker;
}

export interface ConfigOptions {
  rotateS?: number;
  flushMs?: number;
  batchRows?: number;
  batchMs?: number;
  maxQueueRows?: number;
  maxPayloadBytes?: number;
  metricsPort?: number;
  sharedGroup?: string;
}

export function newSetup(broker: TestBroker, label: string): LiveSetup {
  const dir = tempDir(label);
  const id = uniqueId(label);
  return { dir, archiveDir: path.join(dir, 'archive'), prefix: `T${id}`, clientId: `tessdb-test-${id}`, host: `h-${id}`, broker };
}

/** Writes `<dir>/tessdb.toml` for this setup and returns its path. */
export function writeLiveConfig(s: LiveSetup, o: ConfigOptions = {}, name = 'tessdb.toml'): string {
  const toml = `host = ${JSON.stringify(s.host)}

[archive]
dir = ${JSON.stringify(s.archiveDir)}
flush_ms = ${o.flushMs ?? 100}
rotate_s = ${o.rotateS ?? 0}
max_payload_bytes = ${o.maxPayloadBytes ?? 4096}

[mqtt]
url = ${JSON.stringify(s.broker.url)}
client_id = ${JSON.stringify(s.clientId)}
topics = [${JSON.stringify(`${s.prefix}/+/reading`)}, ${JSON.stringify(`${s.prefix}/register`)}]
topic_prefix = ${JSON.stringify(s.prefix)}
protocol_version = ${s.broker.protocolVersion}
shared_group = ${JSON.stringify(o.sharedGroup ?? '')}
session_expiry_s = 3600
reconnect_ms = 100

[live]
batch_rows = ${o.batchRows ?? 200}
batch_ms = ${o.batchMs ?? 100}
stats_s = 3600
metrics_port = ${o.metricsPort ?? 0}
max_queue_rows = ${o.maxQueueRows ?? 100000}
catch_up_hours = 2
`;
  const file = path.join(s.dir, name);
  fs.writeFileSync(file, toml);
  return file;
}

/** The configuration as `tessdb live -c FILE` with TESSDB_DATABASE_URL would see it. */
export function configFor(file: string, db: TestDatabase): Config {
  return loadConfig({ files: [file], env: { TESSDB_DATABASE_URL: db.url } }).config;
}

// ---------------------------------------------------------------------------------------------------
// Publishing
// ---------------------------------------------------------------------------------------------------

export async function publisher(broker: TestBroker, clientId = uniqueId('pub')): Promise<MqttClient> {
  const c = mqtt.connect(broker.url, { clientId, protocolVersion: broker.protocolVersion, reconnectPeriod: 100, clean: true });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  c.on('error', () => undefined);
  return c;
}

export function publish(c: MqttClient, topic: string, payload: string | Buffer | object, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  return new Promise((resolve, reject) =>
    c.publish(topic, body, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (err) => (err ? reject(err) : resolve())),
  );
}

export const macOf = (i: number): string =>
  `AA:BB:CC:00:${(i >> 8).toString(16).padStart(2, '0').toUpperCase()}:${(i & 255).toString(16).padStart(2, '0').toUpperCase()}`;

export function registerPayload(name: string, i: number): object {
  return { name, mac: macOf(i), calib: 20.5, rev: 2, wdBm: -60 };
}

export function readingPayload(name: string, seq: number, tstampMs: number): object {
  return {
    seq,
    name,
    freq: 1000 + seq / 8,
    mag: 20 + (seq % 100) / 100,
    tamb: 10.25,
    tsky: -5.5,
    rev: 2,
    wdBm: -61,
    tstamp: new Date(tstampMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/** Registers `names` (QoS 1). Readings must be timed after this (registrations take effect at receipt). */
export async function registerAll(c: MqttClient, prefix: string, names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i++) await publish(c, `${prefix}/register`, registerPayload(names[i], i + 1));
}

// ---------------------------------------------------------------------------------------------------
// Reading back
// ---------------------------------------------------------------------------------------------------

/** Every archive file under `dir` (with the `.part` ones unless `part: false`). */
export function archiveFiles(dir: string, opts: { part?: boolean } = {}): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => p.endsWith('.ndjson.gz') || (opts.part !== false && p.endsWith('.ndjson.gz.part')))
    .map((p) => path.join(dir, p))
    .sort();
}

export function partFiles(dir: string): string[] {
  return archiveFiles(dir).filter((p) => p.endsWith('.part'));
}

export async function readArchive(dir: string): Promise<ArchiveMessage[]> {
  const out: ArchiveMessage[] = [];
  for (const f of archiveFiles(dir)) {
    const a = openArchive(f);
    for await (const batch of a.batches) for (const l of batch) if (l.message) out.push(l.message);
  }
  return out;
}

export async function count(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}

export const readingCount = (pool: pg.Pool): Promise<number> => count(pool, 'SELECT count(*) AS n FROM readings');

/** Readings with names instead of ids, in a stable order (comparable across databases). */
export async function readingRows(pool: pg.Pool): Promise<unknown[]> {
  const { rows } = await pool.query(
    `SELECT n.name, r.tstamp, r.tstamp_src, r.load_src, r.seq, r.freq, r.mag, r.tamb, r.tsky, r.wdbm, r.rev,
            r.azimuth, r.altitude, r.longitude, r.latitude, r.height, r.freq2, r.mag2, r.freq3, r.mag3, r.freq4, r.mag4
       FROM readings r JOIN names n USING (name_id) ORDER BY n.name, r.tstamp`,
  );
  return rows;
}

export async function rejectsByReason(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ reason: string; n: string }>('SELECT reason, sum(count)::bigint AS n FROM reject_counts GROUP BY reason');
  return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
}

export async function waitFor(what: string | (() => string), check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Distinct (name, seq) of the reading messages in `msgs` (as published by these tests). */
export function readingKeys(msgs: ArchiveMessage[], prefix: string): Set<string> {
  const keys = new Set<string>();
  for (const m of msgs) {
    if (!m.topic.startsWith(`${prefix}/`) || !m.topic.endsWith('/reading') || m.raw !== undefined) continue;
    const p = m.payload as { name?: string; seq?: number };
    keys.add(`${p.name}/${p.seq}`);
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------------
// The daemon as a child process
// ---------------------------------------------------------------------------------------------------

export interface DaemonProcess {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnDaemon(configFile: string, db: TestDatabase, extraArgs: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): DaemonProcess {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TESSDB_') || k.startsWith('PG')) delete env[k];
  env.TESSDB_DATABASE_URL = db.url;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, [BIN, 'live', '-c', configFile, ...extraArgs], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) =>
    // 'close', not 'exit': stderr is read to its end (a warning printed while shutting down).
    child.on('close', (code, signal) => {
      const warning = NODE_WARNING.exec(err);
      if (warning) reject(new Error(`tessdb live printed a Node warning: ${warning[0]}`));
      else resolve({ code, signal });
    }),
  );
  return { child, stderr: () => err, exited };
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
