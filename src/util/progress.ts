/** Progress for long work: a bar on a TTY, a log line every few seconds otherwise. */
import cliProgress from 'cli-progress';
import { log } from './log.js';

export interface Progress {
  tick(files: number, rows: number): void;
  stop(): void;
}

export function createProgress(label: string, totalFiles: number, opts: { quiet?: boolean; intervalMs?: number } = {}): Progress {
  const started = Date.now();
  let files = 0;
  let rows = 0;
  const rate = () => Math.round(rows / Math.max(0.001, (Date.now() - started) / 1000));
  if (opts.quiet) return { tick: (f, r) => ((files += f), (rows += r)), stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} files | {rows} rows | {rate} rows/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(totalFiles, 0, { rows: 0, rate: 0 });
    return {
      tick(f, r) {
        files += f;
        rows += r;
        bar.update(files, { rows, rate: rate() });
      },
      stop: () => bar.stop(),
    };
  }
  const interval = opts.intervalMs ?? 5000;
  let last = Date.now();
  return {
    tick(f, r) {
      files += f;
      rows += r;
      if (Date.now() - last >= interval) {
        last = Date.now();
        log.info(`${label}: ${files}/${totalFiles} files, ${rows} rows, ${rate()} rows/s`);
      }
    },
    stop: () => undefined,
  };
}
