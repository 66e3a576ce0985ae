/** Sorted, merged, inclusive ranges of message numbers: compact for the mostly consecutive numbers of a stream. */
export class SeqRanges {
  private ranges: [number, number][] = [];

  add(from: number, to: number): void {
    if (to < from) return;
    const last = this.ranges.at(-1);
    if (!last || from > last[1] + 1) {
      this.ranges.push([from, to]); // the usual case, numbers arriving in order: stays sorted and merged
      return;
    }
    if (from >= last[0]) {
      last[1] = Math.max(last[1], to);
      return;
    }
    this.ranges.push([from, to]);
    this.ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of this.ranges) {
      const m = merged.at(-1);
      if (m && r[0] <= m[1] + 1) m[1] = Math.max(m[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.ranges = merged;
  }

  overlaps(from: number, to: number): boolean {
    return this.ranges.some(([a, b]) => a <= to && b >= from);
  }

  /** The smallest number of the ranges that is ≥ `n`, if any. */
  firstAtOrAfter(n: number): number | undefined {
    for (const [a, b] of this.ranges) if (b >= n) return Math.max(a, n);
    return undefined;
  }

  /** How many numbers of the ranges lie in from..to. */
  countIn(from: number, to: number): number {
    let n = 0;
    for (const [a, b] of this.ranges) {
      if (a > to) break;
      if (b >= from) n += Math.min(b, to) - Math.max(a, from) + 1;
    }
    return n;
  }

  /** Forgets everything ≤ `seq`. */
  prune(seq: number): void {
    this.ranges = this.ranges.filter(([, b]) => b > seq).map(([a, b]) => [Math.max(a, seq + 1), b]);
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** The largest number of the ranges, if any. */
  get last(): number | undefined {
    return this.ranges.at(-1)?.[1];
  }

  /** How many ranges are kept (what the memory grows with). */
  get rangeCount(): number {
    return this.ranges.length;
  }

  /** Count of numbers in all ranges. */
  get size(): number {
    return this.ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
  }
}
