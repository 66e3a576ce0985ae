/** What the benchmarks share: the CLI runner with peak RSS, free ports, and the `psql \copy` baseline. */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EmbeddedServer } from '../src/db/embedded/server.js';
import { READING_COLUMNS } from '../src/load/encode.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(ROOT, 'bin', 'tessdb.js');
export const OUT = path.join(ROOT, 'bench', 'out');

/** Extra node options for the `tessdb live` child of bench/live and bench/load, e.g. TESSDB_BENCH_LIVE_NODE_ARGS="--cpu-prof". */
export const liveNodeArgs = (process.env.TESSDB_BENCH_LIVE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

/** `--name value` from the command line, as a number. */
export function numberOption(name: string, fallback: number, args = process.argv.slice(2)): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export interface Timed {
  seconds: number;
  peakRssMb: number;
  stdout: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Run the real CLI; peak RSS from /proc VmHWM polled until exit. Exit codes 0 and 1 (bad rows) are results. */
export function tessdb(cliArgs: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...cliArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        /* exited */
      }
    }, 50);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0 && code !== 1) reject(new Error(`tessdb ${cliArgs.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
      else resolve({ seconds, peakRssMb: Math.round(peak), stdout });
    });
  });
}

/**
 * A CHECKPOINT before a measurement, so that none pays for the WAL the one before it wrote: a checkpoint
 * falling inside a run makes Postgres log whole pages again and slowed `psql \copy` by up to half.
 * Needs a superuser (or pg_checkpoint); without one the runs just stay noisier.
 */
export async function checkpoint(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } catch {
    /* not allowed: measured without */
  } finally {
    await client.end();
  }
}

/** The baseline: `psql \copy` of COPY text rows into `<schema>.readings`; pg-copy-streams when there is no psql. */
export async function baselineCopy(url: string, schema: string, copyFile: string): Promise<number> {
  const table = `"${schema}".readings`;
  const columns = READING_COLUMNS.join(', ');
  const started = performance.now();
  let psql = '';
  try {
    psql = execFileSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).trim();
  } catch {
    /* not installed */
  }
  if (psql) {
    execFileSync(psql, [url, '-q', '-c', `\\copy ${table} (${columns}) FROM '${copyFile}'`], { stdio: 'inherit' });
  } else {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await pipeline(fs.createReadStream(copyFile, { highWaterMark: 1 << 16 }), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
    await client.end();
  }
  return (performance.now() - started) / 1000;
}

export interface BenchDatabase {
  url: string;
  close(): Promise<void>;
}

/** TESSDB_BENCH_DATABASE_URL, else a throwaway embedded PostgreSQL (removed by `close`). */
export async function benchDatabase(): Promise<BenchDatabase> {
  const given = process.env.TESSDB_BENCH_DATABASE_URL;
  if (given) return { url: given, close: async () => undefined };
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-bench-pg-'));
  fs.chmodSync(baseDir, 0o755);
  const server = new EmbeddedServer(baseDir, await freePort());
  const url = await server.startKept();
  return {
    url,
    async close() {
      await server.stopNow();
      fs.rmSync(baseDir, { recursive: true, force: true });
    },
  };
}
