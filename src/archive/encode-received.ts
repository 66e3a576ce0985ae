/**
 * The live receiver's encoding: one received MQTT message → its archive line and the ArchiveMessage that
 * reading that line back gives, with a single UTF-8 check and a single JSON.parse (encodeArchiveLine followed
 * by toArchiveMessage would parse every payload twice). The line is byte-identical to encodeArchiveLine's.
 * The common reading takes scan-received.ts instead, which writes the same line from the same parts.
 */
import { isUtf8 } from 'node:buffer';
import type { ArchiveMessage } from '../model/types.js';
import { isoUtc } from '../util/iso-time.js';
import { OVERSIZE_PREFIX_BYTES, quoteTopic } from './encode-line.js';

export interface ReceivedMessage {
  /** Time of receipt (`rx.getTime()` must equal `rxMs`). */
  rx: Date;
  rxMs: number;
  topic: string;
  qos: number;
  retain: boolean;
  payload: Buffer;
}

export interface EncodedMessage {
  /** The archive line, newline-terminated. */
  line: string;
  message: ArchiveMessage;
}

const CR_OR_LF = /[\r\n]/;
const CR_OR_LF_ALL = /[\r\n]/g;

/** The fields of the line before the payload, including the trailing comma. */
export function receivedHead(m: ReceivedMessage): string {
  return `{"rx":"${isoUtc(m.rxMs)}","topic":${quoteTopic(m.topic)},"qos":${qosOf(m)},"retain":${m.retain},`;
}

/** The `"payload":` field of valid JSON `text` and the end of the line. */
export function payloadTail(text: string): string {
  // Valid JSON can hold CR/LF only as whitespace between tokens: spaces keep the value (see encodePayloadField).
  return `"payload":${CR_OR_LF.test(text) ? text.replace(CR_OR_LF_ALL, ' ') : text}}\n`;
}

function qosOf(m: ReceivedMessage): number {
  return m.qos === 1 || m.qos === 2 ? m.qos : 0;
}

export function encodeReceived(m: ReceivedMessage, maxPayloadBytes: number): EncodedMessage {
  const qos = qosOf(m);
  const { rx, topic, payload, retain } = m;
  const head = receivedHead(m);
  if (payload.length > maxPayloadBytes) {
    const prefix = payload.subarray(0, Math.min(payload.length, OVERSIZE_PREFIX_BYTES)).toString('base64');
    return {
      line: `${head}"oversize":${payload.length},"raw_b64":"${prefix}"}\n`,
      message: { rx, topic, qos, retain, payload: prefix, raw: 'base64', oversize: payload.length },
    };
  }
  if (!isUtf8(payload)) {
    const b64 = payload.toString('base64');
    return { line: `${head}"raw_b64":"${b64}"}\n`, message: { rx, topic, qos, retain, payload: b64, raw: 'base64' } };
  }
  const text = payload.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { line: `${head}"raw":${JSON.stringify(text)}}\n`, message: { rx, topic, qos, retain, payload: text, raw: 'utf8' } };
  }
  return { line: head + payloadTail(text), message: { rx, topic, qos, retain, payload: parsed } };
}
