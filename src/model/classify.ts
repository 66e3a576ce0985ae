/** One MQTT message (live or replayed from an archive) → reading, register event or reject. */
import { readingOrReject } from './reading.js';
import { registerOrReject } from './register.js';
import { makeReject, rejectName } from './reject.js';
import type { ArchiveMessage, ClassifiedMessage, Reject } from './types.js';
import { showValue } from './validate.js';

export interface ClassifyOptions {
  /** First topic level(s), without a trailing slash; default `STARS4ALL`. */
  topicPrefix?: string;
}

export const DEFAULT_TOPIC_PREFIX = 'STARS4ALL';

const READING_SUFFIX = '/reading';
const REGISTER = 'register';

const enum TopicKind {
  Unknown,
  Reading,
  Register,
}

/**
 * Classify one message. Checks, in order:
 * 1. topic: `<prefix>/<name>/reading` (exactly three levels, non-empty name) → reading,
 *    `<prefix>/register` → register, anything else → reject `unknown_topic`;
 * 2. `retain === true` → reject `retained` (a broker replay of an earlier publish: archived, never
 *    loaded as new — this also covers retained register messages);
 * 3. `oversize` set → reject `payload_too_large`; 4. `raw` set (not JSON) → reject `invalid_json`;
 * 5. payload not a JSON object → reject `invalid_payload`;
 * 6. the payload itself: see `parseReading` / `parseRegister`.
 *
 * Never throws for any JSON payload. Rejects carry the name (payload's, else topic's), the UTC
 * day (reading's own valid time if known, else receipt), a one-line detail and a ≤2,000-char sample.
 */
export function classifyMessage(msg: ArchiveMessage, opts?: ClassifyOptions): ClassifiedMessage {
  const prefix = opts?.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
  const topic = msg.topic;
  const rx = msg.rx;
  const payload = msg.payload;

  // 1. topic, without allocating unless it names a photometer.
  let kind = TopicKind.Unknown;
  const plen = prefix.length;
  const nameEnd = readingNameEnd(topic, prefix);
  if (nameEnd >= 0) kind = TopicKind.Reading;
  else if (typeof topic === 'string' && topic.length === plen + 1 + REGISTER.length && topic.charCodeAt(plen) === 47 && topic.startsWith(prefix) && topic.endsWith(REGISTER)) {
    kind = TopicKind.Register;
  }
  if (kind === TopicKind.Unknown) {
    return rejected(
      makeReject('unknown_topic', payload, rx, null, `unknown topic ${showValue(topic, 200)}`, msg.raw),
    );
  }

  if (msg.retain === true || msg.oversize !== undefined || msg.raw !== undefined || !isObject(payload)) {
    const topicName = kind === TopicKind.Reading ? topic.slice(plen + 1, nameEnd) : null;
    return rejected(coldReject(msg, kind, topicName));
  }

  if (kind === TopicKind.Reading) {
    // The topic name is only needed to name a reject; slice it lazily.
    const r = readingOrReject(payload, rx, null);
    if ('reason' in r) {
      r.name = rejectName(payload, topic.slice(plen + 1, nameEnd));
      return rejected(r);
    }
    return { kind: 'reading', reading: r };
  }
  const e = registerOrReject(payload, rx);
  return 'reason' in e ? rejected(e) : { kind: 'register', event: e };
}

/**
 * For a reading topic `<prefix>/<name>/reading` (exactly three levels, non-empty name): the index of the
 * slash after the name; -1 for any other topic.
 */
export function readingNameEnd(topic: unknown, prefix: string): number {
  if (typeof topic !== 'string') return -1;
  const rest = prefix.length + 1;
  if (topic.length <= rest || topic.charCodeAt(rest - 1) !== 47 || !topic.startsWith(prefix)) return -1;
  const slash = topic.indexOf('/', rest);
  return slash > rest && topic.length - slash === READING_SUFFIX.length && topic.endsWith(READING_SUFFIX) ? slash : -1;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function rejected(reject: Reject): ClassifiedMessage {
  return { kind: 'reject', reject };
}

function coldReject(msg: ArchiveMessage, kind: TopicKind, topicName: string | null): Reject {
  const { payload, rx } = msg;
  if (msg.retain === true) {
    return makeReject(
      'retained',
      payload,
      rx,
      topicName,
      `retained ${kind === TopicKind.Register ? 'register' : 'reading'} message (broker replay of an earlier publish; archived, not loaded)`,
      msg.raw,
    );
  }
  if (msg.oversize !== undefined) {
    return makeReject(
      'payload_too_large',
      payload,
      rx,
      topicName,
      `payload of ${showValue(msg.oversize)} bytes is over the size limit; only a prefix was archived`,
      msg.raw ?? 'base64',
    );
  }
  if (msg.raw !== undefined) {
    return makeReject(
      'invalid_json',
      payload,
      rx,
      topicName,
      msg.raw === 'base64' ? 'payload is not UTF-8 (archived as base64)' : 'payload is not JSON',
      msg.raw,
    );
  }
  const what = payload === null ? 'null' : Array.isArray(payload) ? 'an array' : `a ${typeof payload}`;
  return makeReject('invalid_payload', payload, rx, topicName, `payload: must be a JSON object (got ${what})`);
}
