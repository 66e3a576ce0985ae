/** Reading payload → `Reading` record. */
import { makeReject } from './reject.js';
import type { ReadingPayload } from './schemas.js';
import { resolveTstamp } from './timestamp.js';
import type { Reading, Reject } from './types.js';
import { checkReadingPayload, isReadingPayload } from './validate.js';

/**
 * Turn a reading payload received at `rx` into a `Reading`, or a reject (`invalid_payload` or
 * `invalid_timestamp`). `topicName` is the `<name>` of `STARS4ALL/<name>/reading`; it is only used
 * to name a reject when the payload has no usable name — the payload's `name` always wins.
 *
 * A reading without `tstamp` gets `rx` itself (the same Date object) as its time.
 */
export function parseReading(
  payload: unknown,
  rx: Date,
  topicName: string | null,
): { reading: Reading } | { reject: Reject } {
  const r = readingOrReject(payload, rx, topicName);
  return 'reason' in r ? { reject: r } : { reading: r };
}

/** Hot-path form of {@link parseReading}: the Reading itself, or a Reject (has `reason`). */
export function readingOrReject(payload: unknown, rx: Date, topicName: string | null): Reading | Reject {
  if (!isReadingPayload(payload)) return validationReject(payload, rx, topicName);
  const p: ReadingPayload = payload;

  const tstamp = resolveTstamp(p.tstamp, rx);
  if (typeof tstamp === 'string') return makeReject('invalid_timestamp', payload, rx, topicName, tstamp);

  const f1 = p.F1;
  if (f1 !== undefined) {
    const f2 = p.F2!;
    const f3 = p.F3!;
    const f4 = p.F4!;
    return {
      name: normalName(p.name),
      tstamp,
      tstampSource: tstamp === rx ? 'subscriber' : 'publisher',
      seq: p.seq,
      freq: f1.freq,
      mag: f1.mag,
      tamb: p.tamb ?? null,
      tsky: p.tsky ?? null,
      rev: p.rev,
      wdbm: p.wdBm ?? null,
      azimuth: p.az ?? p.azi ?? null,
      altitude: p.alt ?? null,
      longitude: p.long ?? null,
      latitude: p.lat ?? null,
      height: p.height ?? null,
      freq2: f2.freq,
      mag2: f2.mag,
      freq3: f3.freq,
      mag3: f3.mag,
      freq4: f4.freq,
      mag4: f4.mag,
      loadSource: 'mqtt',
    };
  }
  return {
    name: normalName(p.name),
    tstamp,
    tstampSource: tstamp === rx ? 'subscriber' : 'publisher',
    seq: p.seq,
    freq: p.freq!,
    mag: p.mag!,
    tamb: p.tamb!,
    tsky: p.tsky!,
    rev: p.rev,
    wdbm: p.wdBm ?? null,
    azimuth: p.az ?? p.azi ?? null,
    altitude: p.alt ?? null,
    longitude: p.long ?? null,
    latitude: p.lat ?? null,
    height: p.height ?? null,
    freq2: null,
    mag2: null,
    freq3: null,
    mag3: null,
    freq4: null,
    mag4: null,
    loadSource: 'mqtt',
  };
}

/** Normalised names by spelling: one shared string per photometer instead of one per row. */
const names = new Map<string, string>();
const MAX_NAMES = 100_000;

/** A payload's photometer name as readings store it: trimmed, lower case. */
export function normalName(raw: string): string {
  let n = names.get(raw);
  if (n === undefined) {
    n = raw.trim().toLowerCase();
    if (names.size >= MAX_NAMES) names.clear();
    names.set(raw, n);
  }
  return n;
}

function validationReject(payload: unknown, rx: Date, topicName: string | null): Reject {
  const problem = checkReadingPayload(payload)!;
  // A wrongly typed tstamp is a timestamp problem, not a payload one.
  const reason = problem.field === 'tstamp' ? 'invalid_timestamp' : 'invalid_payload';
  return makeReject(reason, payload, rx, topicName, problem.detail);
}
