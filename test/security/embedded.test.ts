/**
 * The embedded PostgreSQL's exposure: it listens on 127.0.0.1 only, its generated password is in a
 * mode-600 file, connections without it (or with a wrong one) are refused by SCRAM, and `tessdb db url`
 * shows the password only when asked. Started through the real CLI in a private directory.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { EmbeddedServer } from '../../src/db/embedded/server.js';
import { freePort } from '../helpers/broker.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { worldDir } from './pg-server.js';

const exec = promisify(execFile);

let dir: string;
let port: number;
let password: string;
let overrides: string[];
const run = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
  runCli([...args, ...overrides], { cwd: dir, env: { XDG_CONFIG_HOME: path.join(dir, 'no-config'), ...env } });

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stderr}`);
  return r;
}

before(async () => {
  dir = worldDir('embedded');
  port = await freePort();
  overrides = [`database.embedded_dir=${path.join(dir, 'pg')}`, `database.embedded_port=${port}`];
  const started = ok(await run(['db', 'start']), 'db start');
  password = fs.readFileSync(path.join(dir, 'pg', 'password'), 'utf8').trim();
  assert.ok(!started.stdout.includes(password) && !started.stderr.includes(password), 'db start shows the password');
});

after(async () => {
  await new EmbeddedServer(path.join(dir, 'pg'), port).stopNow().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

const owner = (pw: string | undefined) => new pg.Client({ host: '127.0.0.1', port, user: 'tessdb', database: 'tessdb', password: pw });

test('the generated password is long, random and in a file only its owner can read', () => {
  const file = path.join(dir, 'pg', 'password');
  const st = fs.statSync(file);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.uid, process.getuid!());
  assert.match(password, /^[A-Za-z0-9_-]{32}$/, '24 random bytes, base64url');
});

test('it listens on 127.0.0.1 only, without a Unix socket', async () => {
  const c = owner(password);
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets,
                                           current_setting('password_encryption') AS enc,
                                           (SELECT count(*)::int FROM pg_hba_file_rules WHERE auth_method IN ('trust', 'password', 'md5')) AS weak`);
    assert.deepEqual(rows[0], { listen: '127.0.0.1', sockets: '', enc: 'scram-sha-256', weak: 0 });
  } finally {
    await c.end();
  }
  // Every non-loopback address of this machine: nothing listens there.
  const outside = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
  for (const address of outside) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: address, port, timeout: 2000 });
      s.once('connect', () => (s.destroy(), resolve(false)));
      s.once('error', () => resolve(true));
      s.once('timeout', () => (s.destroy(), resolve(true)));
    });
    assert.ok(refused, `port ${port} answers on ${address}`);
  }
});

test('connections without the password or with a wrong one are refused (SCRAM)', async () => {
  const c = owner('not-the-password');
  await assert.rejects(c.connect(), (err: Error & { code?: string }) => err.code === '28P01' && /password authentication failed for user "tessdb"/.test(err.message));
  await c.end().catch(() => undefined);
  // No password at all: psql (-w: never prompt; no PGPASSWORD, no .pgpass) is asked for one and has none.
  const env: NodeJS.ProcessEnv = { ...process.env, PGPASSFILE: '/dev/null', PGCONNECT_TIMEOUT: '5' };
  delete env.PGPASSWORD;
  const psql = await exec('psql', ['-w', '-h', '127.0.0.1', '-p', String(port), '-U', 'tessdb', '-d', 'tessdb', '-c', 'SELECT 1'], { env }).then(
    () => 'connected',
    (err: { stderr: string }) => err.stderr,
  );
  assert.match(psql, /no password supplied|password authentication failed/);
});

test('a wrong password through the CLI fails with a one-line error that does not show it', async () => {
  const wrong = 'Wr0ng-Passw0rd-For-Embedded';
  const r = await runCli(['status'], { env: { TESSDB_DATABASE_URL: `postgres://tessdb:${wrong}@127.0.0.1:${port}/tessdb` } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /password authentication failed for user "tessdb"/);
  assert.ok(!r.stderr.includes(wrong) && !r.stdout.includes(wrong), r.stderr);
  assert.match(r.stderr, /postgres:\/\/tessdb:\*\*\*@127\.0\.0\.1/);
});

test('db url shows the password only with --with-password', async () => {
  const plain = ok(await run(['db', 'url']), 'db url');
  assert.equal(plain.stdout.trim(), `postgres://tessdb@127.0.0.1:${port}/tessdb`);
  assert.ok(!plain.stderr.includes(password), plain.stderr);
  assert.ok(plain.stderr.includes(path.join(dir, 'pg', 'password')), 'says where the password is');
  const status = ok(await run(['db', 'status', '--json']), 'db status');
  assert.ok(!status.stdout.includes(password) && !status.stderr.includes(password));
  const dump = ok(await run(['db', 'url', '--dump-config']), 'db url --dump-config');
  assert.ok(!dump.stdout.includes(password));

  const full = ok(await run(['db', 'url', '--with-password']), 'db url --with-password').stdout.trim();
  assert.equal(full, `postgres://tessdb:${password}@127.0.0.1:${port}/tessdb`);
  const c = new pg.Client({ connectionString: full });
  await c.connect();
  await c.end();
});
