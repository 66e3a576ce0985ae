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
import { isoBytesMs } from '../../model/timestamp.js';
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
      ms = isoBytesMs(b, start, stop);
      if (ms !== ms) return Number.NaN;
    } else if (role !== ROLE_SKIP) {
      if (scanNumber(b, start, stop) !== stop) return Number.NaN;
      const { canonical, integral, value } = scannedNumber;
      if (role === ROLE_INT && canonical && (!integral || value < 0 || value > SEQ_MAX)) return Number.NaN;
      const slot = cols.slots[i];
      if (slot >= 0) out.set(slot, scannedNumber.state, start, stop);
      const channel = cols.zpChannel[i];
      if (channel >= 0) {
        const zp = Number(latin1(b, start, stop));
        if (!Number.isFinite(zp)) return Number.NaN; // 1e400: the general path rejects the line
        zps[channel] = zp;
      }
    }
    start = stop + 1;
  }
  return ms;
}
