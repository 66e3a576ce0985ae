/**
 * Passwords never reach the output. The real CLI runs setup, ingest, status, --dump-config and a short
 * `live` with -v against a database role and a broker user that have recognisable passwords, given through
 * TESSDB_DATABASE_URL, database.password_file, mqtt.password_file and TESSDB_MQTT_PASSWORD; connection
 * failures (closed port, unknown host, wrong password) are reported without them. A password on the command
 * line is refused, and so are password files (and config files holding a password) that others can read.
 * The pure parts (masking, file modes) are in test/config/secrets.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { BIN, runCli, type CliResult } from '../helpers/cli.js';
import { freshDatabase, onServer, type TestDatabase } from '../helpers/db.js';
import { readingLines, registerLine, writeArchive } from '../ingest/helpers.js';
import { publish, readingCount, readingPayload, registerPayload, removeDir, uniqueId, waitFor } from '../live/helpers.js';
import { connectClient, startSecureBroker, type SecureBroker } from './brokers.js';
import { worldDir } from './pg-server.js';

const tag = crypto.randomBytes(4).toString('hex');
const DB_PASSWORD = `Db-Secret-${tag}-p@ss:w/rd?`;
const MQTT_PASSWORD = `Mqtt-Secret-${tag}-#pw&`;
const WRONG_PASSWORD = `Wrong-Secret-${tag}`;
const role = `secpw_${tag}`;
const SECRETS = [DB_PASSWORD, MQTT_PASSWORD, WRONG_PASSWORD];

let db: TestDatabase;
let dbName: string;
let broker: SecureBroker;
let dir: string;
let archive: string;
/** The role's URL with its password (for the environment only). */
let roleUrl: string;
/** The same without the password. */
let bareUrl: string;
let dbPasswordFile: string;
let mqttPasswordFile: string;

/** The text does not contain any secret, raw or percent-encoded. */
function assertNoSecret(what: string, ...texts: string[]): void {
  for (const text of texts) {
    for (const secret of SECRETS) {
      for (const form of [secret, encodeURIComponent(secret), secret.slice(0, 16)]) {
        assert.ok(!text.includes(form), `${what} shows a password (${form}):\n${text}`);
      }
    }
  }
}

function checked(what: string, r: CliResult, code = 0): CliResult {
  assertNoSecret(what, r.stdout, r.stderr);
  assert.equal(r.code, code, `${what}: exit ${r.code}\n${r.stderr}`);
  return r;
}

function privateFile(name: string, content: string, mode = 0o600): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  fs.chmodSync(file, mode);
  return file;
}

function tessdb(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: { XDG_CONFIG_HOME: path.join(dir, 'no-config'), ...env } });
}


before(async () => {
  dir = worldDir('secrets');
  db = await freshDatabase('secpw');
  dbName = new URL(db.url).pathname.slice(1);
  await onServer(async (c) => {
    await c.query(`CREATE ROLE ${c.escapeIdentifier(role)} LOGIN PASSWORD ${c.escapeLiteral(DB_PASSWORD)}`);
    await c.query(`ALTER DATABASE ${c.escapeIdentifier(dbName)} OWNER TO ${c.escapeIdentifier(role)}`);
  });
  const u = new URL(db.url);
  u.username = role;
  u.password = '';
  bareUrl = u.toString();
  u.password = encodeURIComponent(DB_PASSWORD);
  roleUrl = u.toString();
  dbPasswordFile = privateFile('db-password', `${DB_PASSWORD}\n`);
  mqttPasswordFile = privateFile('mqtt-password', `${MQTT_PASSWORD}\n`);
  broker = await startSecureBroker({ users: { tessdb: MQTT_PASSWORD } });
  archive = writeArchive(path.join(dir, 'a.ndjson.gz'), [
    registerLine('stars1', 'AA:BB:CC:00:00:01', '2026-11-01T00:00:00.000Z'),
    ...readingLines('stars1', '2026-11-01T00:01:00', 3),
  ]);
});

after(async () => {
  await broker?.stop();
  await db?.drop();
  await onServer((c) => c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`));
  if (dir) removeDir(dir);
});

describe('the database password', () => {
  it('from TESSDB_DATABASE_URL: setup, ingest, status and --dump-config never show it', async () => {
    const env = { TESSDB_DATABASE_URL: roleUrl };
    checked('setup -v', await tessdb(['setup', '-v'], env));
    checked('ingest -v', await tessdb(['ingest', '-v', '--file', archive], env));
    const status = checked('status -v', await tessdb(['status', '-v'], env));
    assert.match(status.stdout, /readings: 3/);
    checked('status --json', await tessdb(['status', '--json'], env));
    const dump = checked('--dump-config', await tessdb(['status', '--dump-config'], env));
    assert.match(dump.stdout, new RegExp(`url = "postgres://${role}:\\*\\*\\*@`));
  });

  it('from database.password_file, with a URL or with host/port/user/dbname: used, never shown', async () => {
    const withUrl = { TESSDB_DATABASE_URL: bareUrl };
    checked('setup -v (URL + password_file)', await tessdb(['setup', '-v', `database.password_file=${dbPasswordFile}`], withUrl));
    const u = new URL(db.url);
    const fields = [`database.host=${u.hostname}`, `database.port=${u.port || 5432}`, `database.user=${role}`, `database.dbname=${dbName}`];
    checked('status -v (fields + password_file)', await tessdb(['status', '-v', ...fields, `database.password_file=${dbPasswordFile}`]));
    const dump = checked('--dump-config', await tessdb(['status', '--dump-config', ...fields, `database.password_file=${dbPasswordFile}`]));
    assert.match(dump.stdout, /password_file = ".*db-password"/);
  });

  it('connection failures name the target without the password', async () => {
    const closed = new URL(roleUrl);
    closed.port = '1';
    const unknown = new URL(roleUrl);
    unknown.hostname = 'no-such-host.invalid';
    const wrong = new URL(roleUrl);
    wrong.password = encodeURIComponent(WRONG_PASSWORD);
    // A server with trust authentication (the shared machine PostgreSQL) accepts any password.
    const probe = new pg.Client({ connectionString: wrong.toString() });
    const checksPasswords = await probe.connect().then(
      () => false,
      () => true,
    );
    await probe.end().catch(() => undefined);
    const cases: [string, URL][] = [['closed port', closed], ['unknown host', unknown]];
    if (checksPasswords) cases.push(['wrong password', wrong]);
    for (const [what, url] of cases) {
      const r = checked(`status (${what})`, await tessdb(['status', '-v'], { TESSDB_DATABASE_URL: url.toString(), TESSDB_DEBUG: '1' }), 1);
      assert.match(r.stderr, /^tessdb: cannot connect to postgres:\/\/secpw_\w+:\*\*\*@/m, r.stderr);
    }
    const r = checked('status (password_file, closed port)', await tessdb(['status', 'database.host=127.0.0.1', 'database.port=1', `database.user=${role}`, `database.password_file=${dbPasswordFile}`]), 1);
    assert.match(r.stderr, /ECONNREFUSED/);
  });

  it('is refused on the command line, and from files others can read', async () => {
    const cli = checked('setup database.url=…', await tessdb(['setup', `database.url=${roleUrl}`]), 1);
    assert.match(cli.stderr, /database\.url: passwords are not accepted on the command line/);
    checked('a URL as a bare argument', await tessdb(['setup', roleUrl]), 2);
    const open = privateFile('db-password-open', `${DB_PASSWORD}\n`, 0o640);
    const r = checked('open password file', await tessdb(['setup', `database.password_file=${open}`], { TESSDB_DATABASE_URL: bareUrl }), 1);
    assert.match(r.stderr, /database\.password_file: password file .* is readable by group or others \(chmod 600/);
    const conf = privateFile('open.toml', `[database]\nurl = ${JSON.stringify(roleUrl)}\n`, 0o644);
    const c = checked('open config file with a password', await tessdb(['setup', '-c', conf]), 1);
    assert.match(c.stderr, /database\.url contains a password but the file is readable by group or others/);
    fs.chmodSync(conf, 0o600);
    checked('private config file with a password', await tessdb(['status', '-c', conf]));
  });
});

describe('the broker password', () => {
  function liveConfig(name: string, mqtt: string[], prefix: string): string {
    const lines = [
      `host = "sec-${tag}"`,
      '[database]',
      `password_file = ${JSON.stringify(dbPasswordFile)}`,
      '[archive]',
      `dir = ${JSON.stringify(path.join(dir, `archive-${name}`))}`,
      'flush_ms = 100',
      '[mqtt]',
      `url = ${JSON.stringify(broker.url)}`,
      `client_id = "${uniqueId('tessdb-sec-')}"`,
      'username = "tessdb"',
      `topics = ["${prefix}/+/reading", "${prefix}/register"]`,
      `topic_prefix = "${prefix}"`,
      `protocol_version = ${broker.protocolVersion}`,
      'reconnect_ms = 200',
      ...mqtt,
      '[live]',
      'batch_ms = 100',
      'stats_s = 1',
    ];
    return privateFile(`${name}.toml`, lines.join('\n') + '\n');
  }

  /** `tessdb live -v` until `until` holds (or 30 s), then SIGTERM; everything it printed. */
  async function live(file: string, env: NodeJS.ProcessEnv, until: (stderr: string) => Promise<boolean> | boolean): Promise<CliResult> {
    const child = spawn(process.execPath, [BIN, 'live', '-v', '-c', file], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, XDG_CONFIG_HOME: path.join(dir, 'no-config'), TESSDB_DATABASE_URL: bareUrl, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    try {
      await waitFor(() => `live (stderr: ${stderr})`, () => until(stderr), 30_000);
    } finally {
      child.kill('SIGTERM');
    }
    return { code: await exited, stdout, stderr };
  }

  it('from mqtt.password_file and from TESSDB_MQTT_PASSWORD: live connects, loads, and never shows it', async () => {
    const prefix = `S${tag}a`;
    const file = liveConfig('pwfile', [`password_file = ${JSON.stringify(mqttPasswordFile)}`], prefix);
    const before = await readingCount(db.pool);
    let published = false;
    const r = await live(file, {}, async (err) => {
      if (!/MQTT subscribed/.test(err)) return false;
      if (!published) {
        published = true;
        const pub = await connectClient(broker, { username: 'tessdb', password: MQTT_PASSWORD });
        await publish(pub, `${prefix}/register`, registerPayload('stars9', 99));
        // Timed safely after the registration (tstamps are whole seconds).
        await publish(pub, `${prefix}/stars9/reading`, readingPayload('stars9', 1, Date.now() + 3000));
        pub.end();
      }
      return (await readingCount(db.pool)) > before && /stats: .*loaded [1-9]/.test(err);
    });
    checked('live -v (password files)', r);
    assert.match(r.stderr, /MQTT connected to mqtt:\/\/127\.0\.0\.1/);

    const envFile = liveConfig('pwenv', [], `S${tag}b`);
    checked('live -v (TESSDB_MQTT_PASSWORD)', await live(envFile, { TESSDB_MQTT_PASSWORD: MQTT_PASSWORD }, (err) => /MQTT subscribed/.test(err)));
  });

  it('a wrong broker password is reported without it; an open mqtt.password_file is refused', async () => {
    const wrongFile = privateFile('mqtt-wrong', WRONG_PASSWORD);
    const file = liveConfig('wrong', [`password_file = ${JSON.stringify(wrongFile)}`], `S${tag}c`);
    const r = checked('live -v (wrong password)', await live(file, {}, (err) => /MQTT: /.test(err)));
    assert.match(r.stderr, /MQTT: .*(Not authorized|Bad username or password|bad username or password)/i);

    const open = privateFile('mqtt-open', MQTT_PASSWORD, 0o604);
    const openFile = liveConfig('open', [`password_file = ${JSON.stringify(open)}`], `S${tag}d`);
    const o = checked('live (open password file)', await tessdb(['live', '-c', openFile], { TESSDB_DATABASE_URL: bareUrl }), 1);
    assert.match(o.stderr, /mqtt\.password_file: password file .* is readable by group or others/);
    const cli = checked('live mqtt.url=…', await tessdb(['live', `mqtt.url=mqtt://tessdb:${encodeURIComponent(MQTT_PASSWORD)}@127.0.0.1:1883`]), 1);
    assert.match(cli.stderr, /mqtt\.url: passwords are not accepted on the command line/);
  });
});
