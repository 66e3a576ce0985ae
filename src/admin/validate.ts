/**
 * Checks on administrative input, with messages that say what is wrong and what is accepted. Every
 * function throws a UserError (exit code 1) on bad input and returns the normalised value.
 */
import { normaliseMac } from '../model/mac.js';
import { MAX_ADMIN_ZP, MIN_ADMIN_ZP } from '../registry/types.js';
import { UserError } from '../util/errors.js';

function number(what: string, text: string | number): number {
  const v = typeof text === 'number' ? text : Number(String(text).trim());
  if (String(text).trim() === '' || !Number.isFinite(v)) throw new UserError(`${what}: "${text}" is not a number`);
  return v;
}

function inRange(what: string, text: string | number, min: number, max: number, unit = ''): number {
  const v = number(what, text);
  if (v < min || v > max) throw new UserError(`${what} ${v}${unit} is out of range: it must be between ${min} and ${max}${unit}`);
  return v;
}

export const zeroPoint = (text: string | number): number => inRange('zero point', text, MIN_ADMIN_ZP, MAX_ADMIN_ZP, ' mag/arcsec²');
export const latitude = (text: string | number): number => inRange('latitude', text, -90, 90, '°');
export const longitude = (text: string | number): number => inRange('longitude', text, -180, 180, '°');
export const elevation = (text: string | number): number => inRange('elevation', text, -500, 9000, ' m');
export const azimuth = (text: string | number): number => inRange('azimuth', text, 0, 360, '°');
export const altitude = (text: string | number): number => inRange('altitude', text, -90, 90, '°');
export const fov = (text: string | number): number => inRange('field of view', text, 0, 180, '°');
export const coverOffset = (text: string | number): number => inRange('cover offset', text, -10, 10, ' mag');
export const offsetHz = (text: string | number): number => inRange('frequency offset', text, 0, 1000, ' Hz');

export function channel(text: string | number): number {
  const v = number('channel', text);
  if (!Number.isInteger(v) || v < 1 || v > 4) throw new UserError(`channel ${text} is out of range: it must be 1, 2, 3 or 4`);
  return v;
}

export function filterName(text: string): string {
  const v = text.trim();
  if (v === '' || v.length > 64) throw new UserError(`filter "${text}" must be a non-empty name of at most 64 characters (e.g. UVIR)`);
  return v;
}

/** An IANA time zone name, as Intl (and therefore PostgreSQL's tz database, usually) knows it. */
export function timezone(text: string): string {
  const v = text.trim();
  try {
    if (v === '') throw new RangeError('empty');
    // Canonical spelling (e.g. "europe/madrid" → "Europe/Madrid").
    return new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
  } catch {
    throw new UserError(`unknown time zone "${text}": use an IANA name such as Europe/Madrid or Etc/UTC`);
  }
}

/** A photometer name as the firmware sends it: lower-cased, letters, digits, '-', '_' and '.'. */
export function photometerName(text: string): string {
  const v = text.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(v)) {
    throw new UserError(`"${text}" is not a valid photometer name (letters, digits, '-', '_', '.'; e.g. stars1234)`);
  }
  return v;
}

export function macAddress(text: string): string {
  const v = normaliseMac(text);
  if (v === null) throw new UserError(`"${text}" is not a MAC address (e.g. 60:01:94:2E:CE:EB)`);
  return v;
}

export function nonEmpty(what: string, text: string, max = 200): string {
  const v = text.trim();
  if (v === '') throw new UserError(`${what} must not be empty`);
  if (v.length > max) throw new UserError(`${what} is longer than ${max} characters`);
  return v;
}

export function email(text: string): string {
  const v = text.trim();
  if (v !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) throw new UserError(`"${text}" is not an e-mail address`);
  return v;
}

/**
 * An instant: `now`, `YYYY-MM-DD` (00:00 UTC), or an ISO date-time (`2024-05-01T18:00`, UTC unless
 * it carries `Z` or an offset). Refuses dates before 2010 and more than a day in the future.
 */
export function instant(text: string | undefined, what = 'date'): Date {
  const s = (text ?? 'now').trim();
  let d: Date;
  if (s === '' || s.toLowerCase() === 'now') d = new Date();
  else if (/^\d{4}-\d{2}-\d{2}$/.test(s)) d = new Date(`${s}T00:00:00Z`);
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) d = new Date(`${s.replace(' ', 'T')}Z`);
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(s)) d = new Date(s.replace(' ', 'T'));
  else d = new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new UserError(`${what} "${s}" is not a date: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM] or now`);
  if (d.getTime() < Date.UTC(2010, 0, 1)) throw new UserError(`${what} ${d.toISOString()} is before 2010`);
  if (d.getTime() > Date.now() + 86_400_000) throw new UserError(`${what} ${d.toISOString()} is in the future`);
  return d;
}

/** `90m`, `6h`, `2d`, `1w` → that long before now; or an instant (see `instant`). */
export function sinceAgo(text: string): Date {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)$/i.exec(text.trim());
  if (!m) return instant(text, 'silent since');
  const unit = { s: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800 }[m[2].toLowerCase() as 's' | 'm' | 'min' | 'h' | 'd' | 'w'];
  return new Date(Date.now() - Number(m[1]) * unit * 1000);
}

/** `YYYY-MM` → first instant of that month (UTC). */
export function month(text: string): Date {
  const m = /^(\d{4})-(\d{2})$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new UserError(`month "${text}" must be YYYY-MM (e.g. 2024-05)`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}
