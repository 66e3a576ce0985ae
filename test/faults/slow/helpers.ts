/** Helpers of the slow live fault tests: a steady QoS 1 stream, the daemon's /metrics, a PostgreSQL of their own. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { EmbeddedServer } from '../../../src/db/embedded/server.js';
import { migrate } from '../../../src/db/migrate.js';
import { freePort } from '../../helpers/broker.js';
import type { TestDatabase } from '../../helpers/db.js';
import { publish, readingPayload } from '../../live/helpers.js';

/**
 * Publishes readings `1, 2, 3…` (QoS 1, name `names[seq % n]`, one second apart in reading time) at about
 * `rate` messages/s until stopped. `publishedAt[seq]` is when the broker acknowledged message `seq`.
 */
export class SteadyStream {
  seq = 0;
  readonly publishedAt: number[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(pub: MqttClient, prefix: string, names: string[], rate: number, t0 = Date.now() + 10_000) {
    const started = performance.now();
    this.loop = (async () => {
      while (this.running) {
        const due = Math.floor(((performance.now() - started) * rate) / 1000);
        while (this.running && this.seq < due) {
          const seq = this.seq + 1;
          const name = names[seq % names.length];
          await publish(pub, `${prefix}/${name}/reading`, readingPayload(name, seq, t0 + seq * 1000));
          this.seq = seq;
          this.publishedAt[seq] = Date.now();
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
  }

  /** Stops publishing; resolves with the number of messages published (all acknowledged by the broker). */
  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    return this.seq;
  }
}

/** The daemon's counters from its Prometheus endpoint (`tessdb_live_*` without the prefix, `_total` kept). */
export async function scrape(port: number): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^tessdb_live_([a-z_]+) (\S+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Scrapes, or undefined while the endpoint does not answer (daemon starting or gone). */
export async function tryScrape(port: number): Promise<Record<string, number> | undefined> {
  try {
    return await scrape(port);
  } catch {
    return undefined;
  }
}

/** Lines of `text` that match `re`. */
export function linesMatching(text: string, re: RegExp): string[] {
  return text.split('\n').filter((l) => re.test(l));
}

/**
 * A PostgreSQL server of the test's own (the embedded one, on a free port), with the tessdb schema in its
 * `tessdb` database, that the test may stop and start. Never the shared test server.
 */
export interface OwnServer {
  server: EmbeddedServer;
  db: TestDatabase;
  baseDir: string;
  /** Stops the server (pg_ctl stop -m fast) and removes its files. */
  destroy(): Promise<void>;
}

export async function ownServer(): Promise<OwnServer> {
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-fault-pg-'));
  fs.chmodSync(baseDir, 0o755);
  const server = new EmbeddedServer(baseDir, await freePort(), { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  const url = await server.startKept();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  await migrate(pool, 'public');
  return {
    server,
    baseDir,
    db: { url, pool, drop: async () => undefined },
    async destroy() {
      await pool.end().catch(() => undefined);
      await server.stopNow().catch(() => undefined);
      fs.rmSync(baseDir, { recursive: true, force: true });
    },
  };
}
