/** Progress of an import in rows: a bar on a TTY (as src/util/progress.ts draws for files), a log line every few seconds otherwise. */
import cliProgress from 'cli-progress';
import { log } from '../util/log.js';

export interface RowProgress {
  tick(rows: number): void;
  stop(): void;
}

/** `estimate` is approximate (the tables' largest rowid): the bar is capped at it. */
export function rowProgress(label: string, estimate: number, opts: { quiet?: boolean; intervalMs?: number } = {}): RowProgress {
  const started = Date.now();
  let rows = 0;
  const rate = () => Math.round(rows / Math.max(0.001, (Date.now() - started) / 1000));
  if (opts.quiet) return { tick: (r) => void (rows += r), stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/~{total} rows | {rate} rows/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const total = Math.max(1, estimate);
    bar.start(total, 0, { rate: 0 });
    return {
      tick(r) {
        rows += r;
        bar.update(Math.min(rows, total), { rate: rate() });
      },
      stop: () => bar.stop(),
    };
  }
  const interval = opts.intervalMs ?? 5000;
  let last = Date.now();
  return {
    tick(r) {
      rows += r;
      if (Date.now() - last >= interval) {
        last = Date.now();
        log.info(`${label}: ${rows} of ~${estimate} rows, ${rate()} rows/s`);
      }
    },
    stop: () => undefined,
  };
}
