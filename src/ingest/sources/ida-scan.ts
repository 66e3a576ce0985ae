/**
 * The fast path of IDA data lines: one line's bytes → its values as positions (src/model/scanned-values.ts)
 * for the COPY encoder (src/load/encode-scanned.ts), with no string per line or field. It takes the
 * common case only — exactly the declared number of fields, the UTC time as `YYYY-MM-DDTHH:mm:ss[.fff]`,
 * numbers as JSON writes them, no blanks — and returns NaN for anything else: the line then takes the
 * general path (ida-source.ts), which decides every reject.
 */
import { scanNumber, scannedNumber } from '../../model/scan-number.js';
import type { ScannedValues } from '../../model/scanned-values.js';
import { SEQ_MAX } from '../../model/schemas.js';
import { latin1 } from '../../util/bytes.js';

export const ROLE_SKIP = 0;
export const ROLE_TIME = 1;
export const ROLE_NUMBER = 2;
export const ROLE_INT = 3;

/** What the fast path does with each column of a file's layout. */
export interface IdaColumns {
  /** Fields per line. */
  expected: number;
  /** Per column: ROLE_*. */
  roles: number[];
  /** Per column: the ScannedValues slot it is stored in, or -1. */
  slots: number[];
  /** Per column: the channel (0–3) whose zero point it is, or -1. */
  zpChannel: number[];
}

const SEMICOLON = 0x3b;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits at line[i], line[i+1] as a number, or -1. */
function two(line: Uint8Array, i: number): number {
  const x = line[i] - 48;
  const y = line[i + 1] - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

/** `YYYY-MM-DDTHH:mm:ss` or `…ss.fff` (UTC) in line[a, b) → epoch ms, or NaN for anything else. */
export function fastTime(line: Uint8Array, a: number, b: number): number {
  const n = b - a;
  if (n !== 19 && n !== 23) return Number.NaN;
  if (line[a + 4] !== 45 || line[a + 7] !== 45 || line[a + 10] !== 84 || line[a + 13] !== 58 || line[a + 16] !== 58) return Number.NaN;
  const y1 = two(line, a);
  const y2 = two(line, a + 2);
  const month = two(line, a + 5);
  const day = two(line, a + 8);
  const hour = two(line, a + 11);
  const minute = two(line, a + 14);
  const second = two(line, a + 17);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return Number.NaN;
  let millis = 0;
  if (n === 23) {
    const m1 = two(line, a + 20);
    const m2 = line[a + 22] - 48;
    if (line[a + 19] !== 46 || m1 < 0 || m2 < 0 || m2 > 9) return Number.NaN;
    millis = m1 * 10 + m2;
  }
  const year = y1 * 100 + y2;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 1 : 0;
  if (day > MONTH_DAYS[month - 1] + leap) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis);
}

/**
 * The line in b[from, end) (no newline, no CR): its UTC time in epoch ms, its stored values in `out` and
 * its zero points in `zps` (by channel; others untouched); NaN when it is not in the common form.
 */
export function scanIdaLine(b: Buffer, from: number, end: number, cols: IdaColumns, out: ScannedValues, zps: (number | null)[]): number {
  out.clear();
  const last = cols.expected - 1;
  let ms = Number.NaN;
  let start = from;
  for (let i = 0; i <= last; i++) {
    let stop = start;
    while (stop < end && b[stop] !== SEMICOLON) stop++;
    if ((stop === end) !== (i === last)) return Number.NaN; // fewer or more fields than declared
    const role = cols.roles[i];
    if (role === ROLE_TIME) {
      ms = fastTime(b, start, stop);
      if (ms !== ms) return Number.NaN;
    } else if (role !== ROLE_SKIP) {
      if (scanNumber(b, start, stop) !== stop) return Number.NaN;
      const { canonical, integral, value } = scannedNumber;
      if (role === ROLE_INT && canonical && (!integral || value < 0 || value > SEQ_MAX)) return Number.NaN;
      const slot = cols.slots[i];
      if (slot >= 0) out.set(slot, scannedNumber.state, start, stop);
      const channel = cols.zpChannel[i];
      if (channel >= 0) zps[channel] = Number(latin1(b, start, stop));
    }
    start = stop + 1;
  }
  return ms;
}
