/**
 * TLS to PostgreSQL: a private embedded server with ssl = on and a certificate from a throwaway CA for
 * DNS:localhost only, which refuses unencrypted connections (hostnossl … reject). `tessdb setup` with
 * sslmode=verify-full and the CA connects; a wrong CA, or a host name the certificate does not name, is
 * refused under verify-full; verify-ca skips only the name check; require encrypts without verifying.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config/index.js';
import { openDatabase } from '../../src/db/open.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeCa, makeServerCert, type CertFiles } from './certs.js';
import { handToServer, startOwnServer, worldDir, type OwnServer } from './pg-server.js';

const DB = 'tls_db';
let certDir: string;
let ca: CertFiles;
let wrongCa: CertFiles;
let own: OwnServer;
let passwordFile: string;

before(async () => {
  certDir = worldDir('pg-certs');
  ca = makeCa(certDir, 'ca');
  wrongCa = makeCa(certDir, 'wrong-ca');
  const server = makeServerCert(certDir, ca, 'pg-server', ['DNS:localhost']);
  const tlsDir = path.join(certDir, 'server');
  fs.mkdirSync(tlsDir, { mode: 0o755 });
  const cert = handToServer(server.cert, tlsDir);
  const key = handToServer(server.key, tlsDir);
  own = await startOwnServer('pg-tls', () => ({ ssl: 'on', ssl_cert_file: `'${cert}'`, ssl_key_file: `'${key}'` }));
  const admin = new pg.Client({ connectionString: own.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DB}`);
  // From now on the server refuses every connection that is not encrypted.
  const hba = path.join(own.server.dataDir, 'pg_hba.conf');
  fs.writeFileSync(hba, `hostnossl all all 0.0.0.0/0 reject\nhostnossl all all ::/0 reject\n${fs.readFileSync(hba, 'utf8')}`);
  await admin.query('SELECT pg_reload_conf()');
  await admin.end();
  passwordFile = path.join(certDir, 'db-password');
  fs.writeFileSync(passwordFile, new URL(own.url).password);
  fs.chmodSync(passwordFile, 0o600);
});

after(async () => {
  await own?.stop();
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
});

/** The database URL (no password: it comes from database.password_file) for `host`. */
const urlFor = (host: string, params = '') => `postgres://tessdb@${host}:${own.port}/${DB}${params}`;

function tls(mode: string, rootcert?: CertFiles): string[] {
  return [`database.password_file=${passwordFile}`, `database.sslmode=${mode}`, ...(rootcert ? [`database.sslrootcert=${rootcert.cert}`] : [])];
}

function setup(host: string, overrides: string[]): Promise<CliResult> {
  return runCli(['setup', ...overrides], { env: { TESSDB_DATABASE_URL: urlFor(host), XDG_CONFIG_HOME: certDir } });
}

/** Connects in-process as the CLI would; resolves to the TLS version in use, rejects with the driver's error. */
async function tlsVersion(url: string, overrides: string[]): Promise<string> {
  const { config } = loadConfig({ files: [], env: { TESSDB_DATABASE_URL: url, XDG_CONFIG_HOME: certDir }, overrides });
  const db = await openDatabase(config, { max: 1 });
  try {
    const { rows } = await db.pool.query<{ ssl: boolean; version: string }>('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    assert.equal(rows[0].ssl, true);
    return rows[0].version;
  } finally {
    await db.close();
  }
}

const CA_REJECTED = /self[- ]signed certificate in certificate chain|unable to (verify the first|get local issuer) certificate/;

describe('tessdb setup over TLS', () => {
  it('verify-full with the right CA and the certificate’s host name works (and is encrypted)', async () => {
    const r = await setup('localhost', tls('verify-full', ca));
    assert.equal(r.code, 0, r.stderr);
    assert.match(await tlsVersion(urlFor('localhost'), tls('verify-full', ca)), /^TLSv1\.[23]$/);
    const status = await runCli(['status', ...tls('verify-full', ca)], { env: { TESSDB_DATABASE_URL: urlFor('localhost'), XDG_CONFIG_HOME: certDir } });
    assert.equal(status.code, 0, status.stderr);
  });

  it('the server refuses unencrypted connections, so the ones that worked were encrypted', async () => {
    const r = await setup('localhost', tls('disable'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pg_hba\.conf rejects connection .*no encryption/);
  });

  it('verify-full with a CA that did not sign the certificate is refused, saying why', async () => {
    const r = await setup('localhost', tls('verify-full', wrongCa));
    assert.equal(r.code, 1);
    assert.match(r.stderr, CA_REJECTED);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('verify-full to a host the certificate does not name is refused', async () => {
    const r = await setup('127.0.0.1', tls('verify-full', ca));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /IP: 127\.0\.0\.1 is not in the cert's list|does not match certificate's altnames/);
  });
});

describe('sslmode semantics (in-process, same settings as the CLI)', () => {
  it('verify-ca checks the CA but not the host name', async () => {
    assert.match(await tlsVersion(urlFor('127.0.0.1'), tls('verify-ca', ca)), /^TLSv1/);
    await assert.rejects(tlsVersion(urlFor('127.0.0.1'), tls('verify-ca', wrongCa)), CA_REJECTED);
  });

  it('require encrypts without verifying; with a root certificate it verifies the CA (as libpq)', async () => {
    assert.match(await tlsVersion(urlFor('127.0.0.1'), tls('require')), /^TLSv1/);
    await assert.rejects(tlsVersion(urlFor('127.0.0.1'), tls('require', wrongCa)), CA_REJECTED);
  });

  it('sslmode and sslrootcert in the URL mean the same', async () => {
    const pw = [`database.password_file=${passwordFile}`];
    assert.match(await tlsVersion(urlFor('localhost', `?sslmode=verify-full&sslrootcert=${ca.cert}`), pw), /^TLSv1/);
    await assert.rejects(tlsVersion(urlFor('localhost', `?sslmode=verify-full&sslrootcert=${wrongCa.cert}`), pw), CA_REJECTED);
    await assert.rejects(tlsVersion(urlFor('127.0.0.1', `?sslmode=verify-full&sslrootcert=${ca.cert}`), pw), /IP: 127\.0\.0\.1 is not in the cert's list/);
    assert.match(await tlsVersion(urlFor('127.0.0.1', '?sslmode=require'), pw), /^TLSv1/);
  });
});
