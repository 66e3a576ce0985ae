/**
 * Receives MQTT messages with backpressure: mqtt.js hands over one PUBLISH at a time through
 * `handleMessage(packet, done)` and sends the PUBACK only when `done()` is called. We call it once the
 * ArchiveWriter accepted the line (it is then in the buffer that the next flush persists), so a slow disk
 * slows the broker down instead of growing memory, and nothing is acknowledged before it is archived.
 *
 * The usual case is synchronous (no promise per message): the line fits in the writer's buffer, `done()` is
 * called at once. Only when the writer is full or failing does a message take the waiting path, and mqtt.js
 * hands over nothing more until it is archived. Archived messages reach the sink once per event-loop turn,
 * after the PUBACKs of that turn are on their way (see ack-batching.ts).
 */
import type { MqttClient } from 'mqtt';
import type { ArchiveWriter } from '../archive/index.js';
import { encodeReceived } from '../archive/encode-received.js';
import { scanReceived } from '../archive/scan-received.js';
import { errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';
import type { ReceivedRecord } from './message.js';
import { ReceiptClock } from './receipt-clock.js';
import type { LiveStats } from './stats.js';

/** The PUBLISH packet as mqtt.js hands it over (its type lives in mqtt-packet, not a direct dependency). */
type PublishPacket = Parameters<MqttClient['handleMessage']>[0];

/** Receives every archived message, numbered 1, 2, 3… in archive line order. Must not throw. */
export type MessageSink = (seq: number, msg: ReceivedRecord) => void;

/** One message ready to archive: its line, and what the sink gets once it is archived. */
interface Encoded {
  line: string;
  record: ReceivedRecord;
}

export interface ReceiverOptions {
  writer: ArchiveWriter;
  maxPayloadBytes: number;
  /** mqtt.topic_prefix: which topics are readings (see `setTopicPrefix`). */
  topicPrefix: string;
  sink: MessageSink;
  stats: LiveStats;
  /** Wait between attempts while the archive is in its disk-error state. */
  retryMs: number;
}

export class Receiver {
  private readonly opts: ReceiverOptions;
  private readonly clock = new ReceiptClock();
  private seq = 0;
  private inflight: Promise<void> = Promise.resolve();
  private stopping = false;
  private waitingForDisk = false;
  /** Archived messages not yet handed to the sink (delivered once per event-loop turn). */
  private archived: ReceivedRecord[] = [];
  private deliveryScheduled = false;
  private readonly deliver = (): void => this.deliverArchived();

  private topicPrefix: string;

  constructor(opts: ReceiverOptions) {
    this.opts = opts;
    this.topicPrefix = opts.topicPrefix;
  }

  /** A reloaded mqtt.topic_prefix, for the messages received from now on. */
  setTopicPrefix(prefix: string): void {
    this.topicPrefix = prefix;
  }

  /** Number of the last message archived. */
  get lastSeq(): number {
    return this.seq;
  }

  attach(client: MqttClient): void {
    client.handleMessage = (packet: PublishPacket, done: (err?: Error) => void) => {
      this.opts.stats.received++;
      // After stop() nothing more is archived or acknowledged: the broker redelivers it to the next session.
      if (this.stopping) return;
      const encoded = this.encode(packet);
      if (this.opts.writer.tryAppendLine(encoded.line)) {
        this.accepted(encoded.record);
        done();
        return;
      }
      this.inflight = this.archiveWaiting(encoded).then(
        () => done(),
        (err: Error) => done(err),
      );
    };
  }

  /** Stops taking messages, waits for the one being archived and hands everything archived to the sink. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.inflight;
    this.deliverArchived();
  }

  /** Hands everything archived so far to the sink now rather than at the end of this event-loop turn. */
  deliverNow(): void {
    this.deliverArchived();
  }

  /** The common reading is scanned as bytes straight into its row (scan-received.ts); anything else is parsed. */
  private encode(packet: PublishPacket): Encoded {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const { date, ms } = this.clock.now();
    const msg = { rx: date, rxMs: ms, topic: packet.topic, qos: packet.qos, retain: packet.retain === true, payload };
    const max = this.opts.maxPayloadBytes;
    const scanned = scanReceived(msg, max, this.topicPrefix);
    if (scanned !== null) return { line: scanned.line, record: scanned.row };
    const { line, message } = encodeReceived(msg, max);
    return { line, record: message };
  }

  /** The writer is full or failing: waits for room, or retries every `retryMs` while the disk fails. */
  private async archiveWaiting(encoded: Encoded): Promise<void> {
    for (;;) {
      if (this.opts.writer.tryAppendLine(encoded.line)) break;
      try {
        await this.opts.writer.appendLine(encoded.line);
        break;
      } catch (err) {
        // Disk error: the writer keeps what it has and retries; this message is not archived, so not acknowledged
        // (mqtt.js hands over nothing more meanwhile: the broker keeps the rest). The daemon logs the error once.
        if (this.stopping) throw err;
        if (!this.waitingForDisk) log.debug(`archive write failed, holding this message until it works again: ${errorMessage(err)}`);
        this.waitingForDisk = true;
        await new Promise((resolve) => setTimeout(resolve, this.opts.retryMs));
      }
    }
    this.waitingForDisk = false;
    this.accepted(encoded.record);
  }

  private accepted(msg: ReceivedRecord): void {
    this.seq++;
    this.opts.stats.archived++;
    this.archived.push(msg);
    if (!this.deliveryScheduled) {
      this.deliveryScheduled = true;
      setImmediate(this.deliver);
    }
  }

  private deliverArchived(): void {
    this.deliveryScheduled = false;
    const batch = this.archived;
    if (batch.length === 0) return;
    this.archived = [];
    const first = this.seq - batch.length + 1;
    for (let i = 0; i < batch.length; i++) this.opts.sink(first + i, batch[i]);
  }
}
