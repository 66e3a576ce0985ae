/** `tessdb live`: the MQTT daemon. Runs until SIGTERM/SIGINT; SIGHUP reloads, SIGUSR1/SIGUSR2 pause/resume database writes. */
import v8 from 'node:v8';
import { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { log } from '../../util/log.js';
import { createContext, withCommonOptions, type CommonOptions } from '../context.js';

/** Hard limit for a stop requested by a signal: systemd and operators expect the process gone within 10 s. */
const STOP_LIMIT_MS = 10_000;

export function liveCommand(): Command {
  const cmd = new Command('live').description(
    'MQTT daemon: archive every message to rotated .ndjson.gz files and load the stream into PostgreSQL',
  );
  cmd.addHelpText(
    'after',
    `
Signals:
  SIGTERM, SIGINT  flush and close the archive, load the last batch, exit (within 10 s)
  SIGHUP           reload the configuration and the photometer cache, log the statistics
  SIGUSR1          pause database writes (archiving and acknowledging continue)
  SIGUSR2          resume database writes (catching up from the archive)

See docs/live.md.`,
  );
  return withCommonOptions(cmd).action(async (overrides: string[], opts: CommonOptions) => {
    const ctx = createContext(opts, overrides);
    if (ctx.dumped) return;
    // Loaded on demand: mqtt and prom-client cost other commands ~0.4 s of start-up.
    const { mqttSettings, startLive } = await import('../../live/index.js');
    mqttSettings(ctx.config); // no broker configured: say how to configure one, before touching anything
    // Under a backlog almost everything the daemon allocates dies young, yet V8 lets the old generation grow to
    // about 3.5× what survived the last full collection before the next one: 170 MB of heap (RSS ~270 MB) for
    // ~50 MB live in a 100,000-message drain. Growing it by half instead keeps peak RSS near 190 MB for 4–10 % more
    // CPU time (more full collections, concurrent and short with a small live heap).
    if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) v8.setFlagsFromString('--heap-growing-percent=50');
    const handle = await startLive(ctx.config, {
      signals: true,
      loadConfig: () => loadConfig({ files: opts.config, overrides }).config,
    });
    // If a clean stop ever hangs, do not outlive the limit.
    process.once('SIGTERM', armLimit);
    process.once('SIGINT', armLimit);
    const exit = await handle.done;
    process.off('SIGTERM', armLimit);
    process.off('SIGINT', armLimit);
    if (!exit.archiveClosed) process.exitCode = 1;
    // Whatever a library may still hold open must not keep the process alive after a clean stop.
    setTimeout(() => process.exit(), 1000).unref();
  });
}

function armLimit(): void {
  setTimeout(() => {
    log.error(`tessdb live did not stop within ${STOP_LIMIT_MS / 1000} s: exiting now`);
    process.exit(1);
  }, STOP_LIMIT_MS).unref();
}
