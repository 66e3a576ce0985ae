/** `tessdb db start|stop|status|url`: the personal PostgreSQL, without conda or sudo. */
import { Command } from 'commander';
import { embeddedServer } from '../../db/open.js';
import { log } from '../../util/log.js';
import { createContext, printJson, withCommonOptions, type CommonOptions } from '../context.js';

export function dbCommand(): Command {
  const db = new Command('db').description('manage the embedded personal PostgreSQL (data under $XDG_DATA_HOME/tessdb/pg)');

  db.addCommand(
    withCommonOptions(new Command('start').description('start it and leave it running in the background')).action(
      async (overrides: string[], opts: CommonOptions) => {
        const ctx = createContext(opts, overrides);
        if (ctx.dumped) return;
        const server = embeddedServer(ctx.config);
        await server.startKept();
        const status = await server.status();
        log.info(`embedded PostgreSQL ${status.version} running on 127.0.0.1:${status.port} (data ${status.dataDir})`);
      },
    ),
  );

  db.addCommand(
    withCommonOptions(new Command('stop').description('stop it cleanly')).action(async (overrides: string[], opts: CommonOptions) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      const stopped = await embeddedServer(ctx.config).stopNow();
      log.info(stopped ? 'embedded PostgreSQL stopped' : 'embedded PostgreSQL was not running');
    }),
  );

  db.addCommand(
    withCommonOptions(new Command('status').description('running/stopped, data directory, size, version'), { json: true }).action(
      async (overrides: string[], opts: CommonOptions) => {
        const ctx = createContext(opts, overrides);
        if (ctx.dumped) return;
        const status = await embeddedServer(ctx.config).status();
        if (opts.json) return printJson(status);
        const lines = [
          `state:     ${status.running ? `running on 127.0.0.1:${status.port}` : status.initialised ? 'stopped' : 'not initialised'}`,
          `data dir:  ${status.dataDir}`,
          `version:   ${status.version ?? '-'}`,
          `size:      ${(status.sizeBytes / 1024 / 1024).toFixed(1)} MiB`,
        ];
        process.stdout.write(lines.join('\n') + '\n');
      },
    ),
  );

  db.addCommand(
    withCommonOptions(
      new Command('url')
        .description('print a connection string for psql and Grafana (without the generated password unless --with-password)')
        .option('--with-password', 'include the generated password (for psql "$(tessdb db url --with-password)")'),
    ).action(async (overrides: string[], opts: CommonOptions & { withPassword?: boolean }) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      const server = embeddedServer(ctx.config);
      if (!server.isInitialised()) throw new Error('the embedded PostgreSQL is not initialised yet; run `tessdb db start` first');
      if (!(await server.isRunning())) log.warn('the embedded PostgreSQL is not running; `tessdb db start` starts it');
      if (opts.withPassword) {
        process.stdout.write(server.url() + '\n');
        return;
      }
      process.stdout.write(server.urlWithoutPassword() + '\n');
      log.info(`the password is in ${server.passwordFile} (readable by you only); --with-password includes it in the URL`);
    }),
  );
  return db;
}
