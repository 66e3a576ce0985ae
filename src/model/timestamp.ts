/**
 * Photometer timestamps: a strict, allocation-light parser (no `new Date(string)` guessing) and the
 * rule that picks a reading's time: its own `tstamp` (source "publisher") or the time of receipt
 * (source "subscriber").
 */
import type { TimestampSource } from './types.js';

/** Earliest accepted reading time: 2015-01-01T00:00:00Z (the network started in 2016). */
export const MIN_TSTAMP_MS = Date.UTC(2015, 0, 1);
/** How far a reading's own time may lie after its receipt: 24 h. */
export const MAX_FUTURE_MS = 24 * 3600 * 1000;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1–12) of `year` (proleptic Gregorian, as Date.UTC). */
export function daysInMonth(year: number, month: number): number {
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 1 : 0;
  return DAYS_IN_MONTH[month - 1] + leap;
}

/** Two ASCII digits at s[i], s[i+1] as a number, or -1. Caller guarantees i+1 < s.length. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Parse `YYYY-MM-DDTHH:MM:SS` (or a space instead of `T`), an optional fraction (any number of
 * digits; milliseconds kept, the rest truncated), and an optional zone: `Z`, `±HH:MM` or `±HHMM`.
 * No zone means UTC. `t`/`z` are accepted in lower case. Returns null for anything else, including
 * impossible dates (2023-02-29), leap seconds (`:60`) and surrounding blanks.
 */
export function parseTstamp(s: string): Date | null {
  const ms = parseTstampMs(s);
  return ms === null ? null : new Date(ms);
}

/** As {@link parseTstamp}, but returns epoch milliseconds (no allocation). */
export function parseTstampMs(s: string): number | null {
  const len = s.length;
  if (len < 19) return null;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  if (y1 < 0 || y2 < 0 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return null; // '-'
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 32 && sep !== 116) return null; // 'T' ' ' 't'
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null; // ':'
  const year = y1 * 100 + y2;
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return null;
  if (second < 0 || second > 59) return null;
  if (day > daysInMonth(year, month)) return null;

  let i = 19;
  let millis = 0;
  if (i < len && s.charCodeAt(i) === 46) {
    // '.' fraction: at least one digit
    i++;
    const start = i;
    while (i < len) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      const pos = i - start;
      if (pos < 3) millis += d * (pos === 0 ? 100 : pos === 1 ? 10 : 1);
      i++;
    }
    if (i === start) return null;
  }

  let offsetMin = 0;
  if (i < len) {
    const c = s.charCodeAt(i);
    if (c === 90 || c === 122) {
      // 'Z' / 'z'
      if (i + 1 !== len) return null;
    } else if (c === 43 || c === 45) {
      // '+' / '-'
      const rest = len - i - 1;
      let oh: number;
      let om: number;
      if (rest === 5 && s.charCodeAt(i + 3) === 58) {
        oh = two(s, i + 1);
        om = two(s, i + 4);
      } else if (rest === 4) {
        oh = two(s, i + 1);
        om = two(s, i + 3);
      } else return null;
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return null;
      offsetMin = (c === 43 ? 1 : -1) * (oh * 60 + om);
    } else return null;
  }

  let t = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (year < 100) {
    // Date.UTC maps years 0..99 to 1900..1999
    const d = new Date(t);
    d.setUTCFullYear(year);
    t = d.getTime();
  }
  return t - offsetMin * 60000;
}

/** Two ASCII digits at line[i], line[i+1] as a number, or -1. */
function twoBytes(line: Uint8Array, i: number): number {
  const x = line[i] - 48;
  const y = line[i + 1] - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

/** The day {@link isoBytesMs} saw last: its `YYYY-MM-DD` bytes and its start in epoch ms (times come day by day). */
const lastDay = new Uint8Array(10);
let lastDayMs = Number.NaN;

/**
 * `YYYY-MM-DDTHH:mm:ss` or `…ss.fff` (UTC) in bytes line[a, b) → epoch ms, or NaN for anything else: the
 * common forms of {@link parseTstampMs}, for the byte scanners (no string); years before 1000 are left to it.
 */
export function isoBytesMs(line: Uint8Array, a: number, b: number): number {
  const n = b - a;
  if (n !== 19 && n !== 23) return Number.NaN;
  if (line[a + 10] !== 84 || line[a + 13] !== 58 || line[a + 16] !== 58) return Number.NaN;
  const hour = twoBytes(line, a + 11);
  const minute = twoBytes(line, a + 14);
  const second = twoBytes(line, a + 17);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return Number.NaN;
  let millis = 0;
  if (n === 23) {
    const m1 = twoBytes(line, a + 20);
    const m2 = line[a + 22] - 48;
    if (line[a + 19] !== 46 || m1 < 0 || m2 < 0 || m2 > 9) return Number.NaN;
    millis = m1 * 10 + m2;
  }
  const dayMs = sameDay(line, a) ? lastDayMs : dayStartMs(line, a);
  return dayMs + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis;
}

function sameDay(line: Uint8Array, a: number): boolean {
  for (let i = 0; i < 10; i++) if (line[a + i] !== lastDay[i]) return false;
  return true;
}

/** The start of the day `YYYY-MM-DD` at line[a] (remembered as the last day when valid), or NaN. */
function dayStartMs(line: Uint8Array, a: number): number {
  if (line[a + 4] !== 45 || line[a + 7] !== 45) return Number.NaN;
  const y1 = twoBytes(line, a);
  const y2 = twoBytes(line, a + 2);
  const month = twoBytes(line, a + 5);
  const day = twoBytes(line, a + 8);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1) return Number.NaN;
  const year = y1 * 100 + y2;
  if (year < 1000 || day > daysInMonth(year, month)) return Number.NaN;
  for (let i = 0; i < 10; i++) lastDay[i] = line[a + i];
  return (lastDayMs = Date.UTC(year, month - 1, day));
}

/** The outcome of {@link chooseTimestamp}. */
export type TimestampChoice =
  | { tstamp: Date; source: TimestampSource }
  | { reject: 'invalid_timestamp'; detail: string };

/**
 * Pick a reading's time. No `tstamp` (absent, null or "") → `rx`, source "subscriber". A parseable
 * `tstamp` within bounds → that instant, source "publisher". Anything else (not a string,
 * unparseable, before {@link MIN_TSTAMP_MS}, more than {@link MAX_FUTURE_MS} after `rx`) →
 * reject `invalid_timestamp`.
 */
export function chooseTimestamp(tstamp: unknown, rx: Date): TimestampChoice {
  const r = resolveTstamp(tstamp, rx);
  if (typeof r === 'string') return { reject: 'invalid_timestamp', detail: r };
  return r === rx ? { tstamp: rx, source: 'subscriber' } : { tstamp: r, source: 'publisher' };
}

/**
 * Hot-path form of {@link chooseTimestamp}: returns `rx` itself (subscriber), a new Date
 * (publisher), or a one-line reject detail.
 */
export function resolveTstamp(tstamp: unknown, rx: Date): Date | string {
  if (tstamp === undefined || tstamp === null || tstamp === '') {
    return rx.getTime() === rx.getTime() ? rx : 'no "tstamp" and the time of receipt is invalid';
  }
  if (typeof tstamp !== 'string') return `field "tstamp": must be string or null (got ${typeof tstamp})`;
  const ms = parseTstampMs(tstamp);
  if (ms === null) return `field "tstamp": unparseable timestamp ${JSON.stringify(tstamp.slice(0, 60))}`;
  if (ms < MIN_TSTAMP_MS) return `field "tstamp": ${JSON.stringify(tstamp.slice(0, 60))} is before 2015-01-01`;
  if (ms - rx.getTime() > MAX_FUTURE_MS)
    return `field "tstamp": ${JSON.stringify(tstamp.slice(0, 60))} is more than 24 h after receipt (${rx.toISOString()})`;
  return new Date(ms);
}
