/**
 * A scanned reading payload (src/model/scan-payload.ts) → its COPY row, written straight into the
 * shared row buffer (encoded.ts): canonical numbers are copied byte by byte from the payload, the
 * others converted as `encodeColumns` converts them. The bytes are exactly those
 * `encodeColumns` writes for the Reading the generic path would build.
 */
import { normalName } from '../model/reading.js';
import {
  ALT, AZ, AZI, CANONICAL, FREQ, HEIGHT, LAT, LONG, MAG, NAME, OTHER_NUMBER, REV, SEQ, STRING, TAMB, TSKY, TSTAMP, WDBM,
  type ScannedPayload,
} from '../model/scan-payload.js';
import { FLOAT4_MIN, SEQ_MAX, SMALLINT_MAX, SMALLINT_MIN } from '../model/schemas.js';
import { MAX_FUTURE_MS, MIN_TSTAMP_MS, parseTstampMs } from '../model/timestamp.js';
import type { LoadSource, TimestampSource } from '../model/types.js';
import { latin1 } from '../util/bytes.js';
import { putIsoUtc } from '../util/iso-time.js';
import { real } from './encode.js';
import { arenaEnd, arenaWith, placedRow, type EncodedReading } from './encoded.js';

/** Room reserved per row: 21 columns of at most 25 characters, the time, the sources and the tabs. */
const MAX_ROW_BYTES = 1024;
const TAB = 0x09;
/** Columns of the TESS4C channels 2–4, always empty here. */
const NO_CHANNELS = Buffer.from('\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N', 'latin1');
/** `\t<tstamp_source>\t<load_source>` as bytes, by load source, for each timestamp source. */
const SOURCES = { publisher: new Map<LoadSource, Buffer>(), subscriber: new Map<LoadSource, Buffer>() };
const NUMBER_SLOTS = [SEQ, REV, FREQ, MAG, TAMB, TSKY, WDBM, AZ, AZI, ALT, LAT, LONG, HEIGHT];

/** `String(Number(text))` of the slots not written canonically, for this row. */
const converted: string[] = [];
const convertedValue = new Float64Array(16);

/** Whether a value fits both the schema (schemas.ts) and the column (encode.ts). */
function fits(slot: number, v: number): boolean {
  switch (slot) {
    case SEQ:
      return Number.isInteger(v) && v >= 0 && v <= SEQ_MAX;
    case REV:
      return Number.isInteger(v) && v >= 0 && v <= SMALLINT_MAX;
    case WDBM:
      return Number.isInteger(v) && v >= SMALLINT_MIN && v <= SMALLINT_MAX;
    case LAT:
    case LONG:
      return Number.isFinite(v);
    default:
      return v === 0 || (real(v) && Math.abs(v) >= FLOAT4_MIN);
  }
}

function putAscii(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
  return at;
}

function putBytes(buf: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i];
  return at;
}

function sourcesOf(tstampSource: TimestampSource, loadSource: LoadSource): Buffer {
  const bySource = SOURCES[tstampSource];
  let b = bySource.get(loadSource);
  if (b === undefined) bySource.set(loadSource, (b = Buffer.from(`\t${tstampSource}\t${loadSource}`, 'latin1')));
  return b;
}

function putColumn(buf: Buffer, at: number, text: Buffer, f: ScannedPayload, slot: number): number {
  const state = f.state[slot];
  buf[at++] = TAB;
  if (state === CANONICAL) {
    const end = f.end[slot];
    for (let i = f.start[slot]; i < end; i++) buf[at++] = text[i];
    return at;
  }
  if (state === OTHER_NUMBER) return putAscii(buf, at, converted[slot]);
  buf[at++] = 0x5c; // \N
  buf[at++] = 0x4e;
  return at;
}

/**
 * The COPY row of the payload scanned in `text`, or null when a value written in an unusual way does
 * not fit (the generic path then decides: reject or another spelling of the same row).
 */
export function encodeScanned(
  text: Buffer, f: ScannedPayload, name: string, ms: number, tstampSource: TimestampSource, loadSource: LoadSource,
): EncodedReading | null {
  for (const slot of NUMBER_SLOTS) {
    if (f.state[slot] !== OTHER_NUMBER) continue;
    const v = Number(latin1(text, f.start[slot], f.end[slot]));
    if (!fits(slot, v)) return null;
    convertedValue[slot] = v;
    converted[slot] = String(v);
  }
  const saturated =
    f.state[MAG] === CANONICAL ? f.end[MAG] - f.start[MAG] === 1 && text[f.start[MAG]] === 0x30 : convertedValue[MAG] === 0;
  const buf = arenaWith(MAX_ROW_BYTES);
  let at = arenaEnd();
  buf[at++] = TAB;
  at = putIsoUtc(buf, at, ms);
  at = putBytes(buf, at, sourcesOf(tstampSource, loadSource));
  at = putColumn(buf, at, text, f, SEQ);
  at = putColumn(buf, at, text, f, FREQ);
  at = putColumn(buf, at, text, f, MAG);
  at = putColumn(buf, at, text, f, TAMB);
  at = putColumn(buf, at, text, f, TSKY);
  at = putColumn(buf, at, text, f, WDBM);
  at = putColumn(buf, at, text, f, REV);
  at = putColumn(buf, at, text, f, f.state[AZ] >= CANONICAL ? AZ : AZI); // "az" wins over "azi"
  at = putColumn(buf, at, text, f, ALT);
  at = putColumn(buf, at, text, f, LONG);
  at = putColumn(buf, at, text, f, LAT);
  at = putColumn(buf, at, text, f, HEIGHT);
  at = putBytes(buf, at, NO_CHANNELS);
  return placedRow(name, ms, saturated, at);
}

/**
 * The COPY row of a reading payload scanned in `text` and received at `rxMs` (epoch ms), as the generic
 * path (reading.ts) builds it: its own `tstamp` when it has one, else the receipt time; the payload's name,
 * normalised. null when the generic path must decide (a time it refuses, a value that does not fit).
 */
export function encodeScannedReading(text: Buffer, f: ScannedPayload, rxMs: number): EncodedReading | null {
  let ms = rxMs;
  const own = f.state[TSTAMP] === STRING && f.end[TSTAMP] > f.start[TSTAMP];
  if (own) {
    const t = parseTstampMs(latin1(text, f.start[TSTAMP], f.end[TSTAMP]));
    if (t === null || t < MIN_TSTAMP_MS || t - rxMs > MAX_FUTURE_MS) return null;
    ms = t;
  }
  const name = normalName(latin1(text, f.start[NAME], f.end[NAME]));
  return encodeScanned(text, f, name, ms, own ? 'publisher' : 'subscriber', 'mqtt');
}
