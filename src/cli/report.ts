/** Human-readable summaries printed at the end of long commands. */
import type { IngestSummary } from '../ingest/run.js';
import type { FileResult } from '../ingest/ingest-file.js';
import type { InventoryResult } from '../inventory/run.js';
import { log } from '../util/log.js';

export function reportFileProblem(r: FileResult): void {
  if (r.status === 'failed') log.error(`${r.path}: failed: ${r.error}`);
  else if (r.status === 'loaded_with_errors') log.warn(`${r.path}: ${r.error} (good rows loaded)`);
}

export function printIngestSummary(s: IngestSummary): void {
  const reasons = Object.entries(s.rejectsByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `files:      ${s.files} (${s.failed} failed, ${s.withErrors} with errors)`,
    `lines read: ${s.read}`,
    `inserted:   ${s.inserted}`,
    `duplicates: ${s.duplicates}`,
    `rejected:   ${s.rejected}${reasons ? ` (${reasons})` : ''}`,
    `time:       ${s.seconds.toFixed(1)} s, ${s.rowsPerSecond} rows/s`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

export function printInventorySummary(r: InventoryResult): void {
  const o = r.origins;
  const lines = [
    `host:       ${r.host}`,
    `files:      ${o.scanned} scanned: ${o.added} new, ${o.changed} changed, ${o.unchanged} unchanged, ${o.missing} missing`,
  ];
  if (o.unknownKind.length) lines.push(`unknown:    ${o.unknownKind.length} files of unknown kind (e.g. ${o.unknownKind[0].path}: ${o.unknownKind[0].reason})`);
  if (r.replicas) lines.push(`replicas:   ${r.replicas.scanned} scanned, ${r.replicas.matched} match an origin, ${r.replicas.unmatched} match none, ${r.replicas.missing} missing`);
  lines.push(`time:       ${r.seconds.toFixed(1)} s`);
  process.stdout.write(lines.join('\n') + '\n');
}
