/** Run the real `tessdb` binary (bin/tessdb.js → dist/) as a user would. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'tessdb.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Node warning (a deprecated call, a listener leak…): a bug a user would see on every run. */
export const NODE_WARNING = /\(node:\d+\) \w*Warning: .*/;

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Tests must not pick up the developer's own configuration or database.
    const inherited = { ...process.env };
    for (const k of ['TESSDB_DATABASE_URL', 'TESSDB_MQTT_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD']) delete inherited[k];
    const env = { ...inherited, ...opts.env };
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: opts.cwd ?? ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const warning = NODE_WARNING.exec(stderr);
      if (warning) reject(new Error(`tessdb ${args.join(' ')} printed a Node warning: ${warning[0]}`));
      else resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Environment pointing tessdb at a test database (URLs with passwords are refused on the command line). */
export function dbEnv(url: string): NodeJS.ProcessEnv {
  return { TESSDB_DATABASE_URL: url };
}
