/**
 * Load benchmark (issue 7, part 3): `tessdb live` offered twice its sustained rate for 5 minutes.
 *  1. sustained rate: the daemon (archive + database) drains a queued backlog; its rows/s is R;
 *  2. overload: paced QoS 1 publisher threads offer `--factor` × R (default 2) for `--minutes` (default 5),
 *     sampling the daemon's counters (/metrics) and RSS every 5 s; what the broker acknowledged (PUBACK)
 *     is what was published;
 *  3. recovery: publishing stops; the time until every published reading is loaded.
 * Then the archive is read back: published vs archived (lost), archive lines vs distinct readings
 * (redeliveries), rows vs distinct readings (duplicates), peak RSS and whether it stopped growing.
 * On a small machine the publishers may not reach the offered rate: the achieved rate is printed.
 *
 *   npm run bench:load [-- --minutes 5 --factor 2 --sustained R --units 100 --backlog 150000 --threads 2 --pause-db 0]
 *
 * `--pause-db S` pauses the daemon's database writes (SIGUSR1) for S seconds from the end of the first minute,
 * then resumes them (SIGUSR2): where the publishers cannot outrun the daemon on a small machine, this is the
 * overload of the loading side (queue overflow, copies dropped, catch-up from the archive under a live stream).
 *
 * Broker: TESSDB_TEST_MQTT_URL, else mosquitto from PATH (max_queued_messages 0), else aedes. A broker
 * with a bounded per-client queue (mosquitto's default is 1,000) drops what it cannot queue: that is
 * broker policy, reported as "lost before the daemon".
 * Database: TESSDB_BENCH_DATABASE_URL, else a throwaway embedded PostgreSQL.
 * TESSDB_BENCH_LIVE_NODE_ARGS adds node options to the daemon (e.g. --max-old-space-size=256).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openArchive } from '../src/archive/index.js';
import { startBroker, uniqueId } from '../test/helpers/broker.js';
import { BIN, OUT, benchDatabase, freePort, liveNodeArgs, numberOption } from './common.js';
import { connect, publishMany, readingPayload, registerUnits, rssOf, startPacedLoad } from './mqtt.js';

const MINUTES = numberOption('minutes', 5);
const FACTOR = numberOption('factor', 2);
const UNITS = numberOption('units', 100);
const BACKLOG = numberOption('backlog', 150_000);
const GIVEN_RATE = numberOption('sustained', 0);
const THREADS = numberOption('threads', 2);
const PAUSE_DB_S = numberOption('pause-db', 0);
const PAUSE_AT_S = 60;
const SAMPLE_MS = 5000;

interface Sample {
  t: number;
  published: number;
  received: number;
  archived: number;
  loaded: number;
  dropped: number;
  queue: number;
  rssMb: number;
}

async function metrics(port: number): Promise<Record<string, number>> {
  // A fresh connection each time: a kept-alive one may be closed by the server just as it is reused.
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } })).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(tessdb_live_[a-z_]+) ([0-9.e+-]+|NaN)$/.exec(line);
    if (m) out[m[1].replace('tessdb_live_', '')] = Number(m[2]);
  }
  return out;
}

async function count(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await pool.query(sql, params)).rows[0].n);
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-bench-load-'));
  fs.chmodSync(work, 0o755);
  const broker = await startBroker();
  const proto = broker.protocolVersion;
  const database = await benchDatabase();
  const schema = 'bench_load';
  const pool = new pg.Pool({ connectionString: database.url, options: `-c search_path=${schema}` });
  const env = { ...process.env, TESSDB_DATABASE_URL: database.url };
  const metricsPort = await freePort();
  const archiveDir = path.join(work, 'archive');
  let live: ChildProcess | undefined;
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await new Promise<void>((resolve, reject) =>
      spawn(process.execPath, [BIN, 'setup', '-q', `database.schema=${schema}`], { env, stdio: 'inherit' }).on('close', (c) =>
        c === 0 ? resolve() : reject(new Error(`setup exited ${c}`)),
      ),
    );
    const prefix = uniqueId('L');
    const topic = (i: number) => `${prefix}/${prefix}${i % UNITS}/reading`;
    const cfg = path.join(work, 'live.toml');
    fs.writeFileSync(cfg, [
      `[database]`, `schema = "${schema}"`,
      `[mqtt]`, `url = "${broker.url}"`, `client_id = "${uniqueId('live')}"`, `topic_prefix = "${prefix}"`,
      `topics = ["${prefix}/+/reading", "${prefix}/register"]`, `protocol_version = ${proto}`,
      `[archive]`, `dir = "${archiveDir}"`,
      `[live]`, `stats_s = 3600`, `metrics_port = ${metricsPort}`,
    ].join('\n'));
    const startLive = () => spawn(process.execPath, [...liveNodeArgs, BIN, 'live', '-q', '-c', cfg], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const stopLive = async () => {
      live!.kill('SIGTERM');
      await new Promise((r) => live!.once('close', r));
    };
    const upAndRunning = async () => {
      for (;;) {
        const m = await metrics(metricsPort).catch(() => undefined);
        if (m?.connected === 1) return;
        await sleep(200);
      }
    };
    const publisher = await connect(broker.url, proto, uniqueId('pub'), true);

    // Registrations first (readings are timed after them), and the daemon's persistent session.
    live = startLive();
    await upAndRunning();
    await registerUnits(publisher, prefix, UNITS);
    while ((await count(pool, 'SELECT count(*) AS n FROM name_to_mac')) < UNITS) await sleep(200);
    const base = Date.now() + 1000;
    // Unique (unit, time) per message: one reading a second per unit.
    const body = (i: number) => readingPayload(prefix, i, base + Math.floor(i / UNITS) * 1000, UNITS);

    // 1. Sustained rate: drain a queued backlog.
    let rate = GIVEN_RATE;
    let first = 0;
    if (!rate) {
      await stopLive();
      await publishMany(publisher, topic, body, 0, BACKLOG);
      first = BACKLOG;
      live = startLive();
      // From the moment the daemon is connected (its start-up is not part of the rate) to the last row.
      await upAndRunning();
      const from = performance.now();
      while ((await count(pool, 'SELECT count(*) AS n FROM readings')) < BACKLOG) await sleep(100);
      rate = Math.round(BACKLOG / ((performance.now() - from) / 1000));
      console.log(`sustained rate (backlog of ${BACKLOG} drained): ${rate} msg/s`);
    }
    await upAndRunning();

    // 2. Overload: offer FACTOR × rate for MINUTES from paced publisher threads.
    const offered = Math.round(rate * FACTOR);
    const receivedBefore = (await metrics(metricsPort)).messages_received_total;
    const load = startPacedLoad({ url: broker.url, protocolVersion: proto, topicPrefix: prefix, units: UNITS, first, base, ratePerSecond: offered, seconds: MINUTES * 60 }, THREADS);
    const samples: Sample[] = [];
    const started = performance.now();
    const sample = async (published: number) => {
      const m = await metrics(metricsPort);
      const s: Sample = {
        t: Math.round((performance.now() - started) / 1000),
        published,
        received: m.messages_received_total - receivedBefore,
        archived: m.messages_archived_total - receivedBefore,
        loaded: await count(pool, 'SELECT count(*) AS n FROM readings WHERE seq >= $1', [first]),
        dropped: m.dropped_total,
        queue: m.queue_rows,
        rssMb: rssOf(live!.pid).nowMb,
      };
      samples.push(s);
      console.log(`t=${s.t}s acked by the broker ${s.published} received ${s.received} archived ${s.archived} loaded ${s.loaded} queue ${s.queue} dropped ${s.dropped} rss ${s.rssMb} MB`);
    };
    let finished = false;
    void load.done.finally(() => (finished = true));
    let pause: 'before' | 'paused' | 'resumed' = PAUSE_DB_S > 0 ? 'before' : 'resumed';
    while (!finished) {
      await sleep(SAMPLE_MS);
      const t = (performance.now() - started) / 1000;
      if (pause === 'before' && t >= PAUSE_AT_S) {
        live.kill('SIGUSR1');
        pause = 'paused';
        console.log(`t=${Math.round(t)}s database writes paused (SIGUSR1) for ${PAUSE_DB_S} s`);
      } else if (pause === 'paused' && t >= PAUSE_AT_S + PAUSE_DB_S) {
        live.kill('SIGUSR2');
        pause = 'resumed';
        console.log(`t=${Math.round(t)}s database writes resumed (SIGUSR2)`);
      }
      if (!finished) await sample(load.progress().acked);
    }
    if (pause === 'paused') live.kill('SIGUSR2');
    const { sent, acked: published } = await load.done;
    const publishSeconds = (performance.now() - started) / 1000;
    const loadEnded = performance.now();

    // 3. Recovery: from the end of the offered load until every published reading is loaded.
    const peakMidRun = rssOf(live.pid).peakMb;
    for (;;) {
      const loaded = await count(pool, 'SELECT count(*) AS n FROM readings WHERE seq >= $1', [first]);
      if (loaded >= published || performance.now() - loadEnded > 20 * 60_000) break;
      await sleep(1000);
    }
    const recoverySeconds = (performance.now() - loadEnded) / 1000;
    await sample(published);
    const peakRssMb = rssOf(live.pid).peakMb;
    await stopLive();
    live = undefined;
    publisher.end(true);

    // The archive read back: every published message, how often.
    // Each publisher thread sends every `threads`-th number: the numbers sent lie below first + offered × seconds.
    const end = first + Math.ceil(offered * MINUTES * 60) + 1;
    const seen = new Uint8Array(end);
    let lines = 0;
    for (const f of (fs.readdirSync(archiveDir, { recursive: true }) as string[]).filter((p) => p.endsWith('.ndjson.gz'))) {
      for await (const batch of openArchive(path.join(archiveDir, f)).batches) {
        for (const l of batch) {
          const p = l.message?.payload as { seq?: number } | undefined;
          if (!l.message?.topic.endsWith('/reading') || typeof p?.seq !== 'number' || p.seq < first) continue;
          lines++;
          seen[p.seq] = Math.min(255, seen[p.seq] + 1);
        }
      }
    }
    let archivedDistinct = 0;
    for (let i = first; i < end; i++) if (seen[i]) archivedDistinct++;
    // Messages whose publish was not acknowledged (publisher stopped mid-flight) may or may not have arrived.
    const rows = await count(pool, 'SELECT count(*) AS n FROM readings WHERE seq >= $1', [first]);
    const distinctRows = await count(pool, 'SELECT count(DISTINCT seq) AS n FROM readings WHERE seq >= $1', [first]);
    const firstMinute = samples.filter((s) => s.t <= 60).map((s) => s.rssMb);
    const lastMinute = samples.filter((s) => s.t >= MINUTES * 60 - 60 && s.t <= MINUTES * 60).map((s) => s.rssMb);
    const maxBacklog = Math.max(0, ...samples.map((s) => s.published - s.received));
    const maxLoadLag = Math.max(...samples.map((s) => s.published - s.loaded));
    const results = {
      broker: broker.kind,
      cores: os.cpus().length,
      sustainedRate: rate,
      offeredRate: offered,
      achievedOfferedRate: Math.round(published / publishSeconds),
      sentNotAcked: sent - published,
      minutes: MINUTES,
      databasePausedSeconds: PAUSE_DB_S,
      published,
      archivedLines: lines,
      archivedDistinct,
      lost: published - archivedDistinct,
      redelivered: lines - archivedDistinct,
      rows,
      duplicated: rows - distinctRows,
      notLoaded: published - rows,
      maxBrokerBacklog: maxBacklog,
      maxLoadLag,
      maxQueue: Math.max(...samples.map((s) => s.queue)),
      droppedCopies: samples.at(-1)!.dropped,
      rssFirstMinuteMaxMb: Math.max(...firstMinute),
      rssLastMinuteMaxMb: Math.max(...lastMinute),
      peakRssMb: Math.max(peakRssMb, peakMidRun),
      recoverySeconds: Math.round(recoverySeconds),
    };
    const paused = PAUSE_DB_S > 0 ? `, database writes paused ${PAUSE_DB_S} s from t=${PAUSE_AT_S}s` : '';
    console.log(`\nload benchmark: ${FACTOR}× the sustained rate for ${MINUTES} min${paused}; broker ${broker.kind}, ${results.cores} cores`);
    const table: [string, string][] = [
      ['sustained rate R (daemon drains a backlog)', `${rate} msg/s`],
      [`offered ${FACTOR}× R / achieved (acknowledged by the broker)`, `${offered} / ${results.achievedOfferedRate} msg/s`],
      ['published: acknowledged by the broker (QoS 1)', String(published)],
      ['archived: distinct / lines (redeliveries)', `${archivedDistinct} / ${lines}`],
      ['lost (acknowledged by the broker, never archived)', String(results.lost)],
      ['loaded rows / duplicated rows / not loaded', `${rows} / ${results.duplicated} / ${results.notLoaded}`],
      ['max broker backlog (published − received)', String(maxBacklog)],
      ['max load lag (published − loaded)', String(maxLoadLag)],
      ['max queue / queued copies dropped (loaded from archive)', `${results.maxQueue} / ${results.droppedCopies}`],
      ['RSS: max in first minute / last minute / peak', `${results.rssFirstMinuteMaxMb} / ${results.rssLastMinuteMaxMb} / ${results.peakRssMb} MB`],
      ['recovery: load end → everything loaded', `${results.recoverySeconds} s`],
    ];
    for (const [a, b] of table) console.log(`${a.padEnd(58)} ${b.padStart(24)}`);
    fs.mkdirSync(OUT, { recursive: true });
    fs.writeFileSync(path.join(OUT, 'load-results.json'), JSON.stringify({ ...results, samples }, null, 2));
  } finally {
    live?.kill('SIGKILL');
    await pool.end();
    await broker.stop();
    await database.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
