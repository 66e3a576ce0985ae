/** Commands whose issue has not landed yet: listed in --help, exit 2 with a clear message. */
import { Command } from 'commander';
import { UserError } from '../../util/errors.js';

const PENDING: [string, string][] = [];

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
