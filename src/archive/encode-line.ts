/** Serialises one received MQTT message into one archive line (design.md §2). */
import { isUtf8 } from 'node:buffer';
import { isoUtc } from '../util/iso-time.js';

/** A message as received from the broker, before archiving. */
export interface ArchiveInput {
  /** Time of receipt. */
  rx: Date;
  topic: string;
  qos: number;
  retain: boolean;
  payload: Buffer;
}

/** Payloads above this many bytes are stored as `oversize` + a prefix. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;
/** How much of an oversize payload is kept (base64 in `raw_b64`). */
export const OVERSIZE_PREFIX_BYTES = 4096;
/**
 * Largest `archive.max_payload_bytes`. A line is at most ~6× its payload (control characters of a non-JSON
 * text become `\u00XX`) plus 6× the topic (MQTT topics are at most 65,535 bytes): 512 KiB keeps every line
 * the writer can produce under MAX_ARCHIVE_LINE_BYTES, so whatever was archived can be read back.
 */
export const MAX_PAYLOAD_BYTES_LIMIT = 512 * 1024;
/** Longest archive line the reader takes; longer ones are rejects (`line too long`) and never buffered whole. */
export const MAX_ARCHIVE_LINE_BYTES = 4 * 1024 * 1024;

const CR_OR_LF = /[\r\n]/;
const CR_OR_LF_ALL = /[\r\n]/g;

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The payload part of a line (without braces): `"payload":<json>`, `"raw":"<text>"`, `"raw_b64":"<b64>"` or
 * `"oversize":<n>,"raw_b64":"<b64 prefix>"`.
 *
 * Valid JSON is embedded verbatim. A CR or LF can only occur in valid JSON text as insignificant
 * whitespace between tokens (JSON strings cannot contain raw control characters), so they are replaced
 * by spaces: the value is unchanged, and big numbers and key order survive (unlike re-stringifying).
 */
export function encodePayloadField(payload: Buffer, maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD_BYTES): string {
  if (payload.length > maxPayloadBytes) {
    const prefix = payload.subarray(0, Math.min(payload.length, OVERSIZE_PREFIX_BYTES));
    return `"oversize":${payload.length},"raw_b64":"${prefix.toString('base64')}"`;
  }
  if (!isUtf8(payload)) return `"raw_b64":"${payload.toString('base64')}"`;
  const text = payload.toString('utf8');
  if (!isJsonText(text)) return `"raw":${JSON.stringify(text)}`;
  return `"payload":${CR_OR_LF.test(text) ? text.replace(CR_OR_LF_ALL, ' ') : text}`;
}

/** JSON-quoted topics: a network has ~1,000 units, each with a few topics, so most lookups hit. */
const quotedTopics = new Map<string, string>();
const MAX_CACHED_TOPICS = 8192;

export function quoteTopic(topic: string): string {
  let q = quotedTopics.get(topic);
  if (q === undefined) {
    if (quotedTopics.size >= MAX_CACHED_TOPICS) quotedTopics.clear();
    q = JSON.stringify(topic);
    quotedTopics.set(topic, q);
  }
  return q;
}

/** The fields before the payload, including the trailing comma. Throws TypeError on an invalid message. */
function encodeHead(msg: ArchiveInput): string {
  const t = msg.rx instanceof Date ? msg.rx.getTime() : NaN;
  if (Number.isNaN(t)) throw new TypeError('archive message: rx must be a valid Date');
  if (typeof msg.topic !== 'string') throw new TypeError('archive message: topic must be a string');
  const qos = msg.qos === 1 || msg.qos === 2 ? msg.qos : 0;
  return `{"rx":"${isoUtc(t)}","topic":${quoteTopic(msg.topic)},"qos":${qos},"retain":${msg.retain === true},`;
}

/** One complete archive line, newline-terminated. `payload` must be a Buffer (use Buffer.from for strings). */
export function encodeArchiveLine(msg: ArchiveInput, maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD_BYTES): string {
  if (!Buffer.isBuffer(msg.payload)) throw new TypeError('archive message: payload must be a Buffer');
  return `${encodeHead(msg)}${encodePayloadField(msg.payload, maxPayloadBytes)}}\n`;
}
