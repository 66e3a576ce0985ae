/**
 * The fast path of the live receiver: a non-retained message on `<prefix>/<name>/reading` whose payload is
 * a plain TESS-W or TESS4C reading (src/model/scan-payload.ts vouches for it) → its archive line and its COPY row
 * (src/load/encode-scanned.ts), scanning the payload bytes once: no JSON.parse, no ajv, no Reading. The
 * line is byte-identical to encodeReceived's (built from the same parts) and the row to what classifyMessage
 * + encodedFromReading make of that message. Anything else returns null and takes encodeReceived and
 * classifyMessage, which decide every reject. A property test (test/live/scan-received.test.ts) holds it to
 * the generic path.
 */
import { isUtf8 } from 'node:buffer';
import { encodeScannedReading } from '../load/encode-scanned.js';
import type { EncodedReading } from '../load/encoded.js';
import { readingNameEnd } from '../model/classify.js';
import { scanReadingPayload, skipBlanks } from '../model/scan-payload.js';
import { ScannedValues } from '../model/scanned-values.js';
import { payloadTail, receivedHead, type ReceivedMessage } from './encode-received.js';

export interface ScannedMessage {
  /** The archive line, newline-terminated. */
  line: string;
  row: EncodedReading;
}

const scanned = new ScannedValues();

export function scanReceived(m: ReceivedMessage, maxPayloadBytes: number, topicPrefix: string): ScannedMessage | null {
  const { payload } = m;
  if (m.retain || payload.length > maxPayloadBytes || readingNameEnd(m.topic, topicPrefix) < 0) return null;
  const end = scanReadingPayload(payload, 0, payload.length, scanned);
  // JSON text may end in blanks; the bytes must be UTF-8 everywhere, also in strings nobody reads.
  if (end < 0 || skipBlanks(payload, end, payload.length) !== payload.length || !isUtf8(payload)) return null;
  const row = encodeScannedReading(payload, scanned, m.rxMs);
  if (row === null) return null;
  return { line: receivedHead(m) + payloadTail(payload.toString('utf8')), row };
}
