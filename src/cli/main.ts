/** The `tessdb` command: one program, one subcommand per stage. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { errorMessage, UserError } from '../util/errors.js';
import { dbCommand } from './commands/db.js';
import { setupCommand } from './commands/setup.js';
import { backfillCommand } from './commands/backfill.js';
import { ingestCommand } from './commands/ingest.js';
import { inventoryCommand } from './commands/inventory.js';
import { importSqliteCommand } from './commands/import-sqlite.js';
import { liveCommand } from './commands/live.js';
import { pendingCommands } from './commands/pending.js';
import { statusCommand } from './commands/status.js';
import { photometerCommand } from './commands/photometer.js';
import { locationCommand, observerCommand } from './commands/location.js';
import { exportCommand } from './commands/export.js';

function version(): string {
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('tessdb')
    .description('Collect TESS photometer (STARS4ALL) sky-brightness telemetry into PostgreSQL')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride();
  program.addCommand(setupCommand());
  program.addCommand(inventoryCommand());
  program.addCommand(ingestCommand());
  program.addCommand(backfillCommand());
  program.addCommand(importSqliteCommand());
  program.addCommand(liveCommand());
  for (const cmd of pendingCommands()) program.addCommand(cmd);
  program.addCommand(statusCommand());
  program.addCommand(photometerCommand());
  program.addCommand(locationCommand());
  program.addCommand(observerCommand());
  program.addCommand(exportCommand());
  program.addCommand(dbCommand());
  for (const cmd of program.commands) propagateExitOverride(cmd);
  return program;
}

function propagateExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) propagateExitOverride(sub);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; anything else commander rejects is a usage error
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`tessdb: ${errorMessage(err)}\n`);
    if (process.env.TESSDB_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return err instanceof UserError ? err.exitCode : 1;
  }
}
