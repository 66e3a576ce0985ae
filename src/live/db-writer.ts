/**
 * Loads the live stream into the database: classified messages are queued (bounded by live.max_queue_rows)
 * and loaded in batches of live.batch_rows or every live.batch_ms, one transaction per batch (batch.ts).
 * When the database is unavailable, batches are retried with exponential backoff while archiving and
 * acknowledging go on. If the queue overflows (a long outage, writes paused with SIGUSR1, or a backlog arriving
 * faster than it loads), further messages are not queued — they are in the archive — until the queued ones are
 * loaded; then the archive files holding the dropped messages are caught up (catch-up.ts) and live batches
 * resume. Everything runs in one loop, so catch-up (including registrations) is loaded before the live readings
 * that follow it.
 */
import type pg from 'pg';
import type { RegistryCache } from '../ingest/registry-cache.js';
import { ReadingLoader } from '../load/loader.js';
import type { NameIds } from '../load/names.js';
import { PartitionManager } from '../load/partitions.js';
import { classifyMessage } from '../model/classify.js';
import { errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';
import { Backoff, Waker } from './backoff.js';
import { loadBatch } from './batch.js';
import { catchUpFile, catchUpOpenFiles, notYetLoaded, type CatchUpDeps, type LineWindow, type OpenFileProgress } from './catch-up.js';
import { isTransientDbError } from './db-errors.js';
import { batchNote, writeLiveFileRecord, type FileTracker, type LiveFileRecord } from './file-records.js';
import { isEncodedReading, type ReceivedRecord } from './message.js';
import { LiveQueue, type LiveRecord } from './queue.js';
import type { LiveStats } from './stats.js';

export interface DbWriterSettings {
  batchRows: number;
  batchMs: number;
  maxQueueRows: number;
  requireAuthorisation: boolean;
  topicPrefix: string;
  /** Rows per COPY when catching up a whole file (ingest.batch_rows). */
  fileBatchRows: number;
}

export interface DbWriterDeps {
  pool: pg.Pool;
  names: NameIds;
  registry: RegistryCache;
  stats: LiveStats;
  tracker: FileTracker;
  /** `host` for file_origins rows. */
  host: string;
  archiveDir: string;
  tag: string;
  /** Archive rotation period (s): how far back open files can start. */
  periodSeconds: number;
  /** Persists everything appended to the archive so far (before an open file is read back). */
  flushArchive: () => Promise<void>;
}

type Task =
  | { kind: 'file'; path: string; why: string }
  | { kind: 'backlog'; paths: string[] }
  | { kind: 'record'; record: LiveFileRecord };

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 30_000;
const IDLE_WAIT_MS = 60_000;

export class DbWriter {
  private readonly deps: DbWriterDeps;
  private settings: DbWriterSettings;
  private readonly queue: LiveQueue;
  private loader: ReadingLoader;
  private readonly tasks: Task[] = [];
  private needOpenCatchUp = false;
  private readonly openFileProgress: OpenFileProgress = new Map();
  private paused = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Woken by new work (batch full, registration, task, resume, stop). */
  private readonly work = new Waker();
  /** Woken only by stop, resume and the archive's recovery: ends a backoff wait early. */
  private readonly interrupt = new Waker();
  private readonly backoff = new Backoff(RETRY_FIRST_MS, RETRY_MAX_MS);
  private unavailableSince: number | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly registryVersion = { value: null as string | null };
  /** Every message ≤ this number is durable in the archive (a flush that started after it was archived succeeded). */
  private durable = 0;

  constructor(deps: DbWriterDeps, settings: DbWriterSettings) {
    this.deps = deps;
    this.settings = settings;
    this.queue = new LiveQueue(settings.maxQueueRows);
    this.loader = this.newLoader();
    deps.stats.queueDepth = () => this.queue.length;
  }

  /**
   * Classifies one archived message (unless the receiver already encoded it as a reading) and queues it, or
   * counts it as dropped while the queue is overflowed.
   */
  offer(seq: number, msg: ReceivedRecord): void {
    const rec: LiveRecord = isEncodedReading(msg)
      ? { kind: 'encoded', row: msg }
      : classifyMessage(msg, { topicPrefix: this.settings.topicPrefix });
    const stats = this.deps.stats;
    if (rec.kind === 'reading' || rec.kind === 'encoded') stats.readings++;
    else if (rec.kind === 'register') stats.registers++;
    else stats.reject(rec.reject.reason);
    const wasDropping = this.queue.dropping;
    const queuedBefore = this.queue.length;
    if (this.queue.push({ seq, rec })) {
      // Wake the loop when its batch timer starts (first entry), when a batch is full, and for registrations.
      if (queuedBefore === 0 || this.queue.length >= this.settings.batchRows || rec.kind === 'register') this.work.wake();
      return;
    }
    stats.dropped++;
    if (!wasDropping) {
      this.work.wake();
      log.warn(
        `live queue full (${queuedBefore} messages, live.max_queue_rows): further messages are only archived until the queued ` +
          `ones are loaded${this.paused ? ' (writes are paused)' : ''}, then loaded from the archive`,
      );
    }
  }

  /** Startup work: files finalised after a crash, and recent files never loaded. */
  addStartupWork(leftovers: string[], recent: string[]): void {
    for (const path of leftovers) this.tasks.push({ kind: 'file', path, why: 'left open by an earlier run' });
    if (recent.length) this.tasks.push({ kind: 'backlog', paths: recent });
    this.work.wake();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** A file was closed: it may be due for its record or a catch-up. */
  wake(): void {
    this.work.wake();
  }

  /** The archive is writable again after a disk error: retry the waiting batch now rather than after the backoff. */
  archiveRecovered(): void {
    this.interrupt.wake();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.deps.stats.paused = true;
    log.info('database writer paused (SIGUSR2 resumes): archiving and acknowledging continue; idle database connections close within 10 s');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.deps.stats.paused = false;
    log.info(`database writer resumed (${this.queue.length} messages queued${this.queue.dropping ? ', catching up from the archive' : ''})`);
    this.interrupt.wake();
    this.work.wake();
  }

  configure(settings: DbWriterSettings): void {
    const authChanged = settings.requireAuthorisation !== this.settings.requireAuthorisation;
    this.settings = settings;
    this.queue.maxRows = settings.maxQueueRows;
    if (authChanged) this.loader = this.newLoader();
    this.work.wake();
  }

  /** Resolves when nothing is queued or pending (not while paused). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops the loop, then (unless paused) loads what is still queued and records the files loaded live, until
   * `deadline` (performance.now() ms). Catch-ups still to do are left to the next start.
   */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.work.wake();
    this.interrupt.wake();
    const finished = await raceDeadline(this.loop ?? Promise.resolve(), deadline);
    if (!finished || this.paused) return;
    while (this.queue.length > 0 && !this.queue.dropping && performance.now() < deadline) {
      try {
        if (!(await raceDeadline(this.commitNext(), deadline))) return;
      } catch (err) {
        log.warn(`final database batch failed (the messages are in the archive; the next start loads them): ${errorMessage(err)}`);
        return;
      }
    }
    this.collectDueFiles();
    for (const task of this.tasks) {
      if (task.kind !== 'record' || performance.now() >= deadline) continue;
      await raceDeadline(this.recordFile(task.record).catch(() => undefined), deadline);
    }
  }

  private newLoader(): ReadingLoader {
    return new ReadingLoader(this.deps.names, new PartitionManager(), { requireAuthorisation: this.settings.requireAuthorisation });
  }

  private catchUpDeps(): CatchUpDeps {
    return {
      pool: this.deps.pool,
      loader: this.loader,
      registry: this.deps.registry,
      host: this.deps.host,
      archiveDir: this.deps.archiveDir,
      tag: this.deps.tag,
      topicPrefix: this.settings.topicPrefix,
      fileBatchRows: this.settings.fileBatchRows,
      liveBatchRows: this.settings.batchRows,
    };
  }

  private isIdle(): boolean {
    return !this.paused && this.queue.length === 0 && this.tasks.length === 0 && !this.needOpenCatchUp && !this.queue.dropping;
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.collectDueFiles();
      this.notifyIdle();
      if (this.paused) {
        await this.work.wait(IDLE_WAIT_MS);
        continue;
      }
      try {
        if (this.queue.dropping && this.queue.length === 0) {
          // What was queued before the overflow is loaded: the dropped messages come next, from the archive.
          await this.deps.pool.query('SELECT 1');
          this.available();
          this.queue.resume();
          this.needOpenCatchUp = true;
          log.info(`queue loaded: catching up from the archive the messages not queued (${this.queue.dropped.size}), then loading live again`);
          continue;
        }
        if (this.tasks.length > 0) {
          await this.runTask(this.tasks[0]);
          this.tasks.shift();
          this.available();
          continue;
        }
        if (this.needOpenCatchUp) {
          await this.catchUpOpen();
          this.needOpenCatchUp = false;
          this.available();
          continue;
        }
        const wait = this.batchDueIn();
        if (wait > 0) {
          await this.work.wait(Math.min(wait, IDLE_WAIT_MS));
          continue;
        }
        await this.commitNext();
        this.available();
      } catch (err) {
        if (err instanceof ArchiveNotDurable) {
          // The archive is in its disk-error state: nothing is loaded before it is written.
          log.debug(err.message);
          await this.interrupt.wait(this.backoff.next());
          continue;
        }
        if (!isTransientDbError(err)) {
          // commitNext and runTask deal with their own permanent errors; this is a bug or a broken schema.
          log.error(`database writer: ${errorMessage(err)}`);
        }
        await this.unavailable(err);
      }
    }
  }

  /** ms until the next batch is due (0: now; Infinity: nothing queued). */
  private batchDueIn(): number {
    const q = this.queue;
    if (q.length === 0) return Infinity;
    if (q.length >= this.settings.batchRows || q.registers > 0 || q.dropping) return 0;
    return Math.max(0, this.settings.batchMs - (performance.now() - q.oldestAt));
  }

  /**
   * Loads the oldest queued messages in one transaction — once their archive lines are on disk, so that the
   * database never holds a reading its archive lost in a crash (the database stays a projection of the archive).
   */
  private async commitNext(): Promise<void> {
    const entries = this.queue.peek(this.settings.batchRows);
    if (entries.length === 0) return;
    try {
      await this.durableThrough(entries[entries.length - 1].seq);
    } catch (err) {
      throw new ArchiveNotDurable(err);
    }
    let result;
    try {
      result = await loadBatch(
        { pool: this.deps.pool, loader: this.loader, registry: this.deps.registry, registryVersion: this.registryVersion },
        entries.map((e) => e.rec),
      );
    } catch (err) {
      if (isTransientDbError(err)) throw err;
      this.deps.stats.dbErrors++;
      log.error(
        `database refused a batch of ${entries.length} messages: ${errorMessage(err)}; ` +
          'their archive files are loaded through the ingest path instead (see tessdb status)',
      );
      this.queue.discard(entries.length);
      return;
    }
    this.queue.remove(entries.length);
    const stats = this.deps.stats;
    stats.loaded += result.inserted;
    stats.duplicates += result.duplicates;
    let loaderRejected = 0;
    for (const [reason, n] of Object.entries(result.loaderRejects)) {
      stats.reject(reason, n);
      loaderRejected += n;
    }
    stats.batch(result.ms, result.newest);
    this.deps.tracker.noteBatch(batchNote(entries, { inserted: result.inserted, duplicates: result.duplicates, loaderRejected }));
  }

  /**
   * Makes sure every message ≤ `seq` is durable in the archive. One flush persists everything archived when it
   * starts, so it covers every message queued by then: under a backlog, one flush serves many batches instead of
   * each batch waiting for its own (the compression backlog and an fdatasync), while the guarantee is the same.
   */
  private async durableThrough(seq: number): Promise<void> {
    if (seq <= this.durable) return;
    const through = this.queue.lastSeq; // every message offered so far is in the archive writer's buffers
    await this.deps.flushArchive();
    this.durable = Math.max(this.durable, through);
  }

  /** Turns closed files whose messages are all handled into record or catch-up tasks. */
  private collectDueFiles(): void {
    for (const due of this.deps.tracker.takeDue(this.queue.handledThrough, this.queue.dropped)) {
      if (due.action === 'record') this.tasks.push({ kind: 'record', record: due.record });
      else this.tasks.push({ kind: 'file', path: due.path, why: due.why });
    }
  }

  private async runTask(task: Task): Promise<void> {
    try {
      if (task.kind === 'record') await this.recordFile(task.record);
      else if (task.kind === 'file') await this.catchUpClosed(task.path, task.why);
      else {
        const todo = await notYetLoaded(this.deps.pool, this.deps.host, task.paths);
        if (todo.length) log.info(`${todo.length} archive files of earlier runs were never loaded completely: loading them`);
        // Run them next, in order, before anything else queued as a task.
        this.tasks.splice(1, 0, ...todo.map((path): Task => ({ kind: 'file', path, why: 'not loaded by an earlier run' })));
      }
    } catch (err) {
      if (isTransientDbError(err)) throw err;
      this.deps.stats.dbErrors++;
      log.error(`${taskLabel(task)}: ${errorMessage(err)}`);
    }
  }

  private async recordFile(rec: LiveFileRecord): Promise<void> {
    if (await writeLiveFileRecord(this.deps.pool, this.deps.host, rec)) {
      this.deps.stats.filesRecorded++;
      log.debug(`recorded ${rec.path} as loaded live (${rec.lines} lines)`);
    }
  }

  private async catchUpClosed(path: string, why: string): Promise<void> {
    const r = await catchUpFile(this.catchUpDeps(), path);
    if (r === null) return;
    this.deps.stats.catchUpFiles++;
    this.deps.stats.loaded += r.inserted;
    this.deps.stats.duplicates += r.duplicates;
    const summary = `${r.read} lines, ${r.inserted} rows inserted, ${r.duplicates} already there, ${r.rejected} not loaded`;
    if (r.status === 'failed') log.error(`catch-up of ${path} failed: ${r.error ?? 'unknown error'}`);
    else log.info(`caught up ${path} (${why}): ${summary}${r.error ? `; ${r.error}` : ''}`);
  }

  private async catchUpOpen(): Promise<void> {
    try {
      await this.deps.flushArchive();
    } catch (err) {
      log.warn(`cannot flush the archive to read it back (${errorMessage(err)}): the open file is loaded once it is closed`);
      return;
    }
    const r = await catchUpOpenFiles(this.catchUpDeps(), this.deps.periodSeconds, this.openFileProgress, () => this.openFileWindow());
    const stats = this.deps.stats;
    stats.catchUpLines += r.lines;
    let inserted = 0;
    for (const b of r.loaded) {
      inserted += b.inserted;
      stats.loaded += b.inserted;
      stats.duplicates += b.duplicates;
      stats.batch(b.ms, b.newest);
    }
    if (r.files) log.info(`caught up the open archive file: ${r.lines} lines, ${inserted} rows inserted`);
  }

  /**
   * Which lines of the file being written the catch-up must load: those from its first dropped message to its
   * last (before: committed live; after: queued again since the queue resumed). Everything when the line ↔
   * message mapping is not trusted.
   */
  private openFileWindow(): LineWindow {
    const first = this.deps.tracker.openFileFirstSeq;
    if (first === undefined) return { skip: 0 };
    const dropped = this.queue.dropped;
    const firstDropped = dropped.firstAtOrAfter(first);
    if (firstDropped === undefined) return { skip: Math.max(0, this.queue.handledThrough + 1 - first), until: 0 };
    return { skip: firstDropped - first, until: (dropped.last ?? firstDropped) - first + 1 };
  }

  private available(): void {
    this.backoff.reset();
    if (this.unavailableSince !== undefined) {
      log.info(`database available again after ${Math.round((performance.now() - this.unavailableSince) / 1000)} s`);
      this.unavailableSince = undefined;
    }
    this.deps.stats.dbAvailable = true;
  }

  private async unavailable(err: unknown): Promise<void> {
    const stats = this.deps.stats;
    stats.dbErrors++;
    stats.dbAvailable = false;
    if (this.unavailableSince === undefined) {
      this.unavailableSince = performance.now();
      log.warn(`database unavailable (${errorMessage(err)}): archiving continues; retrying with backoff`);
    } else {
      log.debug(`database still unavailable: ${errorMessage(err)}`);
    }
    if (!this.stopping) await this.interrupt.wait(this.backoff.next());
  }
}

class ArchiveNotDurable extends Error {
  constructor(cause: unknown) {
    super(`archive not flushed, batch waits: ${errorMessage(cause)}`);
  }
}

function taskLabel(task: Task): string {
  if (task.kind === 'backlog') return 'looking for unloaded archive files';
  if (task.kind === 'file') return `catch-up of ${task.path}`;
  return `recording ${task.record.path} as loaded live`;
}

/** true when `p` settled before `deadline` (performance.now() ms); its rejection is passed on. */
async function raceDeadline(p: Promise<unknown>, deadline: number): Promise<boolean> {
  const left = deadline - performance.now();
  if (left <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), left)));
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
