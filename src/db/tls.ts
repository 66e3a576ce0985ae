/**
 * TLS to PostgreSQL with libpq's meaning of `sslmode` (node-postgres on its own treats `require` and
 * `verify-ca` like `verify-full`, and lets `sslmode=` in a URL replace the configured TLS settings):
 *
 * | sslmode       | encrypted | server certificate checked against the CA | host name checked |
 * |---------------|-----------|-------------------------------------------|-------------------|
 * | disable       | no        | -                                         | -                 |
 * | require       | yes       | only when sslrootcert is given (libpq)    | no                |
 * | verify-ca     | yes       | yes (sslrootcert, else the system CAs)    | no                |
 * | verify-full   | yes       | yes (sslrootcert, else the system CAs)    | yes (SAN / IP)    |
 *
 * The TLS parameters of a URL (`?sslmode=…&sslrootcert=…&sslcert=…&sslkey=…`) are taken out of it
 * and win over `database.sslmode` / `database.sslrootcert`, as conninfo parameters win over PGSSLMODE.
 */
import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { readPrivateFile } from '../config/secrets.js';
import { UserError } from '../util/errors.js';

export type SslMode = '' | 'disable' | 'require' | 'verify-ca' | 'verify-full';

export interface TlsSettings {
  sslmode: SslMode;
  sslrootcert: string;
  sslcert: string;
  sslkey: string;
}

/** URL parameters this module handles; node-postgres must not see them. */
const TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl'];

/** node-postgres spellings a pasted URL may carry (`ssl=true` verifies against the system CAs there too). */
const MODE_ALIASES: Record<string, SslMode> = { 'no-verify': 'require', true: 'verify-full', '1': 'verify-full', false: 'disable', '0': 'disable' };

function parseMode(value: string, where: string): SslMode {
  if (value === 'disable' || value === 'require' || value === 'verify-ca' || value === 'verify-full') return value;
  const alias = MODE_ALIASES[value];
  if (alias) return alias;
  throw new UserError(
    `${where}: sslmode "${value}" is not supported (use disable, require, verify-ca or verify-full; ` +
      `"prefer" and "allow" would fall back to an unencrypted connection without saying so)`,
  );
}

/**
 * Splits the TLS parameters off a connection URL. A URL that does not parse is returned as it is
 * (node-postgres then reports it).
 */
export function splitTlsParams(url: string): { url: string; tls: Partial<TlsSettings> } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url, tls: {} };
  }
  const p = u.searchParams;
  if (!TLS_PARAMS.some((k) => p.has(k))) return { url, tls: {} };
  const tls: Partial<TlsSettings> = {};
  const mode = p.get('sslmode') ?? p.get('ssl');
  if (mode !== null) tls.sslmode = parseMode(mode, 'database.url');
  for (const k of ['sslrootcert', 'sslcert', 'sslkey'] as const) {
    const v = p.get(k);
    if (v) tls[k] = v;
  }
  for (const k of TLS_PARAMS) p.delete(k);
  return { url: u.toString(), tls };
}

function readPem(file: string, key: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** node-postgres `ssl` for these settings: undefined = the driver's default (no TLS), false = no TLS. */
export function tlsOptions(s: TlsSettings): false | ConnectionOptions | undefined {
  if (s.sslmode === '') {
    if (s.sslrootcert) throw new UserError('database.sslrootcert is set but database.sslmode is not: set sslmode = "verify-full" (or "verify-ca")');
    return undefined;
  }
  if (s.sslmode === 'disable') return false;
  if (s.sslcert && !s.sslkey) throw new UserError('database sslcert is set but sslkey is not: a client certificate needs its private key');
  const opts: ConnectionOptions = {};
  if (s.sslrootcert) opts.ca = readPem(s.sslrootcert, 'database.sslrootcert');
  if (s.sslcert) opts.cert = readPem(s.sslcert, 'database sslcert');
  if (s.sslkey) opts.key = readPrivateFile(s.sslkey, 'database sslkey');
  const verifyCa = s.sslmode === 'verify-ca' || s.sslmode === 'verify-full' || (s.sslmode === 'require' && s.sslrootcert !== '');
  opts.rejectUnauthorized = verifyCa;
  // verify-full keeps node's own host name check (against servername, or the IP address for an IP host).
  if (s.sslmode !== 'verify-full') opts.checkServerIdentity = () => undefined;
  return opts;
}
