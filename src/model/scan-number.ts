/** A JSON number in bytes: where it ends, and whether its text is what `String(Number(text))` writes. */
import { CANONICAL, OTHER_NUMBER } from './scanned-values.js';

const MINUS = 0x2d, DOT = 0x2e, ZERO = 0x30, NINE = 0x39;

/** What the last {@link scanNumber} found. */
export const scannedNumber = {
  /** The text is canonical (see scanNumber). */
  canonical: false,
  /** No fraction and no exponent. */
  integral: false,
  /** The value of the integer part (exact up to 15 digits; the whole value when `integral`). */
  value: 0,
  /** CANONICAL or OTHER_NUMBER, for a ScannedValues slot. */
  state: OTHER_NUMBER as number,
};

export function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/**
 * A JSON number at `i`: the index after it, or -1 when it breaks the JSON grammar. Canonical means
 * no exponent, at most 15 significant digits, no trailing zero in the fraction, not `-0` and, below 1,
 * fewer than six zeros after the point: then the decimal round-trips through a double and `String`
 * writes exactly these characters (anything else is OTHER_NUMBER).
 */
export function scanNumber(s: Uint8Array, i: number, end: number): number {
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
  scannedNumber.canonical = canonical;
  scannedNumber.state = canonical ? CANONICAL : OTHER_NUMBER;
  scannedNumber.integral = integral;
  scannedNumber.value = negative ? -value : value;
  return i;
}
