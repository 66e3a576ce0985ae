/** `tessdb location …` and `tessdb observer …`: create, update, list and show (history kept). */
import { Command } from 'commander';
import {
  createLocation,
  createObserver,
  listLocations,
  listObservers,
  showLocation,
  showObserver,
  updateLocation,
  updateObserver,
  type LocationInput,
  type ObserverInput,
  type UpdateResult,
} from '../../admin/locations.js';
import { formatFields, formatTable, type Cell } from '../../admin/table.js';
import { log } from '../../util/log.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';

function locationOptions(cmd: Command, withSite: boolean): Command {
  if (withSite) cmd.option('--site <name>', 'new site name (unique)');
  return cmd
    .option('--place <text>', 'town or place')
    .option('--province <text>', 'province or region')
    .option('--country <text>', 'country')
    .option('--zipcode <text>', 'postal code')
    .option('--timezone <tz>', 'IANA time zone, e.g. Europe/Madrid (default Etc/UTC)')
    .option('--latitude <deg>', 'latitude in degrees (-90 to 90)')
    .option('--longitude <deg>', 'longitude in degrees (-180 to 180; west negative)')
    .option('--elevation <m>', 'elevation in metres')
    .option('--contact-person <name>', 'contact person')
    .option('--contact-email <email>', 'contact e-mail')
    .option('--organization <name>', 'organization running the site');
}

interface LocationOpts extends CommonOptions {
  site?: string;
  place?: string;
  province?: string;
  country?: string;
  zipcode?: string;
  timezone?: string;
  latitude?: string;
  longitude?: string;
  elevation?: string;
  contactPerson?: string;
  contactEmail?: string;
  organization?: string;
}

function locationInput(o: LocationOpts, site?: string): LocationInput {
  return {
    site: site ?? o.site,
    place: o.place,
    province: o.province,
    country: o.country,
    zipcode: o.zipcode,
    timezone: o.timezone,
    latitude: o.latitude,
    longitude: o.longitude,
    elevation: o.elevation,
    contact_person: o.contactPerson,
    contact_email: o.contactEmail,
    organization: o.organization,
  };
}

function printRow(row: object): void {
  process.stdout.write(formatFields(Object.entries(row).map(([k, v]) => [k, v as Cell])));
}

function printUpdate<T extends object>(what: string, r: UpdateResult<T>, json?: boolean): void {
  if (json) return printJson(r);
  if (r.changed.length === 0) {
    process.stdout.write(`${what}: nothing changed\n`);
    return;
  }
  const before = r.before as Record<string, unknown>;
  const after = r.after as Record<string, unknown>;
  process.stdout.write(`${what}:\n${r.changed.map((k) => `  ${k}: ${before[k] ?? '-'} → ${after[k] ?? '-'}`).join('\n')}\n`);
}

export function locationCommand(): Command {
  const cmd = new Command('location').description('locations where photometers are installed (every change kept in location_versions)');

  cmd.addCommand(
    withCommonOptions(locationOptions(new Command('create').description('create a location').argument('<site>', 'unique site name'), false), {
      json: true,
    }).action(async (site: string, overrides: string[], opts: LocationOpts) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      await withDatabase(ctx, async (db) => {
        const row = await createLocation(db.pool, locationInput(opts, site));
        if (opts.json) return printJson(row);
        printRow(row);
        log.info(`created location ${row.location_id} "${row.site}"; assign photometers with \`tessdb photometer assign NAME --location "${row.site}"\``);
      });
    }),
  );

  cmd.addCommand(
    withCommonOptions(
      locationOptions(new Command('update').description('change a location (the previous values are kept as a version)').argument('<location>', 'site name or id'), true),
      { json: true },
    ).action(async (key: string, overrides: string[], opts: LocationOpts) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      await withDatabase(ctx, async (db) => printUpdate(`location "${key}"`, await updateLocation(db.pool, key, locationInput(opts)), opts.json));
    }),
  );

  cmd.addCommand(
    withCommonOptions(
      new Command('list').description('locations and their current photometers').option('--unused', 'only locations without a current photometer'),
      { json: true },
    ).action(async (overrides: string[], opts: CommonOptions & { unused?: boolean }) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      await withDatabase(ctx, async (db) => {
        const rows = await listLocations(db.pool, { unused: opts.unused });
        if (opts.json) return printJson(rows);
        process.stdout.write(
          formatTable(
            ['id', 'site', 'place', 'province', 'country', 'latitude', 'longitude', 'timezone', 'photometers'],
            rows.map((r) => [r.location_id, r.site, r.place, r.province, r.country, r.latitude, r.longitude, r.timezone, r.names ?? '']),
          ),
        );
      });
    }),
  );

  cmd.addCommand(
    withCommonOptions(new Command('show').description('one location, its photometers and its history').argument('<location>', 'site name or id'), {
      json: true,
    }).action(async (key: string, overrides: string[], opts: CommonOptions) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      await withDatabase(ctx, async (db) => {
        const d = await showLocation(db.pool, key);
        if (opts.json) return printJson(d);
        printRow(d.location);
        process.stdout.write('\nphotometers:\n' + formatTable(['name', 'mac', 'here since'], d.photometers.map((p) => [p.name, p.mac, p.since])));
        process.stdout.write(
          '\nhistory:\n' +
            formatTable(
              ['since', 'until', 'state', 'by', 'site', 'latitude', 'longitude', 'timezone'],
              d.versions.map((x) => [x.valid_since, x.valid_until, x.valid_state, x.changed_by, x.data.site as string, x.data.latitude as number, x.data.longitude as number, x.data.timezone as string]),
            ),
        );
      });
    }),
  );

  return cmd;
}

function observerOptions(cmd: Command, withName: boolean): Command {
  if (withName) cmd.option('--name <name>', 'new name (unique)');
  return cmd
    .option('--type <type>', 'person or organization')
    .option('--affiliation <text>', 'affiliation')
    .option('--acronym <text>', 'acronym')
    .option('--email <email>', 'e-mail')
    .option('--website <url>', 'web site');
}

interface ObserverOpts extends CommonOptions {
  name?: string;
  type?: string;
  affiliation?: string;
  acronym?: string;
  email?: string;
  website?: string;
}

function observerInput(o: ObserverOpts, name?: string): ObserverInput {
  return { name: name ?? o.name, type: o.type, affiliation: o.affiliation, acronym: o.acronym, email: o.email, website_url: o.website };
}

export function observerCommand(): Command {
  const cmd = new Command('observer').description('people and organisations responsible for photometers (every change kept in observer_versions)');

  cmd.addCommand(
    withCommonOptions(observerOptions(new Command('create').description('create an observer').argument('<name>', 'unique name'), false), { json: true }).action(
      async (name: string, overrides: string[], opts: ObserverOpts) => {
        const ctx = createContext(opts, overrides);
        if (ctx.dumped) return;
        await withDatabase(ctx, async (db) => {
          const row = await createObserver(db.pool, observerInput(opts, name));
          if (opts.json) return printJson(row);
          printRow(row);
        });
      },
    ),
  );

  cmd.addCommand(
    withCommonOptions(
      observerOptions(new Command('update').description('change an observer (the previous values are kept as a version)').argument('<observer>', 'name or id'), true),
      { json: true },
    ).action(async (key: string, overrides: string[], opts: ObserverOpts) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      await withDatabase(ctx, async (db) => printUpdate(`observer "${key}"`, await updateObserver(db.pool, key, observerInput(opts)), opts.json));
    }),
  );

  cmd.addCommand(
    withCommonOptions(
      new Command('list').description('observers and how many current photometers each has').option('--unused', 'only observers without a current photometer'),
      { json: true },
    ).action(async (overrides: string[], opts: CommonOptions & { unused?: boolean }) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      await withDatabase(ctx, async (db) => {
        const rows = await listObservers(db.pool, { unused: opts.unused });
        if (opts.json) return printJson(rows);
        process.stdout.write(
          formatTable(['id', 'name', 'type', 'affiliation', 'email', 'photometers'], rows.map((r) => [r.observer_id, r.name, r.type, r.affiliation, r.email, r.photometers])),
        );
      });
    }),
  );

  cmd.addCommand(
    withCommonOptions(new Command('show').description('one observer, their photometers and history').argument('<observer>', 'name or id'), { json: true }).action(
      async (key: string, overrides: string[], opts: CommonOptions) => {
        const ctx = createContext(opts, overrides);
        if (ctx.dumped) return;
        await withDatabase(ctx, async (db) => {
          const d = await showObserver(db.pool, key);
          if (opts.json) return printJson(d);
          printRow(d.observer);
          process.stdout.write('\nphotometers:\n' + formatTable(['name', 'mac'], d.photometers.map((p) => [p.name, p.mac])));
          process.stdout.write(
            '\nhistory:\n' +
              formatTable(['since', 'until', 'state', 'by', 'name', 'affiliation', 'email'], d.versions.map((x) => [x.valid_since, x.valid_until, x.valid_state, x.changed_by, x.data.name as string, x.data.affiliation as string, x.data.email as string])),
          );
        });
      },
    ),
  );

  return cmd;
}
