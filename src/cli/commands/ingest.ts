import { Command, Option } from 'commander';
import type { Context } from '../context.js';
import { pendingFiles } from '../../ingest/pending.js';
import { ingestFiles, type IngestSummary } from '../../ingest/run.js';
import { requireCurrentSchema } from '../../db/migrate.js';
import { connectionRoom } from '../../db/connection-room.js';
import { registerSingleFile } from '../../ingest/single-file.js';
import type { FileToIngest } from '../../ingest/ingest-file.js';
import { UsageError, UserError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import type { Database } from '../../db/open.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';
import { printIngestSummary, reportFileProblem } from '../report.js';

export interface IngestOptions extends CommonOptions {
  file?: string[];
  since?: string;
  until?: string;
  reprocess?: boolean;
  dryRun?: boolean;
  jobs?: string;
}

export function addIngestOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--file <path>', 'ingest this file without a directory inventory (repeatable)').argParser((v, prev: string[] = []) => [...prev, v]))
    .option('--since <date>', 'only files modified at or after this date (ISO 8601)')
    .option('--until <date>', 'only files modified before this date (ISO 8601)')
    .option('--reprocess', 're-load files already ingested (safe: loading is idempotent)')
    .option('--dry-run', 'list what would be ingested, change nothing')
    .option('-j, --jobs <n>', 'files ingested in parallel (default: ingest.jobs)');
}

export function ingestCommand(): Command {
  const cmd = addIngestOptions(new Command('ingest').description('load inventoried files that are new or changed into PostgreSQL (COPY, idempotent)'));
  return withCommonOptions(cmd, { json: true }).action(async (overrides: string[], opts: IngestOptions) => {
    const ctx = createContext(opts, overrides);
    if (ctx.dumped) return;
    await withDatabase(ctx, (db) => runIngestCommand(ctx, db, opts), ingestPoolSize(jobsOf(ctx, opts)));
  });
}

/**
 * Connections an ingest of `jobs` parallel jobs needs: each job overlaps two files, each in its own
 * transaction (src/ingest/overlap.ts), and new photometer names are committed on a connection of their own
 * (src/load/names.ts) while those transactions wait: too few, and the files wait for each other.
 */
export function ingestPoolSize(jobs: number): number {
  return 2 * jobs + 2;
}

/** Connections left to other clients when --jobs is cut down to the server's room (an admin's psql, a dashboard). */
const SPARE_CONNECTIONS = 2;

/**
 * `jobs`, or fewer when the server has no room for the connections they need (ingestPoolSize): too many
 * jobs would fail files with "sorry, too many clients already". The pool is then capped to the fewer
 * jobs' size, so that nothing else it serves meanwhile (new names, the re-read) goes over either.
 */
async function affordableJobs(db: Database, jobs: number, files: number): Promise<number> {
  const wanted = Math.min(jobs, Math.max(1, files));
  if (wanted === 1) return jobs;
  // The pool's one open connection is counted in the server's sessions, and is one of ours.
  const room = (await connectionRoom(db.pool)) + 1 - SPARE_CONNECTIONS;
  if (ingestPoolSize(wanted) <= room) return jobs;
  const affordable = Math.max(1, Math.floor((room - ingestPoolSize(0)) / 2));
  db.pool.options.max = ingestPoolSize(affordable);
  log.warn(`--jobs ${jobs} needs ${ingestPoolSize(wanted)} database connections and the server has room for ${room + SPARE_CONNECTIONS}: running ${affordable} jobs`);
  return affordable;
}

export function jobsOf(ctx: Context, opts: IngestOptions): number {
  if (opts.jobs === undefined) return ctx.config.ingest.jobs;
  const n = Number(opts.jobs);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--jobs must be a whole number from 1 to 64, not "${opts.jobs}"`);
  return n;
}

function parseDate(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag}: "${value}" is not a date (use e.g. 2026-11-01 or 2026-11-01T12:00:00Z)`);
  return d;
}

export async function runIngestCommand(ctx: Context, db: Database, opts: IngestOptions): Promise<IngestSummary | undefined> {
  await requireCurrentSchema(db.pool, ctx.config.database.schema);
  const files = await selectFiles(ctx, db, opts);
  if (opts.dryRun) {
    if (opts.json) printJson(files);
    else for (const f of files) process.stdout.write(`${f.kind}\t${f.path}\n`);
    log.info(`${files.length} files would be ingested`);
    return undefined;
  }
  if (files.length === 0) log.info('nothing to ingest: every inventoried file is already loaded');
  const jobs = await affordableJobs(db, jobsOf(ctx, opts), files.length);
  const summary = await ingestFiles(db.pool, ctx.config, files, { jobs, quiet: opts.quiet || opts.json, onResult: reportFileProblem });
  if (opts.json) printJson({ ...summary, results: summary.results.filter((r) => r.status !== 'loaded') });
  else printIngestSummary(summary);
  if (summary.failed > 0 || summary.withErrors > 0) process.exitCode = 1;
  return summary;
}

async function selectFiles(ctx: Context, db: Database, opts: IngestOptions): Promise<FileToIngest[]> {
  if (opts.file?.length) {
    const files: FileToIngest[] = [];
    for (const f of opts.file) {
      let single: Awaited<ReturnType<typeof registerSingleFile>>;
      try {
        single = await registerSingleFile(db.pool, ctx.config.host, f, opts.dryRun);
      } catch (err) {
        // One file that cannot be ingested (missing, unreadable, unknown kind) does not stop the others.
        if (!(err instanceof UserError)) throw err;
        log.error(err.message);
        process.exitCode = 1;
        continue;
      }
      if (single.alreadyIngested && !opts.reprocess) log.info(`${single.path}: already ingested (use --reprocess to load it again)`);
      else files.push(single);
    }
    return files;
  }
  return pendingFiles(db.pool, {
    host: ctx.config.host,
    reprocess: Boolean(opts.reprocess),
    since: parseDate(opts.since, '--since'),
    until: parseDate(opts.until, '--until'),
  });
}
