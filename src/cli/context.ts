/** What every command shares: common options, the loaded configuration, and the database. */
import { Command, Option } from 'commander';
import { dumpConfig, loadConfig, type Config } from '../config/index.js';
import { openDatabase, type Database } from '../db/open.js';
import { log, setLogLevel } from '../util/log.js';

export interface CommonOptions {
  config: string[];
  dumpConfig?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds -c/--config (repeatable), --dump-config, -v, -q and the `key=value` overrides to a command. */
export function withCommonOptions(cmd: Command, opts: { json?: boolean } = {}): Command {
  cmd
    .addOption(new Option('-c, --config <file>', 'configuration file (repeatable; later files win)').argParser(collect).default([]))
    .option('--dump-config', 'print the merged configuration (secrets masked) and exit')
    .option('-v, --verbose', 'more log output')
    .option('-q, --quiet', 'only warnings and errors');
  if (opts.json) cmd.option('--json', 'machine-readable output on stdout');
  return cmd.argument('[overrides...]', 'configuration overrides, e.g. database.url=postgres://host/db');
}

export interface Context {
  config: Config;
  options: CommonOptions;
  /** Set when --dump-config was given: the command must print nothing else. */
  dumped: boolean;
}

export function createContext(options: CommonOptions, overrides: string[]): Context {
  setLogLevel(options.verbose ? 'debug' : options.quiet ? 'warn' : 'info');
  const { config, files } = loadConfig({ files: options.config, overrides });
  log.debug(`configuration from ${files.length ? files.join(', ') : 'defaults'}`);
  if (options.dumpConfig) {
    process.stdout.write(dumpConfig(config));
    return { config, options, dumped: true };
  }
  return { config, options, dumped: false };
}

/** Run `fn` with an open database, always closing it (and releasing the embedded server). */
export async function withDatabase<T>(ctx: Context, fn: (db: Database) => Promise<T>, poolSize?: number): Promise<T> {
  const db = await openDatabase(ctx.config, { max: poolSize });
  log.debug(`connected to ${db.description}`);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
