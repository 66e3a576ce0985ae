/** Receipt times: messages received in the same millisecond share one (never mutated) Date. */
export class ReceiptClock {
  private ms = NaN;
  private date = new Date(0);

  now(): { date: Date; ms: number } {
    const ms = Date.now();
    if (ms !== this.ms) {
      this.ms = ms;
      this.date = new Date(ms);
    }
    return { date: this.date, ms };
  }
}
