/** Building rejects (cold path: only runs for messages that are not loaded). */
import { NAME_PATTERN } from './schemas.js';
import { MAX_FUTURE_MS, MIN_TSTAMP_MS, parseTstampMs } from './timestamp.js';
import type { Reject, RejectReason } from './types.js';

/** Maximum length of `Reject.sample`, characters. */
export const SAMPLE_MAX_CHARS = 2000;
/** Maximum length of a name recorded on a reject that is not a valid photometer name. */
const REJECT_NAME_MAX = 64;
const DAY_MS = 86400000;

/** UTC midnight of the day containing `ms`. */
export function utcDay(ms: number): Date {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
}

/** Replace characters PostgreSQL text cannot hold or that break one-line output (C0 controls, DEL, NUL). */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(s) ? s.replace(/[\u0000-\u001f\u007f]/g, '\uFFFD') : s;
}

/** Cut `s` to at most `max` UTF-16 units without splitting a surrogate pair. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return s.slice(0, end);
}

/**
 * The sample stored with a reject: the payload as JSON, or the raw text of a non-JSON payload
 * (`base64:` prefixed when it was not UTF-8), truncated to {@link SAMPLE_MAX_CHARS}.
 */
export function sampleOf(payload: unknown, raw?: 'utf8' | 'base64'): string {
  let s: string;
  if (raw !== undefined && typeof payload === 'string') {
    s = raw === 'base64' ? 'base64:' + payload : payload;
  } else {
    try {
      s = payload === undefined ? '' : JSON.stringify(payload) ?? String(payload);
    } catch {
      s = String(payload);
    }
  }
  return printable(cut(s, SAMPLE_MAX_CHARS));
}

/** Trimmed, lower-cased name from a payload, or null when there is no string name. */
function normName(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const n = v.trim().toLowerCase();
  return n === '' ? null : n;
}

/**
 * The name a reject is counted under: the payload's name when it is a valid photometer name, else
 * the topic's, else whichever exists (cleaned and cut to 64 characters), else null.
 */
export function rejectName(payload: unknown, topicName: string | null): string | null {
  const p =
    payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? normName((payload as Record<string, unknown>).name)
      : null;
  if (p !== null && NAME_PATTERN.test(p)) return p;
  const t = normName(topicName);
  if (t !== null && NAME_PATTERN.test(t)) return t;
  const any = p ?? t;
  return any === null ? null : printable(cut(any, REJECT_NAME_MAX));
}

/** The day a reject belongs to: the reading's own valid `tstamp` if it has one, else the receipt day. */
export function rejectDay(payload: unknown, rx: Date): Date {
  const rxMs = rx.getTime();
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    const ts = (payload as Record<string, unknown>).tstamp;
    if (typeof ts === 'string') {
      const ms = parseTstampMs(ts);
      if (ms !== null && ms >= MIN_TSTAMP_MS && ms - rxMs <= MAX_FUTURE_MS) return utcDay(ms);
    }
  }
  return utcDay(Number.isFinite(rxMs) ? rxMs : 0);
}

/** Assemble a reject; `detail` is forced onto one printable line. */
export function makeReject(
  reason: RejectReason,
  payload: unknown,
  rx: Date,
  topicName: string | null,
  detail: string,
  raw?: 'utf8' | 'base64',
  useTstampDay = true,
): Reject {
  return {
    reason,
    name: raw === undefined ? rejectName(payload, topicName) : rejectName(null, topicName),
    day: useTstampDay && raw === undefined ? rejectDay(payload, rx) : rejectDay(null, rx),
    detail: printable(cut(detail, SAMPLE_MAX_CHARS)),
    sample: sampleOf(payload, raw),
  };
}
