/** loadConfig: files < environment < overrides, deep merge, typing of overrides, and its error messages. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'smol-toml';
import { dumpConfig, loadConfig, type Config } from '../../src/config/index.js';
import { configFiles, overridesLayer } from '../../src/config/sources.js';
import { UserError } from '../../src/util/errors.js';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-config-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** Write a TOML file into the test directory and return its path. */
function toml(text: string, name = `c${++n}.toml`): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** loadConfig with explicit files and a controlled environment (never the developer's own). */
function load(files: string[], opts: { env?: NodeJS.ProcessEnv; overrides?: string[] } = {}): Config {
  return loadConfig({ files, env: opts.env ?? {}, overrides: opts.overrides }).config;
}

/** The UserError message thrown by fn (fails when fn does not throw a UserError). */
function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `error should be one line: ${err.message}`);
    return err.message;
  }
  assert.fail('expected an error');
}

describe('defaults', () => {
  test('an empty file gives every default', () => {
    const c = load([toml('')]);
    assert.equal(c.host, os.hostname());
    assert.equal(c.database.port, 5432);
    assert.equal(c.database.schema, 'public');
    assert.equal(c.database.embedded_port, 5433);
    assert.equal(c.archive.rotate, 'hourly');
    assert.deepEqual(c.mqtt.topics, ['STARS4ALL/+/reading', 'STARS4ALL/register']);
    assert.equal(c.registry.require_authorisation, false);
    assert.equal(c.ingest.jobs, 1);
  });

  test('loading never mutates the defaults of a later load', () => {
    load([toml('data_dirs = ["/a"]\n[mqtt]\ntopics = ["x"]\n')]);
    const c = load([toml('')]);
    assert.deepEqual(c.data_dirs, []);
    assert.deepEqual(c.mqtt.topics, ['STARS4ALL/+/reading', 'STARS4ALL/register']);
  });
});

describe('precedence: files < environment < overrides', () => {
  test('each later source wins over the earlier ones, key by key', () => {
    const file = toml('[database]\nhost = "filehost"\nport = 1111\nuser = "fileuser"\ndbname = "filedb"\n');
    const env = { PGHOST: 'envhost', PGPORT: '2222', PGUSER: 'envuser' };
    const c = load([file], { env, overrides: ['database.port=3333'] });
    assert.equal(c.database.dbname, 'filedb'); // file only
    assert.equal(c.database.user, 'envuser'); // env over file
    assert.equal(c.database.host, 'envhost');
    assert.equal(c.database.port, 3333); // override over env over file
  });

  test('environment variables map to their keys', () => {
    const c = load([toml('')], {
      env: {
        TESSDB_DATABASE_URL: 'postgres://u@h/d',
        PGHOST: 'h',
        PGPORT: '6543',
        PGUSER: 'u',
        PGDATABASE: 'd',
        PGSSLMODE: 'require',
        TESSDB_MQTT_URL: 'mqtt://broker:1883',
        TESSDB_HOST: 'aoc',
      },
    });
    assert.equal(c.database.url, 'postgres://u@h/d');
    assert.equal(c.database.host, 'h');
    assert.equal(c.database.port, 6543);
    assert.equal(c.database.user, 'u');
    assert.equal(c.database.dbname, 'd');
    assert.equal(c.database.sslmode, 'require');
    assert.equal(c.mqtt.url, 'mqtt://broker:1883');
    assert.equal(c.host, 'aoc');
  });

  test('PGPASSWORD is never copied into the configuration', () => {
    const c = load([toml('')], { env: { PGPASSWORD: 'hunter2' } });
    assert.ok(!JSON.stringify(c).includes('hunter2'));
  });

  test('an invalid environment value names the environment', () => {
    const msg = userError(() => load([toml('')], { env: { PGSSLMODE: 'sometimes' } }));
    assert.match(msg, /^environment: /);
    assert.match(msg, /database\.sslmode/);
  });

  test('an override wins over the environment for the same key', () => {
    const c = load([toml('')], { env: { TESSDB_HOST: 'envhost' }, overrides: ['host=cli'] });
    assert.equal(c.host, 'cli');
  });
});

describe('several files', () => {
  test('with repeated -c, the later file wins', () => {
    const a = toml('host = "a"\n[database]\nport = 1\n');
    const b = toml('host = "b"\n[database]\nport = 2\n');
    assert.equal(load([a, b]).host, 'b');
    assert.equal(load([a, b]).database.port, 2);
    assert.equal(load([b, a]).host, 'a');
    assert.equal(load([b, a]).database.port, 1);
  });

  test('tables are merged key by key', () => {
    const a = toml('[database]\nhost = "h1"\nport = 1\n[archive]\ndir = "/arch"\n');
    const b = toml('[database]\nport = 2\n');
    const c = load([a, b]);
    assert.equal(c.database.host, 'h1');
    assert.equal(c.database.port, 2);
    assert.equal(c.archive.dir, '/arch');
  });

  test('arrays are replaced, not concatenated', () => {
    const a = toml('data_dirs = ["/x", "/y"]\n[mqtt]\ntopics = ["a/#", "b/#"]\n');
    const b = toml('data_dirs = ["/z"]\n');
    const c = load([a, b]);
    assert.deepEqual(c.data_dirs, ['/z']);
    assert.deepEqual(c.mqtt.topics, ['a/#', 'b/#']);
    assert.deepEqual(load([a], { overrides: ['mqtt.topics=["c/#"]'] }).mqtt.topics, ['c/#']);
  });

  test('an empty array in a later file empties the list', () => {
    const c = load([toml('data_dirs = ["/x"]\n'), toml('data_dirs = []\n')]);
    assert.deepEqual(c.data_dirs, []);
  });
});

describe('file lookup', () => {
  test('-c files are used as given, in order, and nothing else is looked up', () => {
    const xdg = path.join(dir, 'xdg-explicit');
    toml('host = "xdg"\n', 'xdg-explicit/tessdb/config.toml');
    const a = toml('');
    assert.deepEqual(configFiles([a], { XDG_CONFIG_HOME: xdg }), [a]);
  });

  test('without -c, $XDG_CONFIG_HOME/tessdb/config.toml is found', { skip: fs.existsSync('tessdb.toml') }, () => {
    const xdg = path.join(dir, 'xdg');
    const file = toml('host = "from-xdg"\n', 'xdg/tessdb/config.toml');
    assert.deepEqual(configFiles([], { XDG_CONFIG_HOME: xdg }), [file]);
    assert.equal(loadConfig({ env: { XDG_CONFIG_HOME: xdg } }).config.host, 'from-xdg');
  });

  test('./tessdb.toml comes before $XDG_CONFIG_HOME', () => {
    const cwd = path.join(dir, 'cwd');
    toml('host = "from-cwd"\n', 'cwd/tessdb.toml');
    const xdg = path.join(dir, 'xdg2');
    toml('host = "from-xdg"\n', 'xdg2/tessdb/config.toml');
    const previous = process.cwd();
    process.chdir(cwd);
    try {
      assert.deepEqual(configFiles([], { XDG_CONFIG_HOME: xdg }), ['tessdb.toml']);
      assert.equal(loadConfig({ env: { XDG_CONFIG_HOME: xdg } }).config.host, 'from-cwd');
    } finally {
      process.chdir(previous);
    }
  });
});

describe('overrides', () => {
  test('values are typed as TOML when they parse, strings otherwise', () => {
    const { values } = overridesLayer([
      'database.port=5432',
      'x=abc',
      'registry.require_authorisation=true',
      'data_dirs=["/a", "/b"]',
      'database.dbname="2024"',
      'database.schema=My Schema',
      'archive.dir=/srv/tess/archive',
      'empty=',
    ]);
    assert.equal((values.database as Record<string, unknown>).port, 5432);
    assert.equal(typeof (values.database as Record<string, unknown>).port, 'number');
    assert.equal(values.x, 'abc');
    assert.equal((values.registry as Record<string, unknown>).require_authorisation, true);
    assert.deepEqual(values.data_dirs, ['/a', '/b']);
    assert.equal((values.database as Record<string, unknown>).dbname, '2024');
    assert.equal((values.database as Record<string, unknown>).schema, 'My Schema');
    assert.equal((values.archive as Record<string, unknown>).dir, '/srv/tess/archive');
    assert.equal(values.empty, '');
  });

  test('a key the schema declares a string keeps number-, boolean- and date-like text as text', () => {
    const { values } = overridesLayer(['database.dbname=2024', 'database.user=true', 'host=1979-05-27', 'database.port=2024']);
    const database = values.database as Record<string, unknown>;
    assert.equal(database.dbname, '2024');
    assert.equal(database.user, 'true');
    assert.equal(values.host, '1979-05-27');
    assert.equal(database.port, 2024);
    const c = load([toml('')], { overrides: ['database.dbname=2024', 'database.schema=1'] });
    assert.equal(c.database.dbname, '2024');
    assert.equal(c.database.schema, '1');
  });

  test('typed overrides reach the configuration', () => {
    const c = load([toml('')], { overrides: ['database.port=6000', 'database.host=aoc', 'registry.require_authorisation=true'] });
    assert.equal(c.database.port, 6000);
    assert.equal(c.database.host, 'aoc');
    assert.equal(c.registry.require_authorisation, true);
  });

  test('a value containing "=" keeps everything after the first "="', () => {
    const c = load([toml('')], { overrides: ['database.url=postgres://u@h/d?options=-c%20x=1'] });
    assert.equal(c.database.url, 'postgres://u@h/d?options=-c%20x=1');
  });

  test('malformed overrides are usage errors (exit code 2)', () => {
    for (const bad of ['database.port', '=5', 'database..port=1', '1abc=2']) {
      try {
        overridesLayer([bad]);
        assert.fail(`accepted ${bad}`);
      } catch (err) {
        assert.ok(err instanceof UserError);
        assert.equal(err.exitCode, 2, bad);
        assert.ok(err.message.includes(bad), err.message);
      }
    }
  });

  test('an unknown override key names the command line and suggests the right key', () => {
    const msg = userError(() => load([toml('')], { overrides: ['database.prot=5432'] }));
    assert.match(msg, /^command line: /);
    assert.match(msg, /unknown key "database\.prot"/);
    assert.match(msg, /did you mean "database\.port"\?/);
  });

  test('a wrongly typed override names the key and the command line', () => {
    const msg = userError(() => load([toml('')], { overrides: ['database.port=abc'] }));
    assert.match(msg, /^command line: key "database\.port" must be integer/);
  });
});

describe('errors', () => {
  test('an unknown key names the key, the file and a suggestion', () => {
    const file = toml('[database]\nhost = "h"\nprot = 5432\n');
    const msg = userError(() => load([file]));
    assert.ok(msg.startsWith(`${file}: `), msg);
    assert.match(msg, /unknown key "database\.prot" \(did you mean "database\.port"\?\)/);
  });

  test('an unknown top-level table is suggested the right one', () => {
    const file = toml('[databse]\nport = 1\n');
    const msg = userError(() => load([file]));
    assert.ok(msg.startsWith(`${file}: `), msg);
    assert.match(msg, /unknown key "databse" \(did you mean "database"\?\)/);
  });

  test('an unknown key with nothing close gets no suggestion', () => {
    const msg = userError(() => load([toml('[mqtt]\nzzzzzzzzzzzz = 1\n')]));
    assert.match(msg, /unknown key "mqtt\.zzzzzzzzzzzz"$/);
  });

  test('the error names the file that set the key, not the last file read', () => {
    const a = toml('[database]\nprot = 1\n');
    const b = toml('[database]\nport = 2\n');
    const msg = userError(() => load([a, b]));
    assert.ok(msg.startsWith(`${a}: `), msg);
  });

  test('a wrong type names the key and the file', () => {
    const file = toml('[database]\nport = "5432"\n');
    const msg = userError(() => load([file]));
    assert.equal(msg, `${file}: key "database.port" must be integer`);
  });

  test('a wrongly typed array item names the key and the file', () => {
    const file = toml('data_dirs = ["/ok", 2]\n');
    const msg = userError(() => load([file]));
    assert.ok(msg.startsWith(`${file}: `), msg);
    assert.match(msg, /data_dirs\[1\]/);
  });

  test('a value out of range names the key and the file', () => {
    const file = toml('[database]\nport = 70000\n');
    const msg = userError(() => load([file]));
    assert.ok(msg.startsWith(`${file}: key "database.port"`), msg);
  });

  test('a value outside an enum lists the allowed values', () => {
    const file = toml('[archive]\nrotate = "weekly"\n');
    const msg = userError(() => load([file]));
    assert.ok(msg.startsWith(`${file}: key "archive.rotate"`), msg);
    assert.match(msg, /"hourly", "daily"/);
  });

  test('a missing file is named', () => {
    const missing = path.join(dir, 'missing.toml');
    const msg = userError(() => load([missing]));
    assert.equal(msg, `config file ${missing}: not found`);
  });

  test('invalid TOML names the file, line and column', () => {
    const file = toml('host = "ok"\n[database]\nport = = 5\n');
    const msg = userError(() => load([file]));
    assert.match(msg, new RegExp(`^config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: `));
  });
});

describe('secrets', () => {
  test('a database URL with a password is refused on the command line', () => {
    const msg = userError(() => load([toml('')], { overrides: ['database.url=postgres://u:secret@h/d'] }));
    assert.match(msg, /database\.url/);
    assert.match(msg, /command line/);
    assert.ok(!msg.includes('secret'), 'the password must not be echoed');
  });

  test('an MQTT URL with a password is refused on the command line', () => {
    const msg = userError(() => load([toml('')], { overrides: ['mqtt.url=mqtts://u:secret@broker:8883'] }));
    assert.match(msg, /mqtt\.url/);
  });

  test('a password smuggled in an inline-table override is refused too', () => {
    userError(() => load([toml('')], { overrides: ['database={url="postgres://u:secret@h/d"}'] }));
  });

  test('a password given as a ?password= URL parameter is refused on the command line too', () => {
    const msg = userError(() => load([toml('')], { overrides: ['database.url=postgres://u@h/d?sslmode=require&password=secret'] }));
    assert.match(msg, /database\.url/);
    assert.ok(!msg.includes('secret'));
  });

  test('URLs without a password are accepted on the command line', () => {
    const c = load([toml('')], { overrides: ['database.url=postgres://u@h/d', 'mqtt.url=mqtt://broker:1883'] });
    assert.equal(c.database.url, 'postgres://u@h/d');
  });

  test('URLs with passwords are accepted from files and the environment', () => {
    const file = toml('[mqtt]\nurl = "mqtt://u:p1@broker"\n');
    fs.chmodSync(file, 0o600); // a file holding a password must be private (test/config/secrets.test.ts)
    const c = load([file], { env: { TESSDB_DATABASE_URL: 'postgres://u:p2@h/d' } });
    assert.equal(c.mqtt.url, 'mqtt://u:p1@broker');
    assert.equal(c.database.url, 'postgres://u:p2@h/d');
  });

  test('dumpConfig masks URL passwords and keeps the rest readable', () => {
    const file = toml('[mqtt]\nurl = "mqtts://user:mqttpass@broker:8883"\n');
    fs.chmodSync(file, 0o600);
    const c = load([file], {
      env: { TESSDB_DATABASE_URL: 'postgres://tess:s3cr%40t@db.example.org:5432/tessdb?sslmode=require' },
      overrides: ['database.port=6000'],
    });
    const out = dumpConfig(c);
    assert.ok(!out.includes('s3cr'), out);
    assert.ok(!out.includes('mqttpass'), out);
    const dumped = parse(out) as unknown as Config;
    assert.equal(dumped.database.url, 'postgres://tess:***@db.example.org:5432/tessdb?sslmode=require');
    assert.equal(dumped.mqtt.url, 'mqtts://user:***@broker:8883');
    assert.equal(dumped.database.port, 6000);
    assert.deepEqual(dumped.mqtt.topics, c.mqtt.topics);
    assert.equal(c.database.url.includes('s3cr'), true, 'dumpConfig must not modify the configuration');
  });

  test('dumpConfig masks a ?password= URL parameter', () => {
    const c = load([toml('')], { env: { TESSDB_DATABASE_URL: 'postgres://u@h/d?password=s3cret&sslmode=require' } });
    const dumped = parse(dumpConfig(c)) as unknown as Config;
    assert.equal(dumped.database.url, 'postgres://u@h/d?password=***&sslmode=require');
  });

  test('dumpConfig output is a configuration that loads back', () => {
    const c = load([toml('data_dirs = ["/a"]\n[database]\nschema = "tess"\n')]);
    const again = load([toml(dumpConfig(c))]);
    assert.deepEqual(again, c);
  });
});
