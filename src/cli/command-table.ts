/**
 * The subcommands, in `--help` order, each loaded on demand: `tessdb ingest` loads the ingest command
 * module (and what it imports) only, not the live daemon, the exporters or the admin commands.
 */
import type { Command } from 'commander';

type Loader = () => Promise<Command[]>;

export const COMMANDS: ReadonlyArray<[name: string, load: Loader]> = [
  ['setup', async () => [(await import('./commands/setup.js')).setupCommand()]],
  ['inventory', async () => [(await import('./commands/inventory.js')).inventoryCommand()]],
  ['ingest', async () => [(await import('./commands/ingest.js')).ingestCommand()]],
  ['backfill', async () => [(await import('./commands/backfill.js')).backfillCommand()]],
  ['import-sqlite', async () => [(await import('./commands/import-sqlite.js')).importSqliteCommand()]],
  ['live', async () => [(await import('./commands/live.js')).liveCommand()]],
  ['', async () => (await import('./commands/pending.js')).pendingCommands()],
  ['status', async () => [(await import('./commands/status.js')).statusCommand()]],
  ['photometer', async () => [(await import('./commands/photometer.js')).photometerCommand()]],
  ['location', async () => [(await import('./commands/location.js')).locationCommand()]],
  ['observer', async () => [(await import('./commands/location.js')).observerCommand()]],
  ['export', async () => [(await import('./commands/export.js')).exportCommand()]],
  ['db', async () => [(await import('./commands/db.js')).dbCommand()]],
];

/**
 * The commands `argv` needs: only the named one when the first argument is a known command name;
 * all of them otherwise (help, version, a typo to suggest a correction for, a pending command).
 */
export async function commandsFor(argv: readonly string[]): Promise<Command[]> {
  const first = argv[2];
  const named = COMMANDS.find(([name]) => name !== '' && name === first);
  const wanted = named ? [named] : COMMANDS;
  const lists = await Promise.all(wanted.map(([, load]) => load()));
  return lists.flat();
}
