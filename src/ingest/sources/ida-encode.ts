/**
 * The IDA fast path's values → an encoded COPY row (src/load/encoded.ts) without a Reading per row:
 * the same text `encodeColumns` makes of the Reading the line stands for. A value that does not fit
 * its column returns null, and the caller keeps the Reading (the loader then rejects it with the
 * field's name, as for any source).
 */
import { int32, real } from '../../load/encode.js';
import { isoUtc } from '../../util/iso-time.js';
import { encodedRow, type EncodedReading } from '../../load/encoded.js';

/** The values of one IDA line, by meaning; null = no such column. */
export interface IdaValues {
  ms: number;
  seq: number | null;
  freq: number;
  mag: number;
  tamb: number | null;
  tsky: number | null;
  /** freq2, mag2, freq3, mag3, freq4, mag4 (TESS4C), else null. */
  extra: ReadonlyArray<number | null> | null;
}

const NULL6 = '\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N';
/** wdbm, rev, azimuth, altitude, longitude, latitude, height: never in IDA files. */
const ABSENT = '\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N';

function realCol(v: number | null): string | undefined {
  if (v === null) return '\t\\N';
  return real(v) ? `\t${v}` : undefined;
}

export function encodeIda(name: string, v: IdaValues, tstampSource: string): EncodedReading | null {
  if (v.seq !== null && !int32(v.seq)) return null;
  const freq = realCol(v.freq);
  const mag = realCol(v.mag);
  const tamb = realCol(v.tamb);
  const tsky = realCol(v.tsky);
  if (freq === undefined || mag === undefined || tamb === undefined || tsky === undefined) return null;
  let extra = NULL6;
  if (v.extra !== null) {
    extra = '';
    for (const x of v.extra) {
      const c = realCol(x);
      if (c === undefined) return null;
      extra += c;
    }
  }
  const cols = `\t${isoUtc(v.ms)}\t${tstampSource}\tida\t${v.seq === null ? '\\N' : v.seq}${freq}${mag}${tamb}${tsky}${ABSENT}${extra}`;
  return encodedRow(name, v.ms, v.mag === 0, cols, null);
}
