/** loadConfig: files → environment → command-line overrides, merged deeply and validated into one object. */
import { stringify } from 'smol-toml';
import { UserError } from '../util/errors.js';
import { deepMerge, keyOrigins } from './merge.js';
import { SECRET_KEYS, type Config } from './schema.js';
import { maskUrl, refuseOpenFileWithPassword, urlHasPassword } from './secrets.js';
import { configFiles, environmentLayer, overridesLayer, readTomlFile, type ConfigLayer } from './sources.js';
import { validate } from './validate.js';

export type { Config } from './schema.js';
export { readPasswordFile, readPrivateFile, maskUrl } from './secrets.js';

export interface LoadOptions {
  files?: string[];
  overrides?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: Config;
  files: string[];
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const files = configFiles(opts.files ?? [], env);
  const overrides = overridesLayer(opts.overrides ?? []);
  refuseSecretsOnCommandLine(overrides);
  const fileLayers = files.map(readTomlFile);
  for (const layer of fileLayers) refuseOpenFileWithPassword(layer.origin, layer.values, SECRET_KEYS);
  const layers: ConfigLayer[] = [...fileLayers, environmentLayer(env), overrides];
  const merged = layers.reduce((acc, layer) => deepMerge(acc, layer.values), {} as Record<string, unknown>);
  return { config: validate(merged, keyOrigins(layers)), files };
}

function refuseSecretsOnCommandLine(layer: ConfigLayer): void {
  for (const key of SECRET_KEYS) {
    const [section, name] = key.split('.');
    const value = (layer.values[section] as Record<string, unknown> | undefined)?.[name];
    if (typeof value === 'string' && urlHasPassword(value)) {
      throw new UserError(`${key}: passwords are not accepted on the command line; use a password_file or the environment`);
    }
  }
}

/** The merged configuration as TOML with secrets masked (for --dump-config). */
export function dumpConfig(config: Config): string {
  const copy = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const key of SECRET_KEYS) {
    const [section, name] = key.split('.');
    const value = copy[section]?.[name];
    if (typeof value === 'string' && value) copy[section][name] = maskUrl(value);
  }
  return stringify(copy);
}
