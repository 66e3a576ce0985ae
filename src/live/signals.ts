/**
 * Process signals of the daemon (design.md §5, as tessdb-server's operators know them):
 * SIGTERM/SIGINT stop cleanly (flush and close the archive, last database batch, exit 0 within 10 s);
 * SIGHUP reloads the configuration and the photometer cache (and logs the statistics);
 * SIGUSR1 pauses database writes (archiving and acknowledging continue); SIGUSR2 resumes them.
 */
import { errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';

export interface SignalTarget {
  stop(): Promise<void>;
  reload(): Promise<void>;
  pause(): void;
  resume(): void;
}

/** Installs the handlers; returns a function that removes them. */
export function installSignalHandlers(target: SignalTarget): () => void {
  let stopping = false;
  const onStop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.info(`${signal}: already stopping`);
      return;
    }
    stopping = true;
    log.info(`${signal}: stopping`);
    target.stop().catch((err) => log.error(`stop failed: ${errorMessage(err)}`));
  };
  const onHup = (): void => {
    log.info('SIGHUP: reloading the configuration and the photometer cache');
    target.reload().catch((err) => log.error(`reload failed: ${errorMessage(err)}`));
  };
  const onUsr1 = (): void => target.pause();
  const onUsr2 = (): void => target.resume();
  const handlers: [NodeJS.Signals, (s: NodeJS.Signals) => void][] = [
    ['SIGTERM', onStop],
    ['SIGINT', onStop],
    ['SIGHUP', onHup],
    ['SIGUSR1', onUsr1],
    ['SIGUSR2', onUsr2],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
