/**
 * Receives MQTT messages with backpressure: mqtt.js hands over one PUBLISH at a time through
 * `handleMessage(packet, done)` and sends the PUBACK only when `done()` is called. We call it once the
 * ArchiveWriter accepted the line (it is then in the buffer that the next flush persists), so a slow disk
 * slows the broker down instead of growing memory, and nothing is acknowledged before it is archived.
 */
import type { MqttClient } from 'mqtt';
import type { ArchiveInput, ArchiveWriter } from '../archive/index.js';
import type { ArchiveMessage } from '../model/types.js';
import { errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';
import { toArchiveMessage } from './message.js';
import type { LiveStats } from './stats.js';

/** The PUBLISH packet as mqtt.js hands it over (its type lives in mqtt-packet, not a direct dependency). */
type PublishPacket = Parameters<MqttClient['handleMessage']>[0];

/** Receives every archived message, numbered 1, 2, 3… in archive line order. Must not throw. */
export type MessageSink = (seq: number, msg: ArchiveMessage) => void;

export interface ReceiverOptions {
  writer: ArchiveWriter;
  maxPayloadBytes: number;
  sink: MessageSink;
  stats: LiveStats;
  /** Wait between attempts while the archive is in its disk-error state. */
  retryMs: number;
}

export class Receiver {
  private readonly opts: ReceiverOptions;
  private seq = 0;
  private inflight: Promise<void> = Promise.resolve();
  private stopping = false;
  private waitingForDisk = false;

  constructor(opts: ReceiverOptions) {
    this.opts = opts;
  }

  /** Number of the last message archived and handed to the sink. */
  get lastSeq(): number {
    return this.seq;
  }

  attach(client: MqttClient): void {
    client.handleMessage = (packet: PublishPacket, done: (err?: Error) => void) => {
      this.opts.stats.received++;
      // After stop() nothing more is archived or acknowledged: the broker redelivers it to the next session.
      if (this.stopping) return;
      const p = this.archive(packet).then(
        () => done(),
        (err: Error) => done(err),
      );
      this.inflight = p;
    };
  }

  /** Stops taking messages and waits for the one being archived. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.inflight;
  }

  private async archive(packet: PublishPacket): Promise<void> {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const input: ArchiveInput = { rx: new Date(), topic: packet.topic, qos: packet.qos, retain: packet.retain === true, payload };
    for (;;) {
      try {
        await this.opts.writer.append(input);
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
    this.opts.stats.archived++;
    this.opts.sink(++this.seq, toArchiveMessage(input, this.opts.maxPayloadBytes));
  }
}
