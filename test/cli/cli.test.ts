/** The real `tessdb` binary: help, version, exit codes and one-line errors, --dump-config. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'smol-toml';
import { ROOT, runCli, type CliResult } from '../helpers/cli.js';

let dir: string;
/** Run with a working directory and config home of our own, so no developer configuration is read. */
let run: (args: string[], env?: NodeJS.ProcessEnv) => Promise<CliResult>;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-cli-'));
  fs.mkdirSync(path.join(dir, 'xdg'));
  run = (args, env = {}) => runCli(args, { cwd: dir, env: { XDG_CONFIG_HOME: path.join(dir, 'xdg'), ...env } });
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** stderr holds exactly one non-empty line, which is returned. */
function oneLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  return lines[0];
}

test('--help lists every command', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const cmd of ['setup', 'inventory', 'ingest', 'backfill', 'live', 'db', 'status']) {
    assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), `--help does not list ${cmd}:\n${r.stdout}`);
  }
});

test('db --help lists start, stop, status and url', async () => {
  const r = await run(['db', '--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const cmd of ['start', 'stop', 'status', 'url']) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'));
});

test('setup --help shows the common options and overrides', async () => {
  const r = await run(['setup', '--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const opt of ['--config', '--dump-config', '--json', 'overrides']) assert.ok(r.stdout.includes(opt), opt);
});

test('--version prints the package version', async () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await run([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  }
});

test('setup -c missing.toml: exit 1, one line naming the file', async () => {
  const r = await run(['setup', '-c', 'missing.toml']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(oneLine(r), 'tessdb: config file missing.toml: not found');
  assert.equal(r.stdout, '');
});

test('a configuration file with an unknown key: exit 1, one clear line', async () => {
  const file = write('unknown.toml', '[database]\nprot = 5432\n');
  const r = await run(['setup', '-c', file]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(oneLine(r), `tessdb: ${file}: unknown key "database.prot" (did you mean "database.port"?)`);
});

test('a configuration file with a wrongly typed value: exit 1, one line naming key and file', async () => {
  const file = write('wrongtype.toml', '[database]\nport = "high"\n');
  const r = await run(['setup', '-c', file]);
  assert.equal(r.code, 1, r.stderr);
  const line = oneLine(r);
  assert.ok(line.includes(file) && line.includes('database.port'), line);
});

test('invalid TOML: exit 1, one line with file and line number', async () => {
  const file = write('broken.toml', 'host = "x"\nport = [\n');
  const r = await run(['setup', '-c', file]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneLine(r), new RegExp(`^tessdb: config file .*broken\\.toml:\\d+:\\d+: `));
});

test('an unknown override key on the command line: exit 1, one line', async () => {
  const r = await run(['setup', 'database.prot=5432']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneLine(r), /^tessdb: command line: unknown key "database\.prot" \(did you mean "database\.port"\?\)$/);
});

test('a password on the command line is refused without echoing it', async () => {
  const r = await run(['setup', 'database.url=postgres://u:hunter2@localhost/db']);
  assert.equal(r.code, 1, r.stderr);
  const line = oneLine(r);
  assert.match(line, /database\.url/);
  assert.ok(!line.includes('hunter2'), line);
});

test('a malformed override is a usage error: exit 2', async () => {
  const r = await run(['setup', 'database.port']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(oneLine(r), /expected key=value/);
});

test('an unknown command: exit 2', async () => {
  const r = await run(['frobnicate']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown command/);
  assert.equal(r.stdout, '');
});

test('an unknown option: exit 2', async () => {
  const r = await run(['setup', '--no-such-option']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown option/);
});

test('--dump-config prints the merged TOML with the URL password masked', async () => {
  const file = write('dump.toml', 'data_dirs = ["/srv/tess"]\n[database]\nschema = "tess"\n');
  const r = await run(['setup', '--dump-config', '-c', file, 'database.port=6543'], {
    TESSDB_DATABASE_URL: 'postgres://tess:Sup3rSecret@db.example.org:5432/tessdb',
    TESSDB_MQTT_URL: 'mqtts://live:MqttSecret@broker.example.org:8883',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes('Sup3rSecret'), r.stdout);
  assert.ok(!r.stdout.includes('MqttSecret'), r.stdout);
  assert.ok(!r.stderr.includes('Sup3rSecret'), r.stderr);
  const dumped = parse(r.stdout) as {
    data_dirs: string[];
    database: { url: string; port: number; schema: string };
    mqtt: { url: string };
  };
  assert.equal(dumped.database.url, 'postgres://tess:***@db.example.org:5432/tessdb');
  assert.equal(dumped.mqtt.url, 'mqtts://live:***@broker.example.org:8883');
  assert.equal(dumped.database.port, 6543);
  assert.equal(dumped.database.schema, 'tess');
  assert.deepEqual(dumped.data_dirs, ['/srv/tess']);
});

test('--dump-config does not connect to the database', async () => {
  // Nothing listens there; dumping must still succeed at once.
  const r = await run(['setup', '--dump-config'], { TESSDB_DATABASE_URL: 'postgres://u:p@127.0.0.1:1/none' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\[database\]$/m);
});

test('./tessdb.toml in the working directory is read when no -c is given', async () => {
  const cwd = fs.mkdtempSync(path.join(dir, 'cwd-'));
  fs.writeFileSync(path.join(cwd, 'tessdb.toml'), 'host = "from-cwd"\n');
  const r = await runCli(['setup', '--dump-config'], { cwd, env: { XDG_CONFIG_HOME: path.join(dir, 'xdg') } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((parse(r.stdout) as { host: string }).host, 'from-cwd');
});
