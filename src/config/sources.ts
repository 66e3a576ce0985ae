/** Where configuration comes from: TOML files, environment variables and dotted command-line overrides. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { UserError } from '../util/errors.js';
import { configSchema } from './schema.js';
import { maskUrl } from './secrets.js';

export type Table = Record<string, unknown>;

export interface ConfigLayer {
  origin: string; // file path, "environment" or "command line"
  values: Table;
}

/** The files to read: those given with -c, else the first that exists of the standard locations. */
export function configFiles(explicit: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  if (explicit.length > 0) return explicit;
  const xdg = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  const candidates = ['tessdb.toml', path.join(xdg, 'tessdb', 'config.toml'), '/etc/tessdb/config.toml'];
  const found = candidates.find((p) => fs.existsSync(p));
  return found ? [found] : [];
}

export function readTomlFile(file: string): ConfigLayer {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`config file ${file}: ${code === 'ENOENT' ? 'not found' : (err as Error).message}`);
  }
  try {
    return { origin: file, values: parse(text) as Table };
  } catch (err) {
    if (err instanceof TomlError) {
      throw new UserError(`config file ${file}:${err.line}:${err.column}: ${err.message.split('\n')[0]}`);
    }
    throw err;
  }
}

/** Environment variables that map to config keys. PGPASSWORD is read by the driver, never copied here. */
export function environmentLayer(env: NodeJS.ProcessEnv = process.env): ConfigLayer {
  const values: Table = {};
  const set = (dotted: string, value: unknown) => assignDotted(values, dotted, value);
  if (env.TESSDB_DATABASE_URL) set('database.url', env.TESSDB_DATABASE_URL);
  if (env.PGHOST) set('database.host', env.PGHOST);
  if (env.PGPORT && /^\d+$/.test(env.PGPORT)) set('database.port', Number(env.PGPORT));
  if (env.PGUSER) set('database.user', env.PGUSER);
  if (env.PGDATABASE) set('database.dbname', env.PGDATABASE);
  if (env.PGSSLMODE) set('database.sslmode', env.PGSSLMODE);
  if (env.TESSDB_MQTT_URL) set('mqtt.url', env.TESSDB_MQTT_URL);
  if (env.TESSDB_HOST) set('host', env.TESSDB_HOST);
  return { origin: 'environment', values };
}

/** `database.port=5432` style overrides; values are parsed as TOML values, else taken as strings. */
export function overridesLayer(overrides: string[]): ConfigLayer {
  const values: Table = {};
  for (const item of overrides) {
    const eq = item.indexOf('=');
    // Errors show the key only (or a masked URL): a mistyped argument may hold a password.
    if (eq <= 0) throw new UserError(`override "${maskUrl(item)}": expected key=value, e.g. database.port=5432`, 2);
    const key = item.slice(0, eq).trim();
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(key)) {
      throw new UserError(`override "${maskUrl(item)}": "${maskUrl(key)}" is not a dotted key`, 2);
    }
    assignDotted(values, key, parseOverrideValue(item.slice(eq + 1), schemaTypeAt(key)));
  }
  return { origin: 'command line', values };
}

/**
 * The value as TOML when it parses (5432, true, ["a"]), else the text itself. For a key the schema
 * declares a string, a bare value that reads as another type stays text: `database.dbname=2024`.
 */
function parseOverrideValue(raw: string, schemaType: string | undefined): unknown {
  let value: unknown;
  try {
    value = (parse(`v = ${raw}`) as Table).v;
  } catch {
    return raw;
  }
  return schemaType === 'string' && typeof value !== 'string' ? raw : value;
}

/** The JSON-schema type of a dotted configuration key, undefined when the key is unknown. */
function schemaTypeAt(dotted: string): string | undefined {
  type Node = { type?: string; properties?: Record<string, Node> };
  let node: Node | undefined = configSchema as unknown as Node;
  for (const part of dotted.split('.')) node = node?.properties?.[part];
  return node?.type;
}

export function assignDotted(target: Table, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Table;
  }
  node[parts[parts.length - 1]] = value;
}
