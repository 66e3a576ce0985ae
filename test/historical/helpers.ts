/** Helpers of the historical-format tests (IDA, CSV, SQLite): temp dirs, a migrated database, the CLI, archives. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { dbEnv, ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'historical');

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tessdb-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Copy fixture files (relative to test/fixtures/historical) into `dir`, keeping their names. */
export function copyFixtures(dir: string, files: string[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return files.map((f) => {
    const to = path.join(dir, path.basename(f));
    fs.copyFileSync(path.join(FIXTURES, f), to);
    return to;
  });
}

export async function setupDatabase(prefix: string): Promise<TestDatabase> {
  const db = await freshDatabase(prefix);
  const r = await runCli(['setup', '-q'], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, `setup failed:\n${r.stderr}`);
  return db;
}

export function tessdb(db: TestDatabase, args: string[]): Promise<CliResult> {
  return runCli(args, { env: dbEnv(db.url) });
}

/** `tessdb ARGS --json`, parsed; the exit code must be one of `codes`. */
export async function tessdbJson<T = any>(db: TestDatabase, args: string[], codes = [0]): Promise<T> {
  const r = await tessdb(db, [...args, '--json']);
  assert.ok(codes.includes(r.code), `tessdb ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A config file with data_dirs and include patterns that take compressed IDA/CSV files too. */
export function writeConfig(dir: string, dataDirs: string[], extra = ''): string {
  const file = path.join(dir, 'tessdb.toml');
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  fs.writeFileSync(
    file,
    [`host = "hist"`, `data_dirs = ${list(dataDirs)}`, `include = ${list(['**/*.ndjson.gz', '**/*.dat', '**/*.dat.gz', '**/*.csv', '**/*.csv.gz'])}`, extra].join('\n') + '\n',
  );
  return file;
}

/** One archive line (design.md §2). */
export function archiveLine(rx: Date, topic: string, payload: unknown): string {
  return JSON.stringify({ rx: rx.toISOString(), topic, qos: 1, retain: false, payload });
}

export function writeArchive(file: string, lines: string[]): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n'));
  return file;
}

export async function rows<T = any>(db: TestDatabase, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.pool.query(sql, params)).rows as T[];
}
