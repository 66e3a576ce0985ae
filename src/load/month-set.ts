/** The partition months (`monthKey`) of a stream of epoch-ms times, without a Date per time. */
import { monthKey } from './partitions.js';

export class MonthSet {
  private readonly set = new Set<string>();
  /** The month last seen, [start, end) in epoch ms: consecutive times mostly fall in it. */
  private from = 0;
  private to = 0;

  add(ms: number): void {
    if (ms >= this.from && ms < this.to) return;
    const d = new Date(ms);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth();
    this.from = Date.UTC(y, m, 1);
    this.to = Date.UTC(y, m + 1, 1);
    if (Number.isNaN(ms)) this.from = this.to = 0;
    this.set.add(monthKey(d));
  }

  keys(): string[] {
    return [...this.set];
  }
}
