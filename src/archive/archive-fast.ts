/**
 * The fast path of archive ingest: one parsed archive line → an encoded COPY row (src/load/encoded.ts)
 * for the common case, a well-formed, non-retained TESS-W or TESS4C reading in the writer's own
 * format. No ArchiveMessage, Reading or ClassifiedMessage is built. Anything unusual returns null and
 * goes through the generic path (decode-line.ts → classify.ts), which therefore decides every reject:
 * the payload is still checked by the same ajv validator, and the row is only built when the generic
 * path would load the very same values.
 */
import { encodedRow, type EncodedReading } from '../load/encoded.js';
import { finite, int16, int32, real } from '../load/encode.js';
import { isoUtc } from '../util/iso-time.js';
import type { ReadingPayload } from '../model/schemas.js';
import { MAX_FUTURE_MS, MIN_TSTAMP_MS, parseTstampMs } from '../model/timestamp.js';
import { isReadingPayload } from '../model/validate.js';
import { readingNameEnd } from '../model/classify.js';
import { normalName } from '../model/reading.js';
import { parseRxMs } from './decode-line.js';

type Check = (v: number) => boolean;
/** Set when a value does not fit its column: the generic path then builds the reject. */
let misfit = false;

function col(v: number | null | undefined, fits: Check): string {
  if (v === null || v === undefined) return '\t\\N';
  if (fits(v)) return '\t' + String(v);
  misfit = true;
  return '';
}

/** The reading's time in epoch ms, or NaN when the generic path must decide (no usable time). */
function readingMs(tstamp: unknown, rxMs: number): number {
  if (tstamp === undefined || tstamp === null || tstamp === '') return rxMs;
  if (typeof tstamp !== 'string') return NaN;
  const ms = parseTstampMs(tstamp);
  if (ms === null || ms < MIN_TSTAMP_MS || ms - rxMs > MAX_FUTURE_MS) return NaN;
  return ms;
}

function encode(p: ReadingPayload, ms: number, source: string): string | null {
  misfit = false;
  const head = `\t${isoUtc(ms)}\t${source}\tmqtt${col(p.seq, int32)}`;
  const f1 = p.F1;
  let cols: string;
  if (f1 === undefined) {
    cols =
      head + col(p.freq, real) + col(p.mag, real) + col(p.tamb, real) + col(p.tsky, real) + col(p.wdBm, int16) + col(p.rev, int16) +
      col(p.az ?? p.azi, real) + col(p.alt, real) + col(p.long, finite) + col(p.lat, finite) + col(p.height, real) +
      '\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N';
  } else {
    const f2 = p.F2!;
    const f3 = p.F3!;
    const f4 = p.F4!;
    cols =
      head + col(f1.freq, real) + col(f1.mag, real) + col(p.tamb, real) + col(p.tsky, real) + col(p.wdBm, int16) + col(p.rev, int16) +
      col(p.az ?? p.azi, real) + col(p.alt, real) + col(p.long, finite) + col(p.lat, finite) + col(p.height, real) +
      col(f2.freq, real) + col(f2.mag, real) + col(f3.freq, real) + col(f3.mag, real) + col(f4.freq, real) + col(f4.mag, real);
  }
  return misfit ? null : cols;
}

/**
 * `value` is the JSON.parse of archive `line`. Returns the encoded reading, or null when the line is
 * anything but a plain loadable reading (register, retained, reject, unusual format…).
 */
export function fastReading(value: unknown, line: string, topicPrefix: string): EncodedReading | null {
  if (typeof value !== 'object' || value === null) return null;
  const o = value as Record<string, unknown>;
  if (typeof o.rx !== 'string' || readingNameEnd(o.topic, topicPrefix) < 0) return null;
  if (o.retain !== undefined && o.retain !== false) return null;
  const qos = o.qos;
  if (qos !== undefined && qos !== 0 && qos !== 1 && qos !== 2) return null;
  const payload = o.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const rxMs = parseRxMs(o.rx);
  if (Number.isNaN(rxMs) || !isReadingPayload(payload)) return null;
  const p = payload;
  const ms = readingMs(p.tstamp, rxMs);
  if (Number.isNaN(ms)) return null;
  const own = !(p.tstamp === undefined || p.tstamp === null || p.tstamp === '');
  const cols = encode(p, ms, own ? 'publisher' : 'subscriber');
  if (cols === null) return null;
  const mag = p.F1 === undefined ? p.mag : p.F1.mag;
  return encodedRow(normalName(p.name), ms, mag === 0, cols, null);
}
