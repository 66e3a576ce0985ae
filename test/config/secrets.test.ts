/** Password files, URL masking and the connection settings built from them. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { loadConfig, maskUrl, readPasswordFile } from '../../src/config/index.js';
import { urlHasPassword } from '../../src/config/secrets.js';
import { clientConfig, searchPathValue } from '../../src/db/connection.js';
import { UserError } from '../../src/util/errors.js';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-secrets-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function passwordFile(name: string, content: string, mode: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  fs.chmodSync(file, mode); // explicit: writeFileSync's mode is filtered by the umask
  return file;
}

test('a 0600 password file is read, without its trailing newline', () => {
  const file = passwordFile('ok', 'correct horse\n', 0o600);
  assert.equal(readPasswordFile(file, 'database.password_file'), 'correct horse');
});

test('a 0400 password file is read', () => {
  const file = passwordFile('ro', 'pw\r\n', 0o400);
  assert.equal(readPasswordFile(file, 'database.password_file'), 'pw');
});

for (const mode of [0o640, 0o604, 0o644, 0o660, 0o666]) {
  test(`a password file with mode ${mode.toString(8)} is refused, naming key and file`, () => {
    const file = passwordFile(`bad-${mode.toString(8)}`, 'pw\n', mode);
    assert.throws(
      () => readPasswordFile(file, 'database.password_file'),
      (err: unknown) =>
        err instanceof UserError &&
        err.message.startsWith('database.password_file: ') &&
        err.message.includes(file) &&
        err.message.includes('chmod 600') &&
        !err.message.includes('pw'),
    );
  });
}

test('a missing password file is named', () => {
  const file = path.join(dir, 'nope');
  assert.throws(() => readPasswordFile(file, 'mqtt.password_file'), /^UserError: mqtt\.password_file: password file .*nope not found$/);
});

test('database.password_file feeds the connection password', () => {
  const file = passwordFile('db', 's3cret\n', 0o600);
  const { config } = loadConfig({ files: [], env: { XDG_CONFIG_HOME: dir }, overrides: ['database.host=dbhost', `database.password_file=${file}`] });
  const settings = clientConfig(config);
  assert.equal(settings.password, 's3cret');
  assert.equal(settings.host, 'dbhost');
  assert.equal(settings.port, 5432);
});

test('a group-readable database.password_file is refused when connecting', () => {
  const file = passwordFile('db-open', 's3cret\n', 0o644);
  const { config } = loadConfig({ files: [], env: { XDG_CONFIG_HOME: dir }, overrides: ['database.host=dbhost', `database.password_file=${file}`] });
  assert.throws(() => clientConfig(config), /database\.password_file: .*readable by group or others/);
});

test('maskUrl hides only the password', () => {
  assert.equal(maskUrl('postgres://tess:pw@h:5432/db'), 'postgres://tess:***@h:5432/db');
  assert.equal(maskUrl('postgres://tess@h/db'), 'postgres://tess@h/db');
  assert.equal(maskUrl('mqtts://u:p%40ss@broker:8883'), 'mqtts://u:***@broker:8883');
  assert.equal(maskUrl('postgres://h/db'), 'postgres://h/db');
  assert.ok(!maskUrl('not a url //user:pw@host').includes(':pw@'));
  assert.equal(maskUrl('postgres://h/db?password=pw'), 'postgres://h/db?password=***');
  assert.equal(maskUrl('postgres://u:a@h/db?sslpassword=b&application_name=x'), 'postgres://u:***@h/db?sslpassword=***&application_name=x');
});

test('urlHasPassword', () => {
  assert.equal(urlHasPassword('postgres://u:p@h/d'), true);
  assert.equal(urlHasPassword('postgres://u@h/d'), false);
  assert.equal(urlHasPassword('postgres://h/d'), false);
  assert.equal(urlHasPassword('mqtt://u:p@broker'), true);
  assert.equal(urlHasPassword('postgres://h/d?password=p'), true);
  assert.equal(urlHasPassword('postgres://h/d?sslmode=require&PASSWORD=p'), true);
  assert.equal(urlHasPassword('postgres://h/d?password='), false);
  assert.equal(urlHasPassword('postgres://h/d?application_name=password'), false);
});

test('the schema reaches the connection as a quoted search_path', () => {
  assert.equal(searchPathValue('public'), '"public"');
  assert.equal(searchPathValue('My Schema'), '"My\\ Schema"');
  assert.equal(searchPathValue('a"b'), '"a""b"');
});

test('database.password_file is used with a URL too (node-postgres would let the URL replace it)', () => {
  const file = passwordFile('db-url', 'p&ss w=rd%41?#\n', 0o600);
  const load = (url: string) =>
    clientConfig(loadConfig({ files: [], env: { XDG_CONFIG_HOME: dir, TESSDB_DATABASE_URL: url }, overrides: [`database.password_file=${file}`] }).config);
  const client = new pg.Client(load('postgres://tess@db.example.org:5432/tessdb'));
  assert.equal(client.password, 'p&ss w=rd%41?#');
  assert.equal(client.user, 'tess');
  assert.equal(client.host, 'db.example.org');
  assert.equal(client.database, 'tessdb');
  // A password in the URL itself wins, as in libpq.
  assert.equal(new pg.Client(load('postgres://tess:own@h/db')).password, 'own');
});

test('a config file holding a password in a URL must be chmod 600', () => {
  const file = path.join(dir, 'with-password.toml');
  fs.writeFileSync(file, '[database]\nurl = "postgres://tess:Hunter2@h/db"\n');
  fs.chmodSync(file, 0o644);
  assert.throws(
    () => loadConfig({ files: [file], env: {} }),
    (err: unknown) =>
      err instanceof UserError && /database\.url contains a password but the file is readable by group or others \(chmod 600/.test(err.message) && !err.message.includes('Hunter2'),
  );
  fs.chmodSync(file, 0o600);
  assert.equal(loadConfig({ files: [file], env: {} }).config.database.url, 'postgres://tess:Hunter2@h/db');
  const open = path.join(dir, 'no-password.toml');
  fs.writeFileSync(open, '[database]\nurl = "postgres://tess@h/db"\n');
  fs.chmodSync(open, 0o644);
  assert.equal(loadConfig({ files: [open], env: {} }).config.database.url, 'postgres://tess@h/db');
});

test('malformed overrides do not echo what may be a password', () => {
  for (const arg of ['postgres://u:Hunter2@h/db', 'postgres://u:Hunter2@h/db?a=b']) {
    assert.throws(
      () => loadConfig({ files: [], env: { XDG_CONFIG_HOME: dir }, overrides: [arg] }),
      (err: unknown) => err instanceof UserError && err.exitCode === 2 && !err.message.includes('Hunter2'),
    );
  }
});

test('sslmode in the URL has libpq meaning and wins over database.sslmode', () => {
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, '-----CA-----\n');
  const ssl = (url: string, overrides: string[] = []) => {
    const { config } = loadConfig({ files: [], env: { XDG_CONFIG_HOME: dir, TESSDB_DATABASE_URL: url }, overrides });
    const settings = clientConfig(config);
    assert.doesNotMatch(String(settings.connectionString), /ssl/, 'TLS parameters are taken out of the URL');
    return settings.ssl as Record<string, unknown> | boolean | undefined;
  };
  assert.equal(ssl('postgres://h/db'), undefined);
  assert.equal(ssl('postgres://h/db?sslmode=disable', ['database.sslmode=verify-full']), false);
  const require = ssl('postgres://h/db?sslmode=require') as Record<string, unknown>;
  assert.equal(require.rejectUnauthorized, false);
  const requireCa = ssl(`postgres://h/db?sslmode=require&sslrootcert=${ca}`) as Record<string, unknown>;
  assert.equal(requireCa.rejectUnauthorized, true, 'require with a root certificate verifies the CA (libpq)');
  assert.equal(typeof requireCa.checkServerIdentity, 'function');
  const verifyCa = ssl(`postgres://h/db?sslmode=verify-ca&sslrootcert=${ca}`) as Record<string, unknown>;
  assert.equal(verifyCa.ca, '-----CA-----\n');
  assert.equal(verifyCa.rejectUnauthorized, true);
  assert.equal((verifyCa.checkServerIdentity as () => unknown)(), undefined, 'verify-ca skips the host name check');
  const full = ssl('postgres://h/db', ['database.sslmode=verify-full', `database.sslrootcert=${ca}`]) as Record<string, unknown>;
  assert.equal(full.ca, '-----CA-----\n');
  assert.equal(full.rejectUnauthorized, true);
  assert.equal(full.checkServerIdentity, undefined, 'verify-full keeps node’s host name check');
  assert.throws(() => ssl('postgres://h/db?sslmode=prefer'), /sslmode "prefer" is not supported/);
  assert.throws(() => ssl(`postgres://h/db?sslrootcert=${ca}`), /sslrootcert is set but database\.sslmode is not/);
  assert.throws(() => ssl('postgres://h/db', ['database.sslmode=verify-full', `database.sslrootcert=${dir}/nope.pem`]), /database\.sslrootcert: cannot read/);
});
