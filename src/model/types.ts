/** Shared record types: what flows from sources (archives, IDA, CSV, MQTT) to the loader. */

/** Where a reading's timestamp came from: the photometer's own `tstamp`, or the time tessdb received it. */
export type TimestampSource = 'publisher' | 'subscriber';

/** Origin of the data (not of the process that loaded it), so live and archive replay project identically. */
export type LoadSource = 'mqtt' | 'ida' | 'csv' | 'sqlite';

/** One validated photometer reading, ready to be resolved and loaded. */
export interface Reading {
  name: string; // lower-cased
  tstamp: Date; // UTC instant of the reading
  tstampSource: TimestampSource;
  seq: number | null;
  freq: number | null; // channel 1 (TESS-W) or F1 (TESS4C), Hz
  mag: number | null; // mag/arcsec², 0 = saturated
  tamb: number | null;
  tsky: number | null;
  rev: number | null;
  wdbm: number | null;
  azimuth: number | null;
  altitude: number | null;
  longitude: number | null;
  latitude: number | null;
  height: number | null;
  /** TESS4C channels 2..4; null for single-channel units. */
  freq2: number | null;
  mag2: number | null;
  freq3: number | null;
  mag3: number | null;
  freq4: number | null;
  mag4: number | null;
  loadSource: LoadSource;
}

/** Per-channel calibration sent by a register message (TESS4C sends four, TESS-W one). */
export interface ChannelCalibration {
  zp: number | null;
  filter: string | null;
  offsetHz: number | null;
}

/** One validated register message (TESS-W or TESS4C) or an administrative/imported registration. */
export interface RegisterEvent {
  name: string; // lower-cased
  mac: string; // normalised: zero-padded upper case, colon separated
  receivedAt: Date; // when the registration happened (message receipt time)
  model: 'TESS-W' | 'TESS4C';
  rev: number | null;
  firmware: string | null;
  wdbm: number | null;
  channels: ChannelCalibration[]; // 1 or 4 entries
  source: 'mqtt' | 'ida' | 'sqlite' | 'manual';
  /** The original payload, kept verbatim in the event log. */
  payload: unknown;
}

/** Why an input was not loaded. Counted per name, reason and day; never silently dropped. */
export type RejectReason =
  | 'invalid_json'
  | 'invalid_payload'
  | 'invalid_timestamp'
  | 'payload_too_large'
  | 'unknown_topic'
  | 'unregistered'
  | 'not_authorised'
  | 'retained'
  | 'daylight'
  | 'bad_line';

export interface Reject {
  reason: RejectReason;
  name: string | null;
  day: Date; // the UTC day it belongs to (receipt or reading time)
  detail: string; // one line: which field, what was wrong
  sample: string; // the offending input, truncated to a few KB
}

/**
 * One line of an archive file (design.md §2). On disk a JSON payload is the `payload` field; a payload
 * that is not JSON is stored as `"raw":"text"`, or `"raw_b64":"…"` when it is not UTF-8; a payload over
 * the size limit keeps only a prefix in `raw_b64` plus `"oversize": <original byte length>`.
 */
export interface ArchiveMessage {
  rx: Date;
  topic: string;
  qos: number;
  retain: boolean;
  /** Parsed JSON payload, or the raw text / base64 string when `raw` is set. */
  payload: unknown;
  raw?: 'utf8' | 'base64';
  /** Original byte length when the payload was over the size limit and only a prefix was kept. */
  oversize?: number;
}

/** Result of classifying one MQTT message (live or from an archive). */
export type ClassifiedMessage =
  | { kind: 'reading'; reading: Reading }
  | { kind: 'register'; event: RegisterEvent }
  | { kind: 'reject'; reject: Reject };
