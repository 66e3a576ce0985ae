/**
 * Shared helpers for the ingest and inventory tests: temp dirs with real archive files, a migrated
 * fresh database per call, the real CLI pointed at it, and dumps of what the database holds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { generateArchive, type GenerateOptions, type GenerateResult } from '../../scripts/generate-archive.js';
import { dbEnv, runCli, type CliResult } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

/** A temp dir readable by everyone (the suite may run as root with the database as another user). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tessdb-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export function removeDir(dir: string | undefined): void {
  if (!dir) return;
  // Make anything a test chmod-ed away removable again.
  try {
    for (const p of fs.readdirSync(dir, { recursive: true }) as string[]) {
      try {
        fs.chmodSync(path.join(dir, p), 0o755);
      } catch {
        /* ignore */
      }
    }
  } catch {
    /* ignore */
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

export function mkdirp(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** A fresh database with the tessdb schema applied by `tessdb setup`. */
export async function setupDatabase(prefix: string): Promise<TestDatabase> {
  const db = await freshDatabase(prefix);
  const r = await runCli(['setup', '-q'], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, `setup failed:\n${r.stderr}`);
  return db;
}

/** Run `tessdb ARGS` against `db` (the URL goes through the environment, never the command line). */
export function tessdb(db: TestDatabase, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { env: { ...dbEnv(db.url), ...env } });
}

/** `tessdb ARGS --json`, asserting the exit code, parsed. */
export async function tessdbJson<T = any>(db: TestDatabase, args: string[], expectCode = 0): Promise<T> {
  const r = await tessdb(db, [...args, '--json']);
  assert.equal(r.code, expectCode, `tessdb ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`tessdb ${args.join(' ')} --json printed no JSON:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** Writes a TOML config file into `dir` and returns its path. */
export function writeConfig(dir: string, o: { data_dirs?: string[]; replica_dirs?: string[]; host?: string; extra?: string }, name = 'tessdb.toml'): string {
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const lines: string[] = [];
  if (o.host !== undefined) lines.push(`host = ${JSON.stringify(o.host)}`);
  if (o.data_dirs) lines.push(`data_dirs = ${list(o.data_dirs)}`);
  if (o.replica_dirs) lines.push(`replica_dirs = ${list(o.replica_dirs)}`);
  if (o.extra) lines.push(o.extra);
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** The sample generator with small defaults (2 photometers, 1 day → 24 hourly files). */
export function generate(out: string, o: Partial<Omit<GenerateOptions, 'out'>> = {}): GenerateResult {
  mkdirp(out);
  const r = generateArchive({
    out,
    photometers: 2,
    days: 1,
    start: new Date('2026-11-01T00:00:00Z'),
    seed: 1,
    invalidLines: false,
    ...o,
  });
  r.files.sort();
  return r;
}

// ---------------------------------------------------------------------------------------------------
// Hand-made archive lines
// ---------------------------------------------------------------------------------------------------

export interface Line {
  rx: string;
  topic: string;
  qos: number;
  retain: boolean;
  payload: unknown;
}

export function readingLine(name: string, tstamp: string, seq: number, extra: Record<string, unknown> = {}): Line {
  const rx = new Date(new Date(`${tstamp}Z`).getTime() + 150).toISOString();
  return {
    rx,
    topic: `STARS4ALL/${name}/reading`,
    qos: 1,
    retain: false,
    payload: { seq, name, freq: 10 + seq / 100, mag: 19 + seq / 1000, tamb: 8.5, tsky: -15.5, rev: 1, wdBm: -70, tstamp, ...extra },
  };
}

export function registerLine(name: string, mac: string, rx: string, calib = 20.44): Line {
  return { rx, topic: 'STARS4ALL/register', qos: 1, retain: false, payload: { name, mac, calib, rev: 1, chan: 'STARS4ALL', firmware: 'Sep 21 2022' } };
}

/** `count` readings of `name`, one a minute from `start` (ISO without Z). */
export function readingLines(name: string, start: string, count: number, firstSeq = 1): Line[] {
  const t0 = new Date(`${start}Z`).getTime();
  return Array.from({ length: count }, (_, i) => readingLine(name, new Date(t0 + i * 60_000).toISOString().slice(0, 19), firstSeq + i));
}

/** Writes lines (objects are JSON-encoded, strings written as they are) as one gzip file. */
export function writeArchive(file: string, lines: (Line | string)[]): string {
  mkdirp(path.dirname(file));
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
  fs.writeFileSync(file, zlib.gzipSync(text));
  return file;
}

// ---------------------------------------------------------------------------------------------------
// What the database holds
// ---------------------------------------------------------------------------------------------------

export const READING_SELECT = `SELECT name, tstamp, tstamp_src::text, load_src::text, seq, freq, mag, tamb, tsky, wdbm, rev,
         azimuth, altitude, longitude, latitude, height, freq2, mag2, freq3, mag3, freq4, mag4
    FROM readings JOIN names USING (name_id) ORDER BY 1, 2`;

export async function dumpReadings(db: TestDatabase): Promise<unknown[]> {
  const { rows } = await db.pool.query(READING_SELECT);
  return rows.map((r) => ({ ...r, tstamp: (r.tstamp as Date).toISOString() }));
}

/** photometers (without the surrogate tess_id), name_to_mac and the register event log. */
export async function dumpRegistry(db: TestDatabase): Promise<{ photometers: unknown[]; nameToMac: unknown[]; events: unknown[] }> {
  const p = await db.pool.query(
    `SELECT mac_address, model, firmware, nchannels, zp1, zp2, zp3, zp4, filter1, filter2, filter3, filter4,
            offset1, offset2, offset3, offset4, azimuth, altitude, location_id, observer_id, authorised, registered,
            valid_since, valid_until, valid_state
       FROM photometers ORDER BY mac_address, valid_since`,
  );
  const m = await db.pool.query('SELECT name, mac_address, valid_since, valid_until, valid_state FROM name_to_mac ORDER BY name, valid_since');
  const e = await db.pool.query('SELECT encode(event_hash, \'hex\') AS h, received_at, name, mac_address, source FROM register_events ORDER BY received_at, h');
  return { photometers: p.rows, nameToMac: m.rows, events: e.rows };
}

export async function count(db: TestDatabase, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query(`SELECT (${sql})::bigint AS n`, params);
  return Number(rows[0].n);
}

export async function readingCount(db: TestDatabase): Promise<number> {
  return count(db, 'SELECT count(*) FROM readings');
}

/** reject_counts summed per reason. */
export async function rejectsByReason(db: TestDatabase): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ reason: string; n: string }>('SELECT reason, sum(count)::bigint AS n FROM reject_counts GROUP BY reason ORDER BY reason');
  return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
}

export interface IngestRow {
  path: string;
  status: string;
  rows_read: number;
  rows_inserted: number;
  rows_duplicate: number;
  rows_rejected: number;
  truncated: boolean;
  error: string | null;
}

/** file_ingests joined with their origins' paths, by path. */
export async function ingestRows(db: TestDatabase): Promise<Map<string, IngestRow>> {
  const { rows } = await db.pool.query(
    `SELECT o.path, i.status, i.rows_read::int, i.rows_inserted::int, i.rows_duplicate::int, i.rows_rejected::int, i.truncated, i.error
       FROM file_ingests i JOIN file_origins o USING (origin_id) ORDER BY o.path`,
  );
  return new Map(rows.map((r) => [r.path as string, r as IngestRow]));
}

/** Deterministic shuffle. */
export function shuffled<T>(xs: T[], seed = 7): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface IngestOutcome {
  path: string;
  status: string;
  read: number;
  accepted: number;
  rejected: number;
  truncated: boolean;
}

/** Reject counts per file and the ingest records, in the form that must not depend on how files were ingested. */
export async function fileOutcomes(d: Pick<TestDatabase, 'pool'>): Promise<{ rejects: unknown[]; ingests: IngestOutcome[] }> {
  const rejects = await d.pool.query(
    `SELECT o.path, rc.day::text, rc.name, rc.reason, rc.count::int
       FROM reject_counts rc JOIN file_origins o USING (origin_id) ORDER BY 1, 2, 3, 4`,
  );
  const ingests = [...(await ingestRows(d as TestDatabase)).values()].map((r): IngestOutcome => ({
    path: r.path,
    status: r.status,
    read: r.rows_read,
    accepted: r.rows_inserted + r.rows_duplicate,
    rejected: r.rows_rejected,
    truncated: r.truncated,
  }));
  return { rejects: rejects.rows, ingests };
}
