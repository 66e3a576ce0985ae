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
 * (test/model/scan-payload.test.ts) holds it to the decisions and the COPY text of the generic path.
 */
import { bytesAre } from '../util/bytes.js';
import { SEQ_MAX, SMALLINT_MAX, SMALLINT_MIN } from './schemas.js';

/** Stored fields, in the order of their slots. */
export const SEQ = 0, NAME = 1, REV = 2, FREQ = 3, MAG = 4, TAMB = 5, TSKY = 6, WDBM = 7;
export const AZ = 8, AZI = 9, ALT = 10, LAT = 11, LONG = 12, HEIGHT = 13, TSTAMP = 14;
const FIELDS = 15;

/** What a slot holds. */
export const ABSENT = 0, NULL = 1;
/** A number written as JavaScript's `String(value)` would write it: the text can be copied as is. */
export const CANONICAL = 2;
/** Any other JSON number (`5.0`, `1e3`, `-0`): its text must be converted (`String(Number(text))`). */
export const OTHER_NUMBER = 3;
/** A string (without escapes); the slot spans the characters between the quotes. */
export const STRING = 4;

/** Where the values of one scanned payload are in its bytes. Reused from payload to payload. */
export class ScannedPayload {
  readonly state = new Uint8Array(FIELDS);
  readonly start = new Int32Array(FIELDS);
  readonly end = new Int32Array(FIELDS);
}

const QUOTE = 0x22, BACKSLASH = 0x5c, MINUS = 0x2d, DOT = 0x2e, ZERO = 0x30, NINE = 0x39;
const OPEN = 0x7b, CLOSE = 0x7d, COMMA = 0x2c, COLON = 0x3a;

/** Set by scanNumber: the token is canonical, has a fraction or exponent, and its integer value (when it has neither). */
let numCanonical = false;
let numIntegral = false;
let numValue = 0;

/** The index of the first byte from `i` that is not JSON whitespace (or `end`). */
export function skipBlanks(s: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = s[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/**
 * A JSON number at `i`: the index after it, or -1 when it breaks the JSON grammar. Canonical means
 * no exponent, at most 15 significant digits, no trailing zero in the fraction, not `-0` and, below 1,
 * fewer than six zeros after the point: then the decimal round-trips through a double and `String`
 * writes exactly these characters (anything else is OTHER_NUMBER).
 */
function scanNumber(s: Uint8Array, i: number, end: number): number {
  const negative = s[i] === MINUS;
  if (negative) i++;
  if (i >= end || !isDigit(s[i])) return -1;
  let value = 0;
  let significant = 0;
  if (s[i] === ZERO) {
    i++;
  } else {
    while (i < end && isDigit(s[i])) {
      value = value * 10 + (s[i] - ZERO);
      significant++;
      i++;
    }
  }
  let canonical = true;
  let integral = true;
  if (i < end && s[i] === DOT) {
    i++;
    integral = false;
    const from = i;
    let leadingZeros = 0;
    let last = 0;
    while (i < end && isDigit(s[i])) {
      last = s[i];
      if (significant === 0 && last === ZERO) leadingZeros++;
      else significant++;
      i++;
    }
    if (i === from) return -1;
    if (last === ZERO || (value === 0 && leadingZeros >= 6)) canonical = false;
  }
  const e = i < end ? s[i] : 0;
  if (e === 0x65 || e === 0x45) {
    i++;
    integral = false;
    canonical = false;
    const sign = i < end ? s[i] : 0;
    if (sign === 0x2b || sign === MINUS) i++;
    const from = i;
    while (i < end && isDigit(s[i])) i++;
    if (i === from) return -1;
  }
  if (significant > 15 || (negative && significant === 0)) canonical = false;
  numCanonical = canonical;
  numIntegral = integral;
  numValue = negative ? -value : value;
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

/** The slot of the key spanning [from, to), -1 for a key that is not stored, -2 for a key this scanner leaves alone. */
function slotOf(s: Uint8Array, from: number, to: number): number {
  const k = head4(s, from, to);
  switch (to - from) {
    case 2:
      if (s[from] === 0x46) return -2; // F1..F4 (and any other "F?"): TESS4C
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
export function scanReadingPayload(s: Uint8Array, from: number, end: number, out: ScannedPayload): number {
  const { state, start, end: stop } = out;
  state.fill(ABSENT);
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
    if (c === QUOTE) {
      next = scanString(s, i, end, slot < 0);
      if (next < 0) return -1;
      if (slot >= 0) {
        if (slot !== NAME && slot !== TSTAMP) return -1; // a string where a number belongs
        if (slot === NAME && !isPlainName(s, i + 1, next - 1)) return -1;
        state[slot] = STRING;
        start[slot] = i + 1;
        stop[slot] = next - 1;
      }
    } else if (c === MINUS || isDigit(c)) {
      next = scanNumber(s, i, end);
      if (next < 0) return -1;
      if (slot >= 0) {
        if (slot === NAME || slot === TSTAMP) return -1;
        const isInt = slot === SEQ || slot === REV || slot === WDBM;
        if (isInt && numCanonical && (!numIntegral || !intFits(slot, numValue))) return -1;
        state[slot] = numCanonical ? CANONICAL : OTHER_NUMBER;
        start[slot] = i;
        stop[slot] = next;
      }
    } else if (c === 0x6e && bytesAre(s, i, end, 'null')) {
      next = i + 4;
      if (slot >= 0) state[slot] = NULL;
    } else if ((c === 0x74 && bytesAre(s, i, end, 'true')) || (c === 0x66 && bytesAre(s, i, end, 'false'))) {
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
  // Required by the schema for a TESS-W reading, and not null.
  for (const slot of REQUIRED) if (state[slot] < CANONICAL) return -1;
  return i + 1;
}

const REQUIRED = [SEQ, NAME, REV, FREQ, MAG, TAMB, TSKY];
