/**
 * One pass over the bytes of the common reading payload — a flat JSON object, as every TESS-W publishes —
 * recording where each stored field's value is, without decoding text, JSON.parse, objects or the ajv
 * validator. `JSON.parse` + ajv + the encoding were three quarters of the ingest CPU; this scan is a
 * fraction of it (bytes rather than a string: a typed-array read is several times cheaper than charCodeAt
 * on the slices `split` makes).
 *
 * It only ever says "this is a valid reading payload with these values" or "not mine" (-1): anything it
 * does not fully understand — TESS4C channels (F1..F4), nested values, escapes in keys or stored strings,
 * duplicate stored keys, a value the schema (schemas.ts) would refuse — is left to the JSON.parse paths,
 * which decide every reject. A successful scan also proves the text is valid JSON. A property test
 * (test/archive/archive-scan.test.ts) holds it to the decisions and the COPY text of the generic path.
 */
import { bytesAre } from '../util/bytes.js';
import { isDigit, scanNumber, scannedNumber } from './scan-number.js';
import {
  ABSENT, ALT, AZ, AZI, CANONICAL, F1_FREQ, F1_MAG, FREQ, FREQ2, FREQ3, FREQ4, HEIGHT, LAT, LONG, MAG, MAG2, MAG3, MAG4, NAME, NULL, REV, SEQ,
  STRING, TAMB, TSKY, TSTAMP, WDBM, type ScannedValues,
} from './scanned-values.js';
import { SEQ_MAX, SMALLINT_MAX, SMALLINT_MIN } from './schemas.js';

const QUOTE = 0x22, BACKSLASH = 0x5c, MINUS = 0x2d;
const NULL_WORD = Buffer.from('null'), TRUE_WORD = Buffer.from('true'), FALSE_WORD = Buffer.from('false');
const OPEN = 0x7b, CLOSE = 0x7d, COMMA = 0x2c, COLON = 0x3a;

/** The index of the first byte from `i` that is not JSON whitespace (or `end`). */
export function skipBlanks(s: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = s[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** A JSON string starting at the quote at `i`: the index after its closing quote, or -1. `escapes`: whether `\` may appear. */
function scanString(s: Uint8Array, i: number, end: number, escapes: boolean): number {
  i++;
  while (i < end) {
    const c = s[i];
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      if (!escapes || i + 1 >= end) return -1;
      const x = s[i + 1];
      if (x === 0x75) {
        // \uXXXX
        if (i + 6 > end || !isHex(s[i + 2]) || !isHex(s[i + 3]) || !isHex(s[i + 4]) || !isHex(s[i + 5])) return -1;
        i += 6;
        continue;
      }
      if (x !== QUOTE && x !== BACKSLASH && x !== 0x2f && x !== 0x62 && x !== 0x66 && x !== 0x6e && x !== 0x72 && x !== 0x74) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

/** The first (up to) four bytes of a key as one int32: keys are compared as such. */
function head4(s: Uint8Array, from: number, to: number): number {
  let k = 0;
  for (let i = from; i < to && i < from + 4; i++) k = (k << 8) | s[i];
  return k;
}

function keyHead(name: string): number {
  return head4(Buffer.from(name, 'latin1'), 0, name.length);
}

const K_AZ = keyHead('az'), K_SEQ = keyHead('seq'), K_REV = keyHead('rev'), K_MAG = keyHead('mag'), K_ALT = keyHead('alt');
const K_LAT = keyHead('lat'), K_AZI = keyHead('azi'), K_NAME = keyHead('name'), K_FREQ = keyHead('freq'), K_TAMB = keyHead('tamb');
const K_TSKY = keyHead('tsky'), K_WDBM = keyHead('wdBm'), K_LONG = keyHead('long'), K_TSTA = keyHead('tsta'), K_HEIG = keyHead('heig');

/** slotOf's code of the TESS4C channel key F(n+1): CHANNEL_KEY - n. */
const CHANNEL_KEY = -10;
/** The freq and mag slots of channels F1..F4. */
const CHANNEL_SLOTS = [[F1_FREQ, F1_MAG], [FREQ2, MAG2], [FREQ3, MAG3], [FREQ4, MAG4]];

/**
 * The slot of the key spanning [from, to), -1 for a key that is not stored, -2 for a key this scanner
 * leaves alone, CHANNEL_KEY - n for the TESS4C channel F(n+1).
 */
function slotOf(s: Uint8Array, from: number, to: number): number {
  const k = head4(s, from, to);
  switch (to - from) {
    case 2:
      if (s[from] === 0x46) {
        const channel = s[from + 1] - 0x31; // "F1".."F4"
        return channel >= 0 && channel <= 3 ? CHANNEL_KEY - channel : -2;
      }
      return k === K_AZ ? AZ : -1;
    case 3:
      return k === K_SEQ ? SEQ : k === K_REV ? REV : k === K_MAG ? MAG : k === K_ALT ? ALT : k === K_LAT ? LAT : k === K_AZI ? AZI : -1;
    case 4:
      return k === K_NAME ? NAME : k === K_FREQ ? FREQ : k === K_TAMB ? TAMB : k === K_TSKY ? TSKY : k === K_WDBM ? WDBM : k === K_LONG ? LONG : -1;
    case 6:
      if (k === K_TSTA && s[from + 4] === 0x6d && s[from + 5] === 0x70) return TSTAMP; // "mp"
      if (k === K_HEIG && s[from + 4] === 0x68 && s[from + 5] === 0x74) return HEIGHT; // "ht"
      return -1;
    default:
      return -1;
  }
}

function isHex(c: number): boolean {
  return isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** A photometer name as the schema accepts it without trimming: 1–64 of A-Z a-z 0-9 _ -. */
function isPlainName(s: Uint8Array, from: number, to: number): boolean {
  if (to - from < 1 || to - from > 64) return false;
  for (let i = from; i < to; i++) {
    const c = s[i];
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || isDigit(c) || c === 0x5f || c === MINUS)) return false;
  }
  return true;
}

/** Integer slots and their ranges (the schema's). */
function intFits(slot: number, v: number): boolean {
  if (slot === SEQ) return v >= 0 && v <= SEQ_MAX;
  if (slot === REV) return v >= 0 && v <= SMALLINT_MAX;
  return v >= SMALLINT_MIN && v <= SMALLINT_MAX; // WDBM
}

/**
 * Scans the payload object starting at `from` (its `{`) up to `end` and fills `out`. Returns the
 * index after the closing `}`, or -1 when the payload is not a plain TESS-W reading this scanner
 * vouches for (the caller then takes the JSON.parse path).
 */
export function scanReadingPayload(s: Uint8Array, from: number, end: number, out: ScannedValues): number {
  const { state } = out;
  out.clear();
  let i = skipBlanks(s, from, end);
  if (i >= end || s[i] !== OPEN) return -1;
  i = skipBlanks(s, i + 1, end);
  if (i < end && s[i] === CLOSE) return -1; // {} lacks the required fields
  for (;;) {
    if (i >= end || s[i] !== QUOTE) return -1;
    const keyFrom = i + 1;
    const keyEnd = scanString(s, i, end, false);
    if (keyEnd < 0) return -1;
    const slot = slotOf(s, keyFrom, keyEnd - 1);
    if (slot === -2) return -1;
    i = skipBlanks(s, keyEnd, end);
    if (i >= end || s[i] !== COLON) return -1;
    i = skipBlanks(s, i + 1, end);
    if (i >= end) return -1;
    if (slot >= 0 && state[slot] !== ABSENT) return -1; // duplicate key: JSON.parse keeps the last one
    const c = s[i];
    let next: number;
    if (slot <= CHANNEL_KEY) {
      next = scanChannel(s, i, end, out, CHANNEL_SLOTS[CHANNEL_KEY - slot]);
      if (next < 0) return -1;
    } else if (c === QUOTE) {
      next = scanString(s, i, end, slot < 0);
      if (next < 0) return -1;
      if (slot >= 0) {
        if (slot !== NAME && slot !== TSTAMP) return -1; // a string where a number belongs
        if (slot === NAME && !isPlainName(s, i + 1, next - 1)) return -1;
        out.set(slot, STRING, i + 1, next - 1);
      }
    } else if (c === MINUS || isDigit(c)) {
      next = scanNumber(s, i, end);
      if (next < 0) return -1;
      if (slot >= 0) {
        if (slot === NAME || slot === TSTAMP) return -1;
        const isInt = slot === SEQ || slot === REV || slot === WDBM;
        const { canonical, integral, value } = scannedNumber;
        if (isInt && canonical && (!integral || !intFits(slot, value))) return -1;
        out.set(slot, scannedNumber.state, i, next);
      }
    } else if (c === 0x6e && bytesAre(s, i, end, NULL_WORD)) {
      next = i + 4;
      if (slot >= 0) state[slot] = NULL;
    } else if ((c === 0x74 && bytesAre(s, i, end, TRUE_WORD)) || (c === 0x66 && bytesAre(s, i, end, FALSE_WORD))) {
      if (slot >= 0) return -1;
      next = i + (c === 0x74 ? 4 : 5);
    } else {
      return -1; // nested object or array, or not JSON
    }
    i = skipBlanks(s, next, end);
    if (i >= end) return -1;
    const sep = s[i];
    if (sep === CLOSE) break;
    if (sep !== COMMA) return -1;
    i = skipBlanks(s, i + 1, end);
  }
  // Required by the schema, and not null: a TESS4C reading needs all four channels, a TESS-W one its
  // freq, mag, tamb and tsky (channels 2-4 without F1 are left to the generic path).
  const tess4c = state[F1_FREQ] !== ABSENT;
  for (const slot of tess4c ? REQUIRED_TESS4C : REQUIRED_TESSW) if (state[slot] < CANONICAL) return -1;
  if (!tess4c && (state[FREQ2] !== ABSENT || state[FREQ3] !== ABSENT || state[FREQ4] !== ABSENT)) return -1;
  return i + 1;
}

const REQUIRED_TESSW = [SEQ, NAME, REV, FREQ, MAG, TAMB, TSKY];
const REQUIRED_TESS4C = [SEQ, NAME, REV, F1_FREQ, F1_MAG, FREQ2, MAG2, FREQ3, MAG3, FREQ4, MAG4];

/**
 * A TESS4C channel object at `i` (`{"freq":…,"mag":…,"zp":…}`): its freq and mag (required numbers) into
 * `slots`; other keys may hold any scalar. The index after its `}`, or -1.
 */
function scanChannel(s: Uint8Array, i: number, end: number, out: ScannedValues, [freqSlot, magSlot]: number[]): number {
  if (s[i] !== OPEN || out.state[freqSlot] !== ABSENT) return -1; // not an object, or a duplicate channel
  i = skipBlanks(s, i + 1, end);
  for (;;) {
    if (i >= end || s[i] !== QUOTE) return -1;
    const keyFrom = i + 1;
    const keyEnd = scanString(s, i, end, false);
    if (keyEnd < 0) return -1;
    const len = keyEnd - 1 - keyFrom;
    const slot = len === 4 && head4(s, keyFrom, keyEnd - 1) === K_FREQ ? freqSlot : len === 3 && head4(s, keyFrom, keyEnd - 1) === K_MAG ? magSlot : -1;
    i = skipBlanks(s, keyEnd, end);
    if (i >= end || s[i] !== COLON) return -1;
    i = skipBlanks(s, i + 1, end);
    if (i >= end) return -1;
    let next: number;
    if (slot >= 0) {
      if (out.state[slot] !== ABSENT) return -1;
      next = scanNumber(s, i, end);
      if (next < 0) return -1;
      out.set(slot, scannedNumber.state, i, next);
    } else {
      next = skipScalar(s, i, end);
      if (next < 0) return -1;
    }
    i = skipBlanks(s, next, end);
    if (i >= end) return -1;
    if (s[i] === CLOSE) break;
    if (s[i] !== COMMA) return -1;
    i = skipBlanks(s, i + 1, end);
  }
  return out.state[freqSlot] !== ABSENT && out.state[magSlot] !== ABSENT ? i + 1 : -1;
}

/** Past a JSON string, number, true, false or null at `i`; -1 for anything else (objects and arrays included). */
function skipScalar(s: Uint8Array, i: number, end: number): number {
  const c = s[i];
  if (c === QUOTE) return scanString(s, i, end, true);
  if (c === MINUS || isDigit(c)) return scanNumber(s, i, end);
  if (c === 0x6e) return bytesAre(s, i, end, NULL_WORD) ? i + 4 : -1;
  if (c === 0x74) return bytesAre(s, i, end, TRUE_WORD) ? i + 4 : -1;
  if (c === 0x66) return bytesAre(s, i, end, FALSE_WORD) ? i + 5 : -1;
  return -1;
}

const NAME_CACHE_SIZE = 4096;
const cachedNameBytes: (Buffer | undefined)[] = new Array(NAME_CACHE_SIZE);
const cachedNames: string[] = new Array(NAME_CACHE_SIZE);

/**
 * The normalised (lower-cased) name of a scanned payload, from a small cache keyed by its bytes: names
 * repeat on every reading of a photometer, so most readings need no string of their own.
 */
export function scannedName(s: Uint8Array, out: ScannedValues): string {
  const from = out.start[NAME];
  const to = out.end[NAME];
  let h = to - from;
  for (let i = from; i < to; i++) h = (h * 31 + s[i]) | 0;
  const k = h & (NAME_CACHE_SIZE - 1);
  const cached = cachedNameBytes[k];
  if (cached !== undefined && cached.length === to - from) {
    let same = true;
    for (let i = 0; i < cached.length; i++) {
      if (cached[i] !== s[from + i]) {
        same = false;
        break;
      }
    }
    if (same) return cachedNames[k];
  }
  const name = Buffer.from(s.subarray(from, to)).toString('latin1').toLowerCase(); // isPlainName: ASCII only
  cachedNameBytes[k] = Buffer.from(s.subarray(from, to));
  cachedNames[k] = name;
  return name;
}
