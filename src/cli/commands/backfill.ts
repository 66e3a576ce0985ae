import { Command } from 'commander';
import { runInventory } from '../../inventory/run.js';
import { UserError } from '../../util/errors.js';
import { createContext, withCommonOptions, withDatabase } from '../context.js';
import { printInventorySummary } from '../report.js';
import { addIngestOptions, ingestPoolSize, jobsOf, runIngestCommand, type IngestOptions } from './ingest.js';

export function backfillCommand(): Command {
  const cmd = addIngestOptions(new Command('backfill').description('inventory then ingest in one command'));
  return withCommonOptions(cmd, { json: true }).action(async (overrides: string[], opts: IngestOptions) => {
    const ctx = createContext(opts, overrides);
    if (ctx.dumped) return;
    if (ctx.config.data_dirs.length === 0) throw new UserError('no data_dirs configured: set data_dirs = ["/path/to/archive"] in the config');
    await withDatabase(
      ctx,
      async (db) => {
        const inventory = await runInventory(db.pool, ctx.config);
        if (!opts.json && !opts.quiet) printInventorySummary(inventory);
        await runIngestCommand(ctx, db, opts);
      },
      ingestPoolSize(jobsOf(ctx, opts)),
    );
  });
}
