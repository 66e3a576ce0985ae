/** Commands whose issue has not landed yet: listed in --help, exit 2 with a clear message. */
import { Command } from 'commander';
import { UserError } from '../../util/errors.js';

const PENDING: [string, string][] = [
  ['inventory', 'scan data_dirs and record every archive and historical file in the inventory'],
  ['ingest', 'load new or changed inventoried files into PostgreSQL through COPY, idempotently'],
  ['backfill', 'inventory then ingest in one command'],
  ['live', 'MQTT daemon: archive every message to rotated .ndjson.gz files and load the stream'],
  ['status', 'database, photometers, inventory and live statistics at a glance'],
];

export function pendingCommands(): Command[] {
  return PENDING.map(([name, description]) =>
    new Command(name)
      .description(`${description} (not yet available)`)
      .allowUnknownOption()
      .argument('[args...]')
      .action(() => {
        throw new UserError(`tessdb ${name} is not yet available in this version`, 2);
      }),
  );
}
