/**
 * Shared by the historical readers: field values → numbers, and rejects that name the file, the line
 * and the field, e.g. `stars1_2023-05.dat line 40: field "Frequency": not a number ("abc")`.
 */
import path from 'node:path';
import { MAX_FUTURE_MS, MIN_TSTAMP_MS } from '../../model/timestamp.js';
import type { Reading, Reject, RejectReason, TimestampSource, LoadSource } from '../../model/types.js';
import { log } from '../../util/log.js';

const SAMPLE_MAX = 2000;
const DAY_MS = 86_400_000;

/** Values that mean "no value" in the files tessdb-server and its tools wrote (Python's None, NaN, empty). */
export function isNullText(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  if (n > 4) return false;
  const l = s.toLowerCase();
  return l === 'none' || l === 'nan' || l === 'null' || l === 'na' || l === '-';
}

/** Sentinel for "not a number": the reader turns it into a reject naming the field. */
export const BAD = Symbol('bad number');

/**
 * A decimal number: `null` for an empty/None field, {@link BAD} for anything that is not a finite number.
 * `decimalComma` reads `20,5` as 20.5 (for CSV files written with a decimal comma).
 */
export function numberOrNull(s: string, decimalComma = false): number | null | typeof BAD {
  if (isNullText(s)) return null;
  const c = s.charCodeAt(0);
  // Number() accepts "0x1A", "Infinity" and surrounding blanks; a leading letter is never a reading.
  if (!((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46)) return BAD;
  const v = Number(decimalComma ? s.replace(',', '.') : s);
  return Number.isFinite(v) ? v : BAD;
}

/** An integer (a sequence number, a signal strength): as {@link numberOrNull}, and whole. */
export function integerOrNull(s: string): number | null | typeof BAD {
  const v = numberOrNull(s);
  return v === null || v === BAD ? v : Number.isInteger(v) ? v : BAD;
}

/** Why a reading time is not acceptable (same bounds as MQTT readings), or null. */
export function timeProblem(ms: number, nowMs = Date.now()): string | null {
  if (ms < MIN_TSTAMP_MS) return 'is before 2015-01-01';
  if (ms - nowMs > MAX_FUTURE_MS) return 'is in the future';
  return null;
}

export function utcDayOf(ms: number): Date {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
}

/** Bad lines of one file written to the log (warning level); the rest are only counted (reject_counts). */
const LOGGED_PER_FILE = 5;

/** Builds the per-line rejects of one file, logging the first few. */
export class LineRejects {
  readonly label: string;
  private count = 0;

  constructor(private readonly file: string) {
    this.label = path.basename(file);
  }

  make(reason: RejectReason, lineNo: number, detail: string, raw: string, name: string | null, day: Date): Reject {
    const line = `${this.label} line ${lineNo}: ${detail}`.replace(/[\u0000-\u001f\u007f]/g, ' ');
    this.count++;
    if (this.count <= LOGGED_PER_FILE) log.warn(`${path.dirname(this.file)}/${line}`);
    else if (this.count === LOGGED_PER_FILE + 1) log.warn(`${this.file}: more bad lines; all are counted in reject_counts`);
    return {
      reason,
      name,
      day,
      detail: line,
      sample: raw.length > SAMPLE_MAX ? raw.slice(0, SAMPLE_MAX) : raw,
    };
  }

  field(reason: RejectReason, lineNo: number, column: string, problem: string, raw: string, name: string | null, day: Date): Reject {
    return this.make(reason, lineNo, `field "${column}": ${problem}`, raw, name, day);
  }
}

/** A value shown in a reject detail: quoted and cut. */
export function shown(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** A reading with every optional field empty. */
export function emptyReading(name: string, tstamp: Date, tstampSource: TimestampSource, loadSource: LoadSource): Reading {
  return {
    name,
    tstamp,
    tstampSource,
    seq: null,
    freq: null,
    mag: null,
    tamb: null,
    tsky: null,
    rev: null,
    wdbm: null,
    azimuth: null,
    altitude: null,
    longitude: null,
    latitude: null,
    height: null,
    freq2: null,
    mag2: null,
    freq3: null,
    mag3: null,
    freq4: null,
    mag4: null,
    loadSource,
  };
}
