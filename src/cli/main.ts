/** The `tessdb` command: one program, one subcommand per stage. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { errorMessage, UserError } from '../util/errors.js';
import { commandsFor } from './command-table.js';

function version(): string {
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** The program with the commands `argv` needs (all of them without `argv`: help, documentation). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('tessdb')
    .description('Collect TESS photometer (STARS4ALL) sky-brightness telemetry into PostgreSQL')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride();
  for (const cmd of await commandsFor(argv)) program.addCommand(cmd);
  for (const cmd of program.commands) propagateExitOverride(cmd);
  return program;
}

function propagateExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) propagateExitOverride(sub);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
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
