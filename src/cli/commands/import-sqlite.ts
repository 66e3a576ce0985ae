import { Command } from 'commander';
import type { ImportSummary } from '../../import/import-sqlite.js';
import { UsageError } from '../../util/errors.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';

interface ImportSqliteOptions extends CommonOptions {
  restart?: boolean;
  chunkRows?: string;
}

export function importSqliteCommand(): Command {
  const cmd = new Command('import-sqlite')
    .description('load a tessdb-server SQLite database (locations, observers, photometer versions, name mappings, readings); idempotent and resumable')
    .argument('<path>', 'the tessdb-server database file (e.g. /var/dbase/tess.db or a copy of it)')
    .option('--restart', 'ignore the progress of earlier runs and read every reading again (inserts nothing twice)')
    .option('--chunk-rows <n>', 'readings per committed chunk (default 50000)');
  return withCommonOptions(cmd, { json: true }).action(async (file: string, overrides: string[], opts: ImportSqliteOptions) => {
    const ctx = createContext(opts, overrides);
    if (ctx.dumped) return;
    let chunkRows: number | undefined;
    if (opts.chunkRows !== undefined) {
      chunkRows = Number(opts.chunkRows);
      if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > 10_000_000) throw new UsageError(`--chunk-rows must be a whole number from 1 to 10000000, not "${opts.chunkRows}"`);
    }
    await withDatabase(ctx, async (db) => {
      const { importSqlite } = await import('../../import/import-sqlite.js'); // native module: load only when used
      const summary = await importSqlite(db.pool, ctx.config, file, { restart: opts.restart, chunkRows, quiet: opts.quiet || opts.json });
      if (opts.json) printJson(summary);
      else printSummary(summary);
      if (summary.status !== 'loaded') process.exitCode = 1;
    });
  });
}

function printSummary(s: ImportSummary): void {
  const r = s.readings;
  const reasons = Object.entries(r.rejectsByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const p = s.photometers;
  const lines = [
    `database:    ${s.path} (${s.schema})`,
    `locations:   ${s.locations.total} (${s.locations.created} new)`,
    `observers:   ${s.observers.total} (${s.observers.created} new)`,
    `photometers: ${p.devices} devices, ${p.versions} versions, ${p.mappings} name mappings → ${p.events} registry events (${p.eventsRecorded} new)` +
      (p.unnamed ? `; ${p.unnamed} versions without a name not registered` : '') +
      (p.skipped.length ? `; ${p.skipped.length} unusable rows skipped` : ''),
    ...s.tables.map((t) => `${(t.table + ':').padEnd(12)} read ${t.read}${t.resumedAfter ? ` (resumed after ${t.resumedAfter})` : ''}, inserted ${t.inserted}, duplicates ${t.duplicates}, rejected ${t.rejected}`),
    `readings:    read ${r.read}, inserted ${r.inserted}, duplicates ${r.duplicates}, rejected ${r.rejected}${reasons ? ` (${reasons})` : ''}`,
    `time:        ${s.seconds.toFixed(1)} s, ${s.rowsPerSecond} rows/s`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
