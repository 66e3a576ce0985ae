import { Command } from 'commander';
import { missingReplicas, runInventory } from '../../inventory/run.js';
import { UserError } from '../../util/errors.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';
import { printInventorySummary } from '../report.js';

interface InventoryOptions extends CommonOptions {
  missingReplicas?: boolean;
}

export function inventoryCommand(): Command {
  const cmd = new Command('inventory')
    .description('scan data_dirs (and replica_dirs) and record every archive and historical file in the inventory')
    .option('--missing-replicas', 'list origins of this host without an up-to-date replica (no scan)');
  return withCommonOptions(cmd, { json: true }).action(async (overrides: string[], opts: InventoryOptions) => {
    const ctx = createContext(opts, overrides);
    if (ctx.dumped) return;
    await withDatabase(ctx, async (db) => {
      if (opts.missingReplicas) {
        const missing = await missingReplicas(db.pool, ctx.config.host);
        if (opts.json) return printJson(missing);
        for (const m of missing) process.stdout.write(`${m.path}\n`);
        process.stderr.write(`${missing.length} origins without an up-to-date replica\n`);
        return;
      }
      if (ctx.config.data_dirs.length === 0) {
        throw new UserError('no data_dirs configured: set data_dirs = ["/path/to/archive"] in the config or pass data_dirs=[\'/path\']');
      }
      const result = await runInventory(db.pool, ctx.config);
      if (opts.json) return printJson(result);
      printInventorySummary(result);
    });
  });
}
