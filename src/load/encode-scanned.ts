/**
 * A scanned reading (src/model/scanned-values.ts: an MQTT payload, an IDA line) → its COPY row, written
 * straight into the shared row buffer (encoded.ts): canonical numbers are copied byte by byte from the
 * input, the others converted as `encodeColumns` converts them. The bytes are exactly those
 * `encodeColumns` writes for the Reading the generic path would build.
 */
import {
  ABSENT, ALT, AZ, AZI, CANONICAL, F1_FREQ, F1_MAG, FREQ, FREQ2, FREQ3, FREQ4, HEIGHT, LAT, LONG, MAG, MAG2, MAG3, MAG4, OTHER_NUMBER, REV, SEQ,
  STRING, TAMB, TSKY, TSTAMP, WDBM, type ScannedValues,
} from '../model/scanned-values.js';
import { scannedName } from '../model/scan-payload.js';
import { isoBytesMs, MAX_FUTURE_MS, MIN_TSTAMP_MS, parseTstampMs } from '../model/timestamp.js';
import { SEQ_MAX, SMALLINT_MAX, SMALLINT_MIN } from '../model/schemas.js';
import type { LoadSource, TimestampSource } from '../model/types.js';
import { latin1 } from '../util/bytes.js';
import { putIsoUtc } from '../util/iso-time.js';
import { real } from './encode.js';
import { arenaEnd, arenaWith, placedRow, type EncodedReading } from './encoded.js';

/** Room reserved per row: 21 columns of at most 25 characters, the time, the sources and the tabs. */
const MAX_ROW_BYTES = 1024;
const TAB = 0x09;
/** The slots of the COPY columns after the sources (FREQ/MAG stand for F1's in a TESS4C reading, AZ for AZI when absent). */
const COLUMNS = [SEQ, FREQ, MAG, TAMB, TSKY, WDBM, REV, AZ, ALT, LONG, LAT, HEIGHT, FREQ2, MAG2, FREQ3, MAG3, FREQ4, MAG4];
const NUMBER_SLOTS = [SEQ, REV, FREQ, MAG, TAMB, TSKY, WDBM, AZ, AZI, ALT, LAT, LONG, HEIGHT, FREQ2, MAG2, FREQ3, MAG3, FREQ4, MAG4, F1_FREQ, F1_MAG];

/** `String(Number(text))` of the slots not written canonically, for this row. */
const converted: string[] = [];
const convertedValue = new Float64Array(32);

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
      return real(v);
  }
}

/** `\t<tstamp_src>\t<load_src>` as bytes, by the two sources. */
const SOURCES = Object.fromEntries(
  (['publisher', 'subscriber'] as const).map((t) => [t, Object.fromEntries((['mqtt', 'ida', 'csv', 'sqlite'] as const).map((l) => [l, Buffer.from(`\t${t}\t${l}`)]))]),
) as Record<TimestampSource, Record<LoadSource, Buffer>>;

function putBytes(buf: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i];
  return at;
}

function putAscii(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
  return at;
}

function putColumn(buf: Buffer, at: number, text: Buffer, f: ScannedValues, slot: number): number {
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
  text: Buffer, f: ScannedValues, name: string, ms: number, tstampSource: TimestampSource, loadSource: LoadSource,
): EncodedReading | null {
  for (const slot of NUMBER_SLOTS) {
    if (f.state[slot] !== OTHER_NUMBER) continue;
    const v = Number(latin1(text, f.start[slot], f.end[slot]));
    if (!fits(slot, v)) return null;
    convertedValue[slot] = v;
    converted[slot] = String(v);
  }
  const tess4c = f.state[F1_FREQ] !== ABSENT;
  const freq = tess4c ? F1_FREQ : FREQ;
  const mag = tess4c ? F1_MAG : MAG;
  const saturated =
    f.state[mag] === CANONICAL ? f.end[mag] - f.start[mag] === 1 && text[f.start[mag]] === 0x30 : f.state[mag] === OTHER_NUMBER && convertedValue[mag] === 0;
  const buf = arenaWith(MAX_ROW_BYTES);
  let at = arenaEnd();
  buf[at++] = TAB;
  at = putIsoUtc(buf, at, ms);
  at = putBytes(buf, at, SOURCES[tstampSource][loadSource]);
  for (let c = 0; c < COLUMNS.length; c++) {
    const slot = COLUMNS[c];
    at = putColumn(buf, at, text, f, slot === FREQ ? freq : slot === MAG ? mag : slot === AZ && f.state[AZ] < CANONICAL ? AZI : slot); // "az" wins over "azi"
  }
  return placedRow(name, ms, saturated, at);
}

/** A payload's `tstamp` in bytes [from, to): the common forms without a string, the others through parseTstampMs. */
function tstampMs(b: Buffer, from: number, to: number): number | null {
  const t = isoBytesMs(b, from, to);
  return t === t ? t : parseTstampMs(latin1(b, from, to));
}

/**
 * The COPY row of a reading payload scanned in `text` and received at `rxMs` (epoch ms), as the generic
 * path (reading.ts) builds it: its own `tstamp` when it has one, else the receipt time; the payload's name,
 * normalised. null when the generic path must decide (a time it refuses, a value that does not fit).
 */
export function encodeScannedReading(text: Buffer, f: ScannedValues, rxMs: number): EncodedReading | null {
  let ms = rxMs;
  const own = f.state[TSTAMP] === STRING && f.end[TSTAMP] > f.start[TSTAMP];
  if (own) {
    const t = tstampMs(text, f.start[TSTAMP], f.end[TSTAMP]);
    if (t === null || t < MIN_TSTAMP_MS || t - rxMs > MAX_FUTURE_MS) return null;
    ms = t;
  }
  return encodeScanned(text, f, scannedName(text, f), ms, own ? 'publisher' : 'subscriber', 'mqtt');
}
