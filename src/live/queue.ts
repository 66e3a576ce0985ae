/**
 * The bounded in-memory queue between the receiver and the database: classified messages waiting for their
 * batch, numbered by their archive line (`seq`). When it is full (database down, paused, or slower than the
 * stream) further messages are not queued but only counted as dropped — they are in the archive — until the
 * queued ones are loaded; the dropped numbers are kept as ranges so that the archive files holding them are
 * caught up. What is queued stays queued: it is loaded from memory, in order, before the catch-up.
 */
import type { EncodedReading } from '../load/encoded.js';
import type { ClassifiedMessage } from '../model/types.js';
import { SeqRanges } from './seq-ranges.js';

export { SeqRanges } from './seq-ranges.js';

/** A queued message: classified by the generic path, or a reading the receiver already encoded (scan-received.ts). */
export type LiveRecord = ClassifiedMessage | { kind: 'encoded'; row: EncodedReading };

export interface QueueEntry {
  seq: number;
  rec: LiveRecord;
  /** performance.now() when it was queued (set by `push` when not given). */
  at?: number;
}

export class LiveQueue {
  private items: QueueEntry[] = [];
  private head = 0;
  /** true from an overflow until the queue is loaded and the catch-up starts: messages are counted as dropped, not queued. */
  dropping = false;
  /** Numbers of messages dropped (never loaded live): their files need a catch-up. */
  readonly dropped = new SeqRanges();
  /** Highest number offered so far. */
  lastSeq = 0;
  /** Registrations waiting: they should reach the registry at once. */
  registers = 0;

  constructor(public maxRows: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Every message ≤ this number is either loaded (committed) or dropped. */
  get handledThrough(): number {
    return this.length === 0 ? this.lastSeq : this.items[this.head].seq - 1;
  }

  /** Queues an entry; returns false when it was dropped (now or because of an earlier overflow). */
  push(entry: QueueEntry): boolean {
    this.lastSeq = entry.seq;
    if (this.dropping) {
      this.dropped.add(entry.seq, entry.seq);
      return false;
    }
    if (this.length >= this.maxRows) {
      // Full: keep what is queued (loaded from memory, in order) and drop from here on.
      this.dropping = true;
      this.dropped.add(entry.seq, entry.seq);
      return false;
    }
    entry.at ??= performance.now();
    if (entry.rec.kind === 'register') this.registers++;
    this.items.push(entry);
    return true;
  }

  /** The first `n` entries, left in the queue until `remove`. */
  peek(n: number): QueueEntry[] {
    return this.items.slice(this.head, this.head + n);
  }

  /** Removes the first `n` entries (after their batch committed). */
  remove(n: number): void {
    for (let i = this.head; i < this.head + n && i < this.items.length; i++) {
      if (this.items[i].rec.kind === 'register') this.registers--;
    }
    this.head += n;
    if (this.head >= this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * performance.now() when the oldest queued entry arrived (0 when nothing is queued). What is left after a
   * batch keeps its own age: the rest of a backlog is due at once, not a whole batch interval later.
   */
  get oldestAt(): number {
    return this.length === 0 ? 0 : this.items[this.head].at ?? 0;
  }

  /** Drops the first `n` entries without loading them (a batch the database refused for good). */
  discard(n: number): void {
    const batch = this.peek(n);
    if (batch.length === 0) return;
    this.dropped.add(batch[0].seq, batch[batch.length - 1].seq);
    this.remove(batch.length);
  }

  /** Everything queued is loaded (the catch-up of the dropped ones comes next): queue again from the next message on. */
  resume(): void {
    this.dropping = false;
  }
}
