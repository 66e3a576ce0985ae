import { Command } from 'commander';
import { createRoles, migrate } from '../../db/migrate.js';
import { syncSettings } from '../../filter/settings.js';
import { UsageError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';

interface SetupOptions extends CommonOptions {
  roles?: boolean;
  rolePrefix?: string;
}

/** Role names stay plain identifiers: <prefix>_ro fits PostgreSQL's 63 bytes. */
const ROLE_PREFIX = /^[a-z_][a-z0-9_]{0,58}$/;

export function setupCommand(): Command {
  const cmd = new Command('setup')
    .description('create or upgrade the database schema from the versioned SQL files in sql/')
    .option('--roles', 'also create the optional read-only (tessdb_ro) and read-write (tessdb_rw) roles')
    .option('--role-prefix <prefix>', 'with --roles: name them <prefix>_ro and <prefix>_rw (roles are shared by every database of the server; implies --roles)');
  return withCommonOptions(cmd, { json: true }).action(async (overrides: string[], opts: SetupOptions) => {
    const ctx = createContext(opts, overrides);
    if (ctx.dumped) return;
    const prefix = opts.rolePrefix ?? 'tessdb';
    if (!ROLE_PREFIX.test(prefix)) {
      throw new UsageError(`--role-prefix: "${prefix}" must be 1 to 59 lower-case letters, digits or _, starting with a letter or _`);
    }
    await withDatabase(ctx, async (db) => {
      const schema = ctx.config.database.schema;
      const result = await migrate(db.pool, schema);
      const roles = opts.roles || opts.rolePrefix !== undefined ? await createRoles(db.pool, schema, prefix) : [];
      await syncSettings(db.pool, ctx.config); // the views follow filter.daylight
      if (opts.json) {
        printJson({ database: db.description, schema, applied: result.applied.map((m) => m.name), upToDate: result.upToDate, roles });
        return;
      }
      if (result.upToDate) log.info(`schema "${schema}" in ${db.description} is up to date; nothing to apply`);
      for (const m of result.applied) log.info(`applied ${m.name}`);
      if (!result.upToDate) log.info(`schema "${schema}" in ${db.description} is now at version ${result.applied.at(-1)!.version}`);
      if (roles.length) log.info(`roles ready: ${roles.join(', ')}`);
    });
  });
}
