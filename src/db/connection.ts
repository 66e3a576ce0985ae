/** Turn the configuration into node-postgres connection settings (never logging secrets). */
import type { ClientConfig } from 'pg';
import { readPasswordFile, type Config } from '../config/index.js';
import { splitTlsParams, tlsOptions, type TlsSettings } from './tls.js';

/** True when the user pointed tessdb at a server; otherwise the embedded default is used. */
export function isDatabaseConfigured(config: Config): boolean {
  return config.database.url !== '' || config.database.host !== '';
}

export function clientConfig(config: Config, url = config.database.url): ClientConfig {
  const db = config.database;
  const tls: TlsSettings = { sslmode: db.sslmode, sslrootcert: db.sslrootcert, sslcert: '', sslkey: '' };
  const password = db.password_file ? readPasswordFile(db.password_file, 'database.password_file') : undefined;
  let base: ClientConfig;
  if (url) {
    const split = splitTlsParams(url);
    Object.assign(tls, split.tls);
    // node-postgres lets every field of a connection string replace the same setting given beside it (an
    // empty password too), so the password of database.password_file has to travel inside the URL.
    base = { connectionString: password === undefined ? split.url : withPassword(split.url, password) };
  } else {
    base = { host: db.host, port: db.port, user: db.user || undefined, database: db.dbname || undefined };
    if (password !== undefined) base.password = password;
  }
  const ssl = tlsOptions(tls);
  if (ssl !== undefined) base.ssl = ssl;
  base.application_name = 'tessdb';
  // search_path makes every unqualified name in sql/ and in the code land in the configured schema, and only
  // there: with public as a fallback, a schema not set up yet would silently use another installation's tables.
  base.options = `-c search_path=${searchPathValue(db.schema)}`;
  return base;
}

/** The URL with this password, unless it has one of its own (user info or ?password=), which wins as in libpq. */
function withPassword(url: string, password: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (u.password || u.searchParams.get('password')) return url;
  u.searchParams.set('password', password); // works for every URL form, socket paths included
  return u.toString();
}

/** Quote a schema name for a `-c search_path=` startup option (identifier quoting, spaces escaped). */
export function searchPathValue(schema: string): string {
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  return quoted.replace(/\\/g, '\\\\').replace(/ /g, '\\ ');
}
