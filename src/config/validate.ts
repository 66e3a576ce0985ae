/** Validate the merged layers against the schema, fill defaults, and explain errors naming key and file. */
import { Ajv, type ErrorObject } from 'ajv';
import { UserError } from '../util/errors.js';
import { closest } from '../util/suggest.js';
import { configSchema, type Config } from './schema.js';
import type { Table } from './sources.js';

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: false });
const validateConfig = ajv.compile(configSchema);

export function validate(merged: Table, origins: Map<string, string>): Config {
  const candidate = structuredClone(merged);
  if (!validateConfig(candidate)) {
    throw new UserError(describe(validateConfig.errors![0], origins));
  }
  return candidate as unknown as Config;
}

function describe(error: ErrorObject, origins: Map<string, string>): string {
  const parent = error.instancePath.split('/').filter(Boolean).join('.');
  if (error.keyword === 'additionalProperties') {
    const unknown = (error.params as { additionalProperty: string }).additionalProperty;
    const dotted = parent ? `${parent}.${unknown}` : unknown;
    const known = Object.keys(propertiesAt(parent));
    const hint = closest(unknown, known);
    return `${where(dotted, origins)}unknown key "${dotted}"${hint ? ` (did you mean "${parent ? parent + '.' : ''}${hint}"?)` : ''}`;
  }
  return `${where(parent, origins)}key "${parent}" ${error.message ?? 'is invalid'}${enumHint(error)}`;
}

function enumHint(error: ErrorObject): string {
  if (error.keyword !== 'enum') return '';
  return `: ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
}

function where(dotted: string, origins: Map<string, string>): string {
  const origin = origins.get(dotted);
  return origin ? `${origin}: ` : '';
}

function propertiesAt(dotted: string): Record<string, unknown> {
  let node: { properties?: Record<string, unknown> } = configSchema as never;
  for (const part of dotted.split('.').filter(Boolean)) {
    node = (node.properties?.[part] ?? {}) as typeof node;
  }
  return node.properties ?? {};
}
