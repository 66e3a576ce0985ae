/**
 * Live benchmark (issue 5), measured in one run on the same broker and database:
 *  1. baseline: a bare mqtt.js subscriber (persistent session) drains N queued QoS 1 messages;
 *  2. `tessdb live` (archive + database) drains the same N queued messages: sustained msg/s, peak RSS
 *     (this is the overload case: the backlog arrives as fast as the broker can send it), lost messages;
 *  3. publish→row latency p50/p99 at a fixed 1,000 msg/s.
 *
 *   npm run bench:live [-- --messages 100000 --rate 1000 --seconds 20]
 *
 * Broker: TESSDB_TEST_MQTT_URL, else mosquitto from PATH, else aedes (test/helpers/broker.ts).
 * Database: TESSDB_BENCH_DATABASE_URL, else a throwaway embedded PostgreSQL.
 * Profiling: TESSDB_BENCH_LIVE_NODE_ARGS adds node options to the `tessdb live` process (e.g. --cpu-prof).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import pg from 'pg';
import { startBroker, uniqueId } from '../test/helpers/broker.js';
import { benchDatabase, liveNodeArgs } from './common.js';
import { connect, publishMany, readingPayload, registerUnits, rssOf } from './mqtt.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = opt('messages', 100_000);
const RATE = opt('rate', 1000);
const SECONDS = opt('seconds', 20);
const UNITS = 100;

/** Polls the peak RSS (VmHWM) of `child` into `into.mb` every 100 ms. */
function peakRss(child: ChildProcess, into: { mb: number }): NodeJS.Timeout {
  return setInterval(() => (into.mb = Math.max(into.mb, rssOf(child.pid).peakMb)), 100);
}

/** CPU time (user + system, all threads) `pid` has used so far, in ms; 0 once it has exited. */
function cpuMsOf(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

async function count(pool: pg.Pool, sql: string): Promise<number> {
  return Number((await pool.query(sql)).rows[0].n);
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-bench-live-'));
  fs.chmodSync(work, 0o755);
  const broker = await startBroker();
  const proto = broker.protocolVersion;
  const database = await benchDatabase();
  const { url } = database;
  const schema = 'bench_live';
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}` });
  let live: ChildProcess | undefined;
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const env = { ...process.env, TESSDB_DATABASE_URL: url };
    const run = (a: string[]) => new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'tessdb.js'), ...a], { env, stdio: 'inherit' });
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tessdb ${a[0]} exited ${code}`))));
    });
    await run(['setup', '-q', `database.schema=${schema}`]);

    const prefix = uniqueId('B');
    const readingTopic = (i: number) => `${prefix}/${prefix}${i % UNITS}/reading`;
    const publisher = await connect(broker.url, proto, uniqueId('pub'), true);

    // 1. Baseline: a bare subscriber drains N queued messages.
    const bareId = uniqueId('bare');
    let bare = await connect(broker.url, proto, bareId, false);
    await bare.subscribeAsync(`${prefix}/+/reading`, { qos: 1 });
    bare.end(true);
    await publishMany(publisher, readingTopic, (i) => readingPayload(prefix, i, Date.now(), UNITS), 0, N);
    let received = 0;
    let firstAt = 0;
    let lastAt = 0;
    bare = mqtt.connect(broker.url, { clientId: bareId, clean: false, protocolVersion: proto, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      // A broker that keeps fewer queued messages per client than N (Mosquitto's max_queued_messages,
      // 1000 by default) never delivers them all: say so instead of waiting for ever.
      const since = performance.now();
      const stalled = setInterval(() => {
        if (performance.now() - (lastAt || since) < 10_000) return;
        clearInterval(stalled);
        reject(new Error(`the broker delivered ${received} of ${N} queued messages and then nothing for 10 s: does it keep fewer queued messages per client (Mosquitto: max_queued_messages, 1000 by default)? Unset TESSDB_TEST_MQTT_URL to use a broker started by the benchmark`));
      }, 1000);
      bare.on('message', () => {
        if (received++ === 0) firstAt = performance.now();
        lastAt = performance.now();
        if (received >= N) {
          clearInterval(stalled);
          resolve();
        }
      });
    });
    bare.end(true);
    const baselineRate = Math.round((N - 1) / ((lastAt - firstAt) / 1000));

    // 2. tessdb live drains the same backlog (archive + database).
    const cfg = path.join(work, 'live.toml');
    const liveId = uniqueId('live');
    fs.writeFileSync(cfg, [
      `[database]`, `schema = "${schema}"`,
      `[mqtt]`, `url = "${broker.url}"`, `client_id = "${liveId}"`, `topic_prefix = "${prefix}"`,
      `topics = ["${prefix}/+/reading", "${prefix}/register"]`, `protocol_version = ${proto}`,
      `[archive]`, `dir = "${path.join(work, 'archive')}"`,
      `[live]`, `stats_s = 3600`,
    ].join('\n'));
    const startLive = () => {
      const child = spawn(process.execPath, [...liveNodeArgs, path.join(ROOT, 'bin', 'tessdb.js'), 'live', '-q', '-c', cfg], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      return child;
    };
    // Register the units, let live create its persistent session, then stop it and queue the backlog.
    live = startLive();
    await sleep(3000);
    // On a loaded machine the daemon may subscribe after the registrations were sent (a new session keeps
    // nothing from before): send them again until they are all loaded.
    for (let attempt = 0; (await count(pool, 'SELECT count(*) AS n FROM name_to_mac')) < UNITS; attempt++) {
      if (attempt % 50 === 0) await registerUnits(publisher, prefix, UNITS);
      await sleep(200);
    }
    live.kill('SIGTERM');
    await new Promise((r) => live!.once('close', r));
    // Reading times after the registrations (earlier ones would be 'unregistered'), 10 ms apart.
    const base = Date.now() + 1000;
    await publishMany(publisher, readingTopic, (i) => readingPayload(prefix, i, base + i * 10, UNITS), 0, N);
    const rss = { mb: 0 };
    const t0 = performance.now();
    live = startLive();
    const poll = peakRss(live, rss);
    // Sustained rate: from the first loaded row to the last (process start-up is not part of it).
    let loaded = 0;
    let firstRowAt = 0;
    let firstRows = 0;
    while (loaded < N && performance.now() - t0 < 300_000) {
      await sleep(100);
      loaded = await count(pool, 'SELECT count(*) AS n FROM readings');
      if (!firstRowAt && loaded > 0) {
        firstRowAt = performance.now();
        firstRows = loaded;
      }
    }
    const drainCpuMs = cpuMsOf(live.pid);
    const drainSeconds = (performance.now() - firstRowAt) / 1000;
    const liveRate = Math.round((loaded - firstRows) / drainSeconds);
    const startupSeconds = (firstRowAt - t0) / 1000;

    // 3. Latency at a fixed rate: rows become visible in publish order; poll max(seq) to time them.
    const latencyBase = N;
    const total = RATE * SECONDS;
    const sentAt = new Float64Array(total);
    const visibleAt = new Float64Array(total);
    let seen = latencyBase - 1;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const maxSeq = await count(pool, `SELECT coalesce(max(seq), 0) AS n FROM readings WHERE seq >= ${latencyBase}`);
        const now = performance.now();
        for (let s = seen + 1; s <= maxSeq; s++) visibleAt[s - latencyBase] = now;
        seen = Math.max(seen, maxSeq);
        await sleep(20);
      }
    })();
    const start = performance.now();
    for (let k = 0; k < total; k++) {
      const due = start + (k * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      sentAt[k] = performance.now();
      publisher.publish(readingTopic(latencyBase + k), readingPayload(prefix, latencyBase + k, base + (latencyBase + k) * 10, UNITS), { qos: 1 });
    }
    const deadline = performance.now() + 30_000;
    while (seen < latencyBase + total - 1 && performance.now() < deadline) await sleep(50);
    polling = false;
    await poller;
    const lat = Array.from({ length: total }, (_, k) => (visibleAt[k] ? visibleAt[k] - sentAt[k] : Infinity)).sort((a, b) => a - b);
    const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
    const rows = await count(pool, 'SELECT count(*) AS n FROM readings');
    clearInterval(poll);
    live.kill('SIGTERM');
    await new Promise((r) => live!.once('close', r));
    live = undefined;
    const lost = N + total - rows;
    publisher.end(true);

    console.log(`\nlive benchmark: ${N} queued QoS 1 messages, then ${RATE} msg/s for ${SECONDS} s; broker ${broker.kind}, ${os.cpus().length} cores`);
    const table: [string, string, string][] = [
      ['baseline: bare mqtt.js subscriber drains the backlog', `${baselineRate} msg/s`, '1.00'],
      // A backlog loaded almost entirely by the first batch leaves no interval to measure a rate over.
      firstRows > N / 2
        ? ['tessdb live (archive + database) drains the backlog', 'n/a', 'use a larger --messages']
        : ['tessdb live (archive + database) drains the backlog', `${liveRate} msg/s`, (liveRate / baselineRate).toFixed(2)],
      [`publish→row latency at ${RATE} msg/s, p50 / p99`, `${Math.round(pct(50))} / ${Math.round(pct(99))} ms`, ''],
      ['tessdb live start-up to first row (not in the rate)', `${startupSeconds.toFixed(1)} s`, ''],
      ['tessdb live CPU time per 1,000 messages (start-up + drain)', `${Math.round((drainCpuMs * 1000) / N)} ms`, ''],
      ['tessdb live peak RSS (drain = overload)', `${rss.mb} MB`, ''],
      ['messages lost', String(lost), ''],
    ];
    for (const [a, b, c] of table) console.log(`${a.padEnd(56)} ${b.padStart(16)} ${c.padStart(6)}`);
    fs.mkdirSync(path.join(ROOT, 'bench', 'out'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'bench', 'out', 'live-results.json'), JSON.stringify({ baselineRate, liveRate, drainCpuMs, p50: pct(50), p99: pct(99), peakRssMb: rss.mb, lost, broker: broker.kind }, null, 2));
  } finally {
    live?.kill('SIGKILL');
    await pool.end();
    await broker.stop();
    await database.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
