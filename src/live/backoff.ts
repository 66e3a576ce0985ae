/** Exponential backoff with a cap, for reconnecting to the broker and retrying the database. */
export class Backoff {
  private attempt = 0;

  constructor(
    private initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** Delay before the next attempt: initial, 2×, 4×… up to the cap. Counts the attempt. */
  next(): number {
    const ms = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return ms;
  }

  /** Consecutive failures since the last success. */
  get failures(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }

  setInitial(ms: number): void {
    this.initialMs = ms;
  }
}

/** A sleep that `wake()` ends early (stop requests, new work). */
export class Waker {
  private wakeUp: (() => void) | undefined;
  private pending = false;

  /** Resolves after `ms`, or at once if `wake()` was called since the last wait. */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      const self = this;
      function done(): void {
        clearTimeout(timer);
        if (self.wakeUp === done) self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  wake(): void {
    const w = this.wakeUp;
    if (w) {
      this.wakeUp = undefined;
      w();
    } else {
      this.pending = true;
    }
  }
}
