/**
 * A reading as positions in its input bytes: what the byte scanners (scan-payload.ts for MQTT payloads,
 * the IDA source's fast path) hand to the COPY encoder (src/load/encode-scanned.ts), with no value
 * decoded that the encoder can copy as it is.
 */

/** Slots, one per stored field (and `name`, `tstamp`, which payloads carry). */
export const SEQ = 0, NAME = 1, REV = 2, FREQ = 3, MAG = 4, TAMB = 5, TSKY = 6, WDBM = 7;
export const AZ = 8, AZI = 9, ALT = 10, LAT = 11, LONG = 12, HEIGHT = 13, TSTAMP = 14;
/** TESS4C channels 2–4. */
export const FREQ2 = 15, MAG2 = 16, FREQ3 = 17, MAG3 = 18, FREQ4 = 19, MAG4 = 20;
/** TESS4C channel 1 (`F1`): stored as freq/mag instead of the payload's own `freq`/`mag`, which are still checked. */
export const F1_FREQ = 21, F1_MAG = 22;
const SLOTS = 23;

/** What a slot holds. */
export const ABSENT = 0, NULL = 1;
/** A number written as JavaScript's `String(value)` would write it: the text can be copied as is. */
export const CANONICAL = 2;
/** Any other number (`5.0`, `1e3`, `-0`): its text must be converted (`String(Number(text))`). */
export const OTHER_NUMBER = 3;
/** A string (without escapes); the slot spans the characters between the quotes. */
export const STRING = 4;

/** Where the values of one scanned reading are in its bytes. Reused from reading to reading. */
export class ScannedValues {
  readonly state = new Uint8Array(SLOTS);
  readonly start = new Int32Array(SLOTS);
  readonly end = new Int32Array(SLOTS);

  clear(): void {
    this.state.fill(ABSENT);
  }

  set(slot: number, state: number, start: number, end: number): void {
    this.state[slot] = state;
    this.start[slot] = start;
    this.end[slot] = end;
  }
}
