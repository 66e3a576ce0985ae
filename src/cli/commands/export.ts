/** `tessdb export ida|csv`: monthly IDA files as tessdb-reports writes them, and CSV, streamed with COPY. */
import path from 'node:path';
import { Command } from 'commander';
import * as v from '../../admin/validate.js';
import { exportCsv } from '../../export/csv.js';
import { exportIdaMonth, monthLabel, namesWithReadings, nextMonth, type IdaFile } from '../../export/ida.js';
import { UsageError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';

interface IdaOptions extends CommonOptions {
  month?: string;
  from?: string;
  to?: string;
  all?: boolean;
  out: string;
}

/** The months of a range, first to last inclusive. */
function months(first: Date, last: Date): Date[] {
  const out: Date[] = [];
  for (let m = first; m.getTime() <= last.getTime(); m = nextMonth(m)) out.push(m);
  return out;
}

function currentMonth(): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export function exportCommand(): Command {
  const cmd = new Command('export').description('write readings out: monthly IDA files, CSV');

  cmd.addCommand(
    withCommonOptions(
      new Command('ida')
        .description('monthly IDA files (tessdb-reports format): <out>/<name>/<name>_<YYYY-MM>[_<location_id>].dat')
        .argument('[name]', 'photometer name (or --all)')
        .option('--month <YYYY-MM>', 'one month')
        .option('--from <YYYY-MM>', 'first month of a range')
        .option('--to <YYYY-MM>', 'last month of a range (default: the current month)')
        .option('--all', 'every photometer with readings in each month')
        .option('--out <dir>', 'output directory', '.'),
      { json: true },
    ).action(async (name: string | undefined, overrides: string[], opts: IdaOptions) => {
      // `name` may have swallowed the first key=value override.
      if (name !== undefined && name.includes('=')) {
        overrides = [name, ...overrides];
        name = undefined;
      }
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      if (!name && !opts.all) throw new UsageError('give a photometer name or --all');
      if (name && opts.all) throw new UsageError('give either a photometer name or --all, not both');
      if (opts.month && (opts.from || opts.to)) throw new UsageError('give either --month or --from/--to');
      if (!opts.month && !opts.from) throw new UsageError('give --month YYYY-MM or --from YYYY-MM [--to YYYY-MM]');
      const first = v.month(opts.month ?? opts.from!);
      const last = opts.month ? first : opts.to ? v.month(opts.to) : currentMonth();
      if (last < first) throw new UsageError('--to is before --from');
      const dropDaylight = ctx.config.filter.daylight === 'drop';
      const outDir = path.resolve(opts.out);
      await withDatabase(ctx, async (db) => {
        const client = await db.pool.connect();
        const files: IdaFile[] = [];
        try {
          for (const m of months(first, last)) {
            const names = name ? [v.photometerName(name)] : await namesWithReadings(client, m, nextMonth(m));
            for (const n of names) {
              const written = await exportIdaMonth(client, { name: n, month: m, outDir, dropDaylight });
              if (written.length === 0 && name) log.warn(`${n}: no readings in ${monthLabel(m)}; no file written`);
              for (const f of written) log.info(`${f.path}: ${f.readings} readings${f.location_id !== undefined ? ` (${f.site})` : ''}`);
              files.push(...written);
            }
          }
        } finally {
          client.release();
        }
        if (opts.json) printJson(files);
        else log.info(`${files.length} IDA file${files.length === 1 ? '' : 's'} written under ${outDir}`);
      });
    }),
  );

  cmd.addCommand(
    withCommonOptions(
      new Command('csv')
        .description('readings as CSV with the columns of tessdb-server sample query 2, streamed (COPY)')
        .argument('<names>', 'photometer name, or several separated by commas')
        .option('--from <when>', 'first instant (YYYY-MM-DD or ISO date-time, UTC)')
        .option('--to <when>', 'end instant, excluded')
        .option('--delimiter <char>', 'field delimiter', ';')
        .option('--no-header', 'no header line')
        .option('--with-name', 'add the photometer name as first column')
        .option('--out <file>', 'output file (default: standard output)'),
    ).action(
      async (
        names: string,
        overrides: string[],
        opts: CommonOptions & { from?: string; to?: string; delimiter: string; header: boolean; withName?: boolean; out?: string },
      ) => {
        const ctx = createContext(opts, overrides);
        if (ctx.dumped) return;
        const list = names.split(',').filter((x) => x.trim() !== '').map((x) => v.photometerName(x));
        const from = opts.from !== undefined ? v.instant(opts.from, '--from') : undefined;
        const to = opts.to !== undefined ? v.instant(opts.to, '--to') : undefined;
        if (from && to && to <= from) throw new UsageError('--to must be after --from');
        const delimiter = opts.delimiter === '\\t' || opts.delimiter === 'tab' ? '\t' : opts.delimiter;
        await withDatabase(ctx, async (db) => {
          const client = await db.pool.connect();
          try {
            const n = await exportCsv(
              client,
              { names: list, from, to, delimiter, header: opts.header, withName: Boolean(opts.withName), dropDaylight: ctx.config.filter.daylight === 'drop' },
              opts.out ?? process.stdout,
            );
            log.info(`${n} readings${opts.out ? ` written to ${opts.out}` : ''}`);
          } finally {
            client.release();
          }
        });
      },
    ),
  );

  return cmd;
}
