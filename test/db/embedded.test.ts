/**
 * The embedded PostgreSQL end to end through the real binary: `db start|status|url|stop`, servers
 * started on demand by a command and stopped after it, and concurrent commands sharing one server.
 * Each test has a private embedded directory and a free port. As root the server runs as the
 * `postgres` user, so directories live under os.tmpdir() with mode 755.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { EmbeddedServer, type EmbeddedStatus } from '../../src/db/embedded/server.js';
import { readMigrations } from '../../src/db/migrate.js';
import { runCli, type CliResult } from '../helpers/cli.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

interface Embedded {
  dir: string;
  port: number;
  /** The overrides that point a command at this embedded server. */
  overrides: string[];
  run(args: string[]): Promise<CliResult>;
  status(): Promise<EmbeddedStatus>;
}

const created: { dir: string; port: number }[] = [];
after(async () => {
  for (const { dir, port } of created) {
    await new EmbeddedServer(dir, port).stopNow().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function embedded(): Promise<Embedded> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-embedded-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  created.push({ dir, port });
  const overrides = [`database.embedded_dir=${dir}`, `database.embedded_port=${port}`];
  const xdg = path.join(dir, 'no-config');
  const run = (args: string[]) => runCli([...args, ...overrides], { cwd: dir, env: { XDG_CONFIG_HOME: xdg } });
  return {
    dir,
    port,
    overrides,
    run,
    async status() {
      const r = await run(['db', 'status', '--json']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as EmbeddedStatus;
    },
  };
}

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stderr}`);
  return r;
}

test('db start, status, url, stop', async () => {
  const e = await embedded();
  const initial = await e.status();
  assert.equal(initial.running, false);
  assert.equal(initial.initialised, false);
  assert.equal(initial.dataDir, path.join(e.dir, 'data'));

  ok(await e.run(['db', 'start']), 'db start');
  const running = await e.status();
  assert.equal(running.running, true);
  assert.equal(running.initialised, true);
  assert.equal(running.port, e.port);
  assert.equal(running.keptRunning, true);
  assert.match(running.version ?? '', /^\d+$/);
  assert.ok(running.sizeBytes > 0);

  // A second start is harmless.
  ok(await e.run(['db', 'start']), 'second db start');

  const url = ok(await e.run(['db', 'url', '--with-password']), 'db url').stdout.trim();
  assert.match(url, new RegExp(`^postgres://tessdb:[^@]+@127\\.0\\.0\\.1:${e.port}/tessdb$`));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT version()');
    assert.match(rows[0].version, /^PostgreSQL \d+/);
  } finally {
    await client.end();
  }

  const human = ok(await e.run(['db', 'status']), 'db status').stdout;
  assert.match(human, new RegExp(`running on 127\\.0\\.0\\.1:${e.port}`));

  ok(await e.run(['db', 'stop']), 'db stop');
  const stopped = await e.status();
  assert.equal(stopped.running, false);
  assert.equal(stopped.initialised, true);
  assert.equal(stopped.keptRunning, false);
  assert.match(ok(await e.run(['db', 'status']), 'db status').stdout, /state:\s+stopped/);

  const again = ok(await e.run(['db', 'stop']), 'second db stop');
  assert.match(again.stderr, /not running/);
});

test('db url before the server was ever started fails with a clear line', async () => {
  const e = await embedded();
  const r = await e.run(['db', 'url']);
  assert.equal(r.code, 1);
  assert.match(r.stderr.trim(), /^tessdb: .*not initialised.*tessdb db start/);
});

test('an on-demand command leaves the server stopped; a `db start`-ed server keeps running', async () => {
  const e = await embedded();

  // On demand: setup initialises and starts the server, then stops it when done.
  const first = ok(await e.run(['setup', '--json']), 'setup');
  assert.deepEqual((JSON.parse(first.stdout) as { applied: string[] }).applied, readMigrations().map((m) => m.name));
  let s = await e.status();
  assert.equal(s.initialised, true);
  assert.equal(s.running, false, 'setup must stop the server it started');

  // Again, on an initialised but stopped server.
  const second = ok(await e.run(['setup', '--json']), 'second setup');
  assert.equal((JSON.parse(second.stdout) as { upToDate: boolean }).upToDate, true, 'data persisted across restarts');
  assert.equal((await e.status()).running, false);

  // Kept running: setup uses it and leaves it up.
  ok(await e.run(['db', 'start']), 'db start');
  ok(await e.run(['setup']), 'setup against the started server');
  s = await e.status();
  assert.equal(s.running, true, 'a db start-ed server must survive a setup');
  assert.equal(s.keptRunning, true);

  const url = ok(await e.run(['db', 'url', '--with-password']), 'db url').stdout.trim();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM schema_migrations');
    assert.equal(rows[0].n, readMigrations().length);
  } finally {
    await client.end();
  }
  ok(await e.run(['db', 'stop']), 'db stop');
  assert.equal((await e.status()).running, false);
});

test('two setups started together on a fresh embedded dir both succeed, without a double start', async () => {
  const e = await embedded();
  const [a, b] = await Promise.all([e.run(['setup', '--json']), e.run(['setup', '--json'])]);
  ok(a, 'first setup');
  ok(b, 'second setup');
  const results = [a, b].map((r) => JSON.parse(r.stdout) as { applied: string[]; upToDate: boolean });
  // The schema was created exactly once: one of them applied everything, the other found it done.
  const appliers = results.filter((r) => r.applied.length > 0);
  assert.equal(appliers.length, 1, JSON.stringify(results));
  assert.deepEqual(appliers[0].applied, readMigrations().map((m) => m.name));
  assert.equal(results.filter((r) => r.upToDate).length, 1);

  const s = await e.status();
  assert.equal(s.running, false, 'the last command out stops the server');
  assert.equal(s.keptRunning, false);

  // No second postmaster was ever attempted on the same data directory.
  const log = fs.readFileSync(path.join(e.dir, 'data', 'postmaster.log'), 'utf8');
  assert.doesNotMatch(log, /lock file .* already exists|another server might be running|could not bind/i);
  assert.ok(!fs.existsSync(path.join(e.dir, 'lock')), 'the directory lock was released');
});

test('a command on a kept server does not stop it even while another command runs concurrently', async () => {
  const e = await embedded();
  ok(await e.run(['db', 'start']), 'db start');
  const results = await Promise.all([e.run(['setup']), e.run(['setup']), e.run(['db', 'status', '--json'])]);
  results.forEach((r, i) => ok(r, `command ${i}`));
  assert.equal((await e.status()).running, true);
  ok(await e.run(['db', 'stop']), 'db stop');
});
