/**
 * ajv validators cached as standalone code in `$XDG_CACHE_HOME/tessdb/validators` (default
 * `~/.cache/tessdb/validators`), keyed by a hash of the ajv version, the options and the schema.
 * Loading the cached code skips both loading ajv itself and compiling the schema (≈ 0.3 s of every
 * start-up). Any problem with the cache (not writable, unreadable, stale, not ours) silently falls
 * back to compiling.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Options, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

export function validatorCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'tessdb', 'validators');
}

/** The validator of `schema`, from the cache when possible; `name` only makes the cache file readable. */
export function cachedValidator<T = unknown>(name: string, schema: object, options: Options): ValidateFunction<T> {
  let file: string | undefined;
  try {
    const version = (require('ajv/package.json') as { version: string }).version;
    const key = createHash('sha256').update(JSON.stringify([version, options, schema])).digest('hex').slice(0, 20);
    file = path.join(validatorCacheDir(), `${name}-${key}.cjs`);
    const cached = loadCached<T>(file);
    if (cached) return cached;
  } catch {
    /* compile below */
  }
  const { validate, source } = compile<T>(schema, options);
  if (file) store(file, source);
  return validate;
}

function compile<T>(schema: object, options: Options): { validate: ValidateFunction<T>; source: string } {
  const { Ajv } = require('ajv') as typeof import('ajv');
  const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: unknown, v: unknown) => string }).default;
  const ajv = new Ajv({ ...options, code: { ...options.code, source: true } });
  const validate = ajv.compile<T>(schema);
  return { validate, source: standaloneCode(ajv, validate) };
}

/** Only a file of ours that nobody else can write is run: it is code. */
function loadCached<T>(file: string): ValidateFunction<T> | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (!st.isFile() || (st.mode & 0o022) !== 0 || (process.getuid && st.uid !== process.getuid())) return undefined;
  const source = fs.readFileSync(file, 'utf8');
  const mod: { exports: { default?: unknown } } = { exports: {} };
  new Function('require', 'module', 'exports', source)(require, mod, mod.exports);
  const validate = (mod.exports.default ?? mod.exports) as ValidateFunction<T>;
  return typeof validate === 'function' ? validate : undefined;
}

function store(file: string, source: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, source, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    /* not writable: compile again next time */
  }
}
