/**
 * The fastest path of archive ingest: an archive line exactly as the live writer writes it
 * (encode-received.ts), holding a plain TESS-W or TESS4C reading, scanned as bytes — never decoded to
 * a string, never JSON.parse'd — into its COPY row:
 *
 *   {"rx":"<24 characters>","topic":"<prefix>/<name>/reading","qos":<0-2>,"retain":false,"payload":{…}}
 *
 * The payload is scanned by src/model/scan-payload.ts and encoded by src/load/encode-scanned.ts. Any
 * other line — another layout, a retained message, anything unusual in the payload — returns
 * null and takes the JSON.parse paths (archive-fast.ts, then decode-line.ts → classify.ts).
 */
import { encodeScannedReading } from '../load/encode-scanned.js';
import type { EncodedReading } from '../load/encoded.js';
import { scanReadingPayload } from '../model/scan-payload.js';
import { ScannedValues } from '../model/scanned-values.js';
import { isoBytesMs } from '../model/timestamp.js';
import { bytesAre } from '../util/bytes.js';

const HEAD = Buffer.from('{"rx":"');
const TOPIC = Buffer.from('","topic":"');
const READING_QOS = Buffer.from('/reading","qos":');
const NOT_RETAINED = Buffer.from(',"retain":false,"payload":');
const RX_AT = HEAD.length;
const TOPIC_AT = RX_AT + 24 + TOPIC.length;

const scanned = new ScannedValues();
/** The rx (epoch ms) of the line last scanned into a reading. */
export let lastScannedRxMs = 0;
let prefixText = '';
let prefixBytes = Buffer.alloc(0);

/** The index after the photometer name of the topic starting at `at` (`<name>/reading`), or -1. */
function topicNameEnd(b: Uint8Array, at: number, end: number): number {
  let i = at;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 0x2f) break; // '/'
    if (c === 0x22 || c === 0x5c || c < 0x20) return -1; // end of the string or an escape: not a plain topic
  }
  return i > at && bytesAre(b, i, end, READING_QOS) ? i : -1;
}

/** The encoded reading of the archive line in bytes [from, end) of `b`, or null (then the JSON.parse paths decide). */
export function scanArchiveReading(b: Buffer, from: number, end: number, topicPrefix: string): EncodedReading | null {
  if (topicPrefix !== prefixText) {
    prefixText = topicPrefix;
    prefixBytes = Buffer.from(topicPrefix, 'utf8');
  }
  const topicAt = from + TOPIC_AT;
  if (!bytesAre(b, from, end, HEAD) || !bytesAre(b, from + RX_AT + 24, end, TOPIC) || !bytesAre(b, topicAt, end, prefixBytes)) return null;
  const nameAt = topicAt + prefixBytes.length + 1;
  if (b[nameAt - 1] !== 0x2f) return null;
  let i = topicNameEnd(b, nameAt, end);
  if (i < 0) return null;
  i += READING_QOS.length;
  const qos = b[i] - 0x30;
  if (!(qos >= 0 && qos <= 2) || !bytesAre(b, i + 1, end, NOT_RETAINED)) return null;
  const last = end - 1;
  if (b[last] !== 0x7d) return null;
  if (scanReadingPayload(b, i + 1 + NOT_RETAINED.length, last, scanned) !== last) return null;
  const rxAt = from + RX_AT;
  const rxMs = b[rxAt + 23] === 0x5a ? isoBytesMs(b, rxAt, rxAt + 23) : Number.NaN; // …sss then Z
  if (Number.isNaN(rxMs)) return null;

  lastScannedRxMs = rxMs;
  return encodeScannedReading(b, scanned, rxMs);
}
