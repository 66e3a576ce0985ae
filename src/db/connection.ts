/** Turn the configuration into node-postgres connection settings (never logging secrets). */
import fs from 'node:fs';
import type { ClientConfig } from 'pg';
import { readPasswordFile, type Config } from '../config/index.js';

/** True when the user pointed tessdb at a server; otherwise the embedded default is used. */
export function isDatabaseConfigured(config: Config): boolean {
  return config.database.url !== '' || config.database.host !== '';
}

export function clientConfig(config: Config, url = config.database.url): ClientConfig {
  const db = config.database;
  const base: ClientConfig = url
    ? { connectionString: url }
    : { host: db.host, port: db.port, user: db.user || undefined, database: db.dbname || undefined };
  if (db.password_file) base.password = readPasswordFile(db.password_file, 'database.password_file');
  const ssl = sslOptions(config);
  if (ssl !== undefined) base.ssl = ssl;
  base.application_name = 'tessdb';
  // search_path makes every unqualified name in sql/ and in the code land in the configured schema.
  base.options = `-c search_path=${searchPathValue(db.schema)}`;
  return base;
}

function sslOptions(config: Config): ClientConfig['ssl'] {
  const { sslmode, sslrootcert } = config.database;
  if (sslmode === '' || sslmode === 'disable') return sslmode === 'disable' ? false : undefined;
  const ca = sslrootcert ? fs.readFileSync(sslrootcert, 'utf8') : undefined;
  if (sslmode === 'require') return { rejectUnauthorized: false };
  if (sslmode === 'verify-ca') return { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ca, rejectUnauthorized: true };
}

/** Quote a schema name for a `-c search_path=` startup option (identifier quoting, spaces escaped). */
export function searchPathValue(schema: string): string {
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  return `${quoted},public`.replace(/\\/g, '\\\\').replace(/ /g, '\\ ');
}
