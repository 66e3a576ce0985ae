import { Command } from 'commander';
import { isoSeconds } from '../../admin/table.js';
import { statusReport, type StatusReport } from '../../status/queries.js';
import { UsageError } from '../../util/errors.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';

interface StatusOptions extends CommonOptions {
  silent?: string;
}

export function statusCommand(): Command {
  const cmd = new Command('status')
    .description('database size, readings per month and photometer, silent photometers, inventory, rejects, live statistics')
    .option('--silent <minutes>', 'flag photometers whose latest reading is older than this', '60');
  return withCommonOptions(cmd, { json: true }).action(async (overrides: string[], opts: StatusOptions) => {
    const ctx = createContext(opts, overrides);
    if (ctx.dumped) return;
    const silentAfter = Number(opts.silent ?? 60);
    if (!Number.isFinite(silentAfter) || silentAfter <= 0) throw new UsageError(`--silent must be a number of minutes, not "${opts.silent}"`);
    await withDatabase(ctx, async (db) => {
      const report = await statusReport(db.pool, ctx.config.host, { silentAfterMinutes: silentAfter });
      if (opts.json) return printJson({ ...report, daylight: { ...report.daylight, config: ctx.config.filter.daylight } });
      process.stdout.write(formatStatus(report, silentAfter, ctx.config.filter.daylight));
    });
  });
}

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

function formatStatus(r: StatusReport, silentAfter: number, daylightConfig: string): string {
  const out: string[] = [];
  out.push(`database size: ${mib(r.databaseBytes)}, readings: ${r.readingsEstimate}`);
  const reg = r.registry;
  out.push(
    `photometers: ${reg.current} current (${reg.authorised} authorised, ${reg.unassigned} without location), ` +
      `${reg.silent.length} silent for more than ${silentAfter} min, ${reg.neverSeen.length} never seen`,
  );
  if (reg.silent.length) out.push(`  silent: ${reg.silent.join(', ')}`);
  const inv = r.inventory;
  out.push(`inventory: ${inv.files} files, ${inv.pending} pending ingest, ${inv.failed} failed, ${inv.withErrors} loaded with errors, ${inv.unknownKind} of unknown kind, ${inv.missing} missing`);
  out.push(`replicas: ${inv.replicas} present, ${inv.missingReplicas} missing; ${inv.withoutReplica} files of this host without a replica`);
  const rejects = Object.entries(r.rejects).map(([k, v]) => `${k} ${v}`).join(', ');
  out.push(`not loaded: ${rejects || 'none'}`);
  const mismatch = r.daylight.setting !== null && r.daylight.setting !== daylightConfig ? ` (configuration says ${daylightConfig}: run \`tessdb setup\` to apply)` : '';
  out.push(`daylight filter: ${r.daylight.setting ?? '-'}${mismatch}, ${r.daylight.flagged ?? '?'} readings flagged`);
  for (const l of r.live) {
    const s = l.stats && typeof l.stats === 'object' ? Object.entries(l.stats as Record<string, unknown>).filter(([, v]) => typeof v === 'number' || typeof v === 'string').slice(0, 10).map(([k, v]) => `${k} ${v}`).join(', ') : '';
    out.push(`live ${l.host}: last report ${isoSeconds(l.reportedAt)} (${l.minutesAgo} min ago)${s ? `: ${s}` : ''}`);
  }
  if (r.live.length === 0) out.push('live: no statistics reported yet');
  if (r.readingsPerMonth.length) {
    out.push('');
    out.push(`${'month'.padEnd(8)} ${'readings'.padStart(12)} ${'size'.padStart(11)}`);
    for (const m of r.readingsPerMonth) out.push(`${m.month.padEnd(8)} ${(m.exact ? String(m.readings) : `~${m.readings}`).padStart(12)} ${mib(m.bytes).padStart(11)}`);
  }
  out.push('');
  out.push(`${'photometer'.padEnd(16)} ${'readings'.padStart(9)}  ${'first'.padEnd(20)}  ${'latest'.padEnd(20)}  silent`);
  for (const p of r.photometers) {
    const fmt = (d: Date | null) => (d ? d.toISOString().slice(0, 19) + 'Z' : '-').padEnd(20);
    const silent = p.silentMinutes !== null && p.silentMinutes > silentAfter ? `${p.silentMinutes} min` : '';
    out.push(`${p.name.padEnd(16)} ${String(p.readings ?? '~').padStart(9)}  ${fmt(p.first)}  ${fmt(p.latest)}  ${silent}`);
  }
  return out.join('\n') + '\n';
}
