/**
 * `tessdb ingest` when the database goes away mid-run (restart, failover, network): the file being
 * loaded is rolled back by the server, so nothing is lost or half-recorded; this waits for the
 * database to answer again, with backoff, for at most `ingest.db_retry_s` per outage, and then the
 * interrupted files are loaded again. One wait is shared by all parallel jobs, and logged once when
 * it starts, once a minute while it lasts and once when it ends. Giving up aborts the run with
 * `DatabaseUnavailable` (a re-run picks up where it stopped: loaded files are recorded).
 */
import type pg from 'pg';
import { errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 10_000;
const PROBE_TIMEOUT_MS = 10_000;
const REPORT_EVERY_MS = 60_000;

/** Node network errors: the connection could not be made or was cut. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * True for errors that say "the connection to the server was lost or refused", whatever the file:
 * SQLSTATE class 08 (connection exception), 57P01–57P03 (shutdown, crash, not accepting connections
 * yet), network errors, and node-postgres's own messages for a connection that ended.
 */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || NETWORK_CODES.has(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect/i.test(message);
}

export class DatabaseUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUnavailable';
  }
}

interface Outage {
  since: number;
  reason: string;
  /** Settles when the database answers again (or rejects when the wait gave up). */
  done: Promise<void>;
}

export class DatabaseWait {
  private outage?: Outage;
  private gaveUp?: DatabaseUnavailable;

  /** `budgetS`: longest wait per outage (`ingest.db_retry_s`); 0 gives up at once. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly budgetS: number,
  ) {}

  /** Does the database answer now? (A fresh `SELECT 1`, bounded in time.) */
  async reachable(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.pool.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
        }),
      ]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Whether `err` (from loading a file) came from losing the database rather than from the file:
   * a connection error, or any error while the database does not answer.
   */
  async isOutage(err: unknown): Promise<boolean> {
    if (this.outage || this.gaveUp) return true;
    return isConnectionLoss(err) || !(await this.reachable());
  }

  /** Waits until the database answers again; throws `DatabaseUnavailable` once the budget is spent. */
  async recover(err: unknown): Promise<void> {
    if (this.gaveUp) throw this.gaveUp;
    // A connection cut during an outage that is already over (another file noticed it first): nothing to wait for.
    if (!this.outage && (await this.reachable())) return;
    this.outage ??= this.startOutage(errorMessage(err));
    await this.outage.done;
  }

  /** Runs `fn` (a query of the run itself, not of a file), waiting out outages like files do. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(await this.isOutage(err))) throw err;
        await this.recover(err);
      }
    }
  }

  private startOutage(reason: string): Outage {
    const since = Date.now();
    const outage: Outage = { since, reason, done: Promise.resolve() };
    outage.done = this.waitForDatabase(outage).finally(() => {
      if (this.outage === outage) this.outage = undefined;
    });
    outage.done.catch(() => undefined); // awaited by every job that hit it
    return outage;
  }

  private async waitForDatabase(outage: Outage): Promise<void> {
    const budgetMs = this.budgetS * 1000;
    if (budgetMs > 0) {
      log.warn(`database unavailable (${outage.reason}): ingest waits up to ${this.budgetS} s (ingest.db_retry_s) for it to come back, then loads the interrupted files again`);
    }
    let delay = FIRST_DELAY_MS;
    let reported = outage.since;
    for (;;) {
      const waited = Date.now() - outage.since;
      if (waited >= budgetMs) {
        this.gaveUp = new DatabaseUnavailable(
          `database unavailable for ${Math.round(waited / 1000)} s (ingest.db_retry_s = ${this.budgetS}): ${outage.reason}; ` +
            'files loaded so far are recorded, run `tessdb ingest` again once the database is back',
        );
        throw this.gaveUp;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, budgetMs - waited)));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      if (await this.reachable()) {
        log.warn(`database available again after ${Math.round((Date.now() - outage.since) / 1000)} s: ingest resumes`);
        return;
      }
      if (Date.now() - reported >= REPORT_EVERY_MS) {
        reported = Date.now();
        const left = Math.max(0, Math.round((budgetMs - (Date.now() - outage.since)) / 1000));
        log.warn(`database still unavailable after ${Math.round((Date.now() - outage.since) / 1000)} s; ingest gives up in ${left} s`);
      }
    }
  }
}
