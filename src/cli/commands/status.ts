import { Command } from 'commander';
import { statusReport, type StatusReport } from '../../status/queries.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';

interface StatusOptions extends CommonOptions {
  silent?: string;
}

export function statusCommand(): Command {
  const cmd = new Command('status')
    .description('readings per photometer, silent photometers, inventory and rejects at a glance')
    .option('--silent <minutes>', 'flag photometers whose latest reading is older than this', '60');
  return withCommonOptions(cmd, { json: true }).action(async (overrides: string[], opts: StatusOptions) => {
    const ctx = createContext(opts, overrides);
    if (ctx.dumped) return;
    await withDatabase(ctx, async (db) => {
      const report = await statusReport(db.pool, ctx.config.host);
      if (opts.json) return printJson(report);
      process.stdout.write(formatStatus(report, Number(opts.silent ?? 60)));
    });
  });
}

function formatStatus(r: StatusReport, silentAfter: number): string {
  const out: string[] = [];
  out.push(`database size: ${(r.databaseBytes / 1024 / 1024).toFixed(1)} MiB, readings: ${r.readingsEstimate}`);
  out.push(`inventory: ${r.inventory.files} files, ${r.inventory.pending} pending ingest, ${r.inventory.failed} failed, ${r.inventory.withErrors} loaded with errors, ${r.inventory.unknownKind} of unknown kind, ${r.inventory.missing} missing`);
  const rejects = Object.entries(r.rejects).map(([k, v]) => `${k} ${v}`).join(', ');
  out.push(`not loaded: ${rejects || 'none'}`);
  out.push('');
  out.push(`${'photometer'.padEnd(16)} ${'readings'.padStart(9)}  ${'first'.padEnd(20)}  ${'latest'.padEnd(20)}  silent`);
  for (const p of r.photometers) {
    const fmt = (d: Date | null) => (d ? d.toISOString().slice(0, 19) + 'Z' : '-').padEnd(20);
    const silent = p.silentMinutes !== null && p.silentMinutes > silentAfter ? `${p.silentMinutes} min` : '';
    out.push(`${p.name.padEnd(16)} ${String(p.readings ?? '~').padStart(9)}  ${fmt(p.first)}  ${fmt(p.latest)}  ${silent}`);
  }
  return out.join('\n') + '\n';
}
