/** Validate the merged layers against the schema, fill defaults, and explain errors naming key and file. */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { cachedValidator } from '../util/validator-cache.js';
import { UserError } from '../util/errors.js';
import { closest } from '../util/suggest.js';
import { configSchema, type Config } from './schema.js';
import type { Table } from './sources.js';

let compiled: ValidateFunction | undefined;

/** Compiled on first use, so `--help` and `--version` do not pay for it. */
function validator(): ValidateFunction {
  compiled ??= cachedValidator('config', configSchema, { useDefaults: true, allErrors: false, strict: false });
  return compiled;
}

export function validate(merged: Table, origins: Map<string, string>): Config {
  const candidate = structuredClone(merged);
  const validateConfig = validator();
  if (!validateConfig(candidate)) {
    throw new UserError(describe(validateConfig.errors![0], origins));
  }
  return candidate as unknown as Config;
}

function describe(error: ErrorObject, origins: Map<string, string>): string {
  const segments = error.instancePath.split('/').filter(Boolean);
  const parent = segments.join('.');
  if (error.keyword === 'additionalProperties') {
    const unknown = (error.params as { additionalProperty: string }).additionalProperty;
    const dotted = parent ? `${parent}.${unknown}` : unknown;
    const known = Object.keys(propertiesAt(parent));
    const hint = closest(unknown, known);
    return `${where(dotted, origins)}unknown key "${dotted}"${hint ? ` (did you mean "${parent ? parent + '.' : ''}${hint}"?)` : ''}`;
  }
  return `${where(parent, origins)}key "${displayKey(segments)}" ${error.message ?? 'is invalid'}${enumHint(error)}`;
}

function enumHint(error: ErrorObject): string {
  if (error.keyword !== 'enum') return '';
  return `: ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
}

/** `data_dirs/0` → `data_dirs[0]`, `database/port` → `database.port`. */
function displayKey(segments: string[]): string {
  return segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i ? `.${s}` : s)).join('');
}

/** The layer that set this key, or (for an array item) the nearest enclosing key that has one. */
function where(dotted: string, origins: Map<string, string>): string {
  const parts = dotted.split('.');
  for (let n = parts.length; n > 0; n--) {
    const origin = origins.get(parts.slice(0, n).join('.'));
    if (origin) return `${origin}: `;
  }
  return '';
}

function propertiesAt(dotted: string): Record<string, unknown> {
  let node: { properties?: Record<string, unknown> } = configSchema as never;
  for (const part of dotted.split('.').filter(Boolean)) {
    node = (node.properties?.[part] ?? {}) as typeof node;
  }
  return node.properties ?? {};
}
