/**
 * ajv validators for the reading and register payloads, compiled once on first use (compiling costs
 * ~0.3 s, which commands that never look at a payload should not pay at start-up).
 * `allErrors: false`: validation stops at the first problem, which is all a reject needs.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { cachedValidator } from '../util/validator-cache.js';
import { readingSchema, registerSchema, type ReadingPayload, type RegisterPayload } from './schemas.js';

/** The first problem found in a payload. */
export interface PayloadProblem {
  /** Dotted path of the offending field, e.g. `mag` or `F2.freq`; `""` for the payload itself. */
  field: string;
  /** One line, e.g. `field "mag": must be number (got "17.3")`. */
  detail: string;
}

let compiled: { reading: ValidateFunction<ReadingPayload>; register: ValidateFunction<RegisterPayload> } | undefined;

function validators() {
  if (!compiled) {
    const options = { allErrors: false, allowUnionTypes: true, strict: true, strictRequired: false };
    compiled = { reading: cachedValidator<ReadingPayload>('reading', readingSchema, options), register: cachedValidator<RegisterPayload>('register', registerSchema, options) };
  }
  return compiled;
}

/** Type guard: true when `payload` is a valid reading payload. */
export function isReadingPayload(payload: unknown): payload is ReadingPayload {
  return (compiled ?? validators()).reading(payload);
}

/** Type guard: true when `payload` is a valid register payload. */
export function isRegisterPayload(payload: unknown): payload is RegisterPayload {
  return (compiled ?? validators()).register(payload);
}

/** Validate a reading payload; null when valid, else the first problem. */
export function checkReadingPayload(payload: unknown): PayloadProblem | null {
  const v = validators().reading;
  return v(payload) ? null : describe(v.errors, payload);
}

/** Validate a register payload; null when valid, else the first problem. */
export function checkRegisterPayload(payload: unknown): PayloadProblem | null {
  const v = validators().register;
  return v(payload) ? null : describe(v.errors, payload);
}

/** Validate a reading payload; null when valid, else a one-line error naming the field. */
export function validateReadingPayload(payload: unknown): string | null {
  return checkReadingPayload(payload)?.detail ?? null;
}

/** Validate a register payload; null when valid, else a one-line error naming the field. */
export function validateRegisterPayload(payload: unknown): string | null {
  return checkRegisterPayload(payload)?.detail ?? null;
}

// ---------------------------------------------------------------------------------------------
// Error formatting (reject path only).

/** Render a value for a one-line detail: JSON, truncated; non-finite numbers spelled out. */
export function showValue(v: unknown, max = 60): string {
  let s: string;
  if (typeof v === 'number' && !Number.isFinite(v)) s = String(v);
  else if (v === undefined) s = 'undefined';
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > max ? s.slice(0, max) + '…' : s;
}

function describe(errors: ErrorObject[] | null | undefined, payload: unknown): PayloadProblem {
  const err = errors?.[0];
  if (!err) return { field: '', detail: 'payload: invalid' };
  const segments = err.instancePath === '' ? [] : err.instancePath.slice(1).split('/').map(unescapePointer);
  if (err.keyword === 'required') {
    const missing = String((err.params as { missingProperty: string }).missingProperty);
    segments.push(missing);
    const field = segments.join('.');
    return { field, detail: `field "${field}": is required` };
  }
  const value = valueAt(payload, segments);
  const field = segments.join('.');
  let message: string;
  switch (err.keyword) {
    case 'type': {
      const t = String((err.params as { type: string | string[] }).type);
      message =
        typeof value === 'number' && !Number.isFinite(value)
          ? 'must be a finite number'
          : `must be ${t.split(',').join(' or ')}`;
      break;
    }
    case 'pattern':
      message =
        field === 'name'
          ? 'must be 1-64 characters of a-z, 0-9, "_" or "-" (any case, blanks trimmed)'
          : err.message ?? 'is invalid';
      break;
    case 'not': // the float4 underflow guard is the only `not` in the schemas
      message = 'must be 0 or of magnitude >= 1.1754943508222875e-38 (stored as a 4-byte float)';
      break;
    default:
      message = err.message ?? 'is invalid';
  }
  const label = field === '' ? 'payload' : `field "${field}"`;
  return { field, detail: `${label}: ${message} (got ${showValue(value)})` };
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function valueAt(root: unknown, path: string[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}
