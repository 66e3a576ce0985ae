/** `tessdb photometer …`: list, show and change photometers (tessdb-reports' `tess` utility). */
import { Command, Option } from 'commander';
import { RELOAD_HINT } from '../../admin/common.js';
import {
  assign,
  createPhotometer,
  listPhotometers,
  rename,
  setAttributes,
  setAuthorised,
  showPhotometer,
  type ChangeResult,
  type PhotometerListRow,
  type PhotometerVersionRow,
  type Settings,
} from '../../admin/photometers.js';
import { formatFields, formatTable, isoSeconds } from '../../admin/table.js';
import * as v from '../../admin/validate.js';
import { UsageError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { createContext, printJson, withCommonOptions, withDatabase, type CommonOptions } from '../context.js';

interface SinceOption extends CommonOptions {
  since?: string;
}

const SINCE_HELP = 'effective from this date: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM] (UTC unless given) or now';

function zps(v1: number | null, v2: number | null, v3: number | null, v4: number | null, n: number): string {
  return [v1, v2, v3, v4].slice(0, n).map((x) => (x === null ? '-' : String(x))).join('/');
}

function filters(r: PhotometerVersionRow): string {
  return [r.filter1, r.filter2, r.filter3, r.filter4].slice(0, r.nchannels).map((x) => x ?? '-').join('/');
}

function printChange(r: ChangeResult, json: boolean | undefined): void {
  if (json) {
    printJson({ ...r, reload: r.changes.length ? RELOAD_HINT : null });
    return;
  }
  const who = `${r.name || '-'} (${r.mac})`;
  if (r.changes.length === 0) {
    process.stdout.write(`${who}: nothing to change at ${isoSeconds(r.since)}\n`);
    return;
  }
  process.stdout.write(`${who}, from ${isoSeconds(r.since)}:\n${r.changes.map((c) => `  ${c}`).join('\n')}\n`);
  if (r.version) process.stdout.write(`now version tess_id ${r.version.tess_id}, valid from ${isoSeconds(r.version.valid_since)}\n`);
  log.info(RELOAD_HINT);
}

function listTable(rows: PhotometerListRow[], allStates: boolean): string {
  const headers = ['name', 'mac', 'model', 'zp', 'filter', 'site', 'observer', 'auth', 'registered', 'since'];
  if (allStates) headers.push('until', 'state');
  headers.push('latest reading');
  return formatTable(
    headers,
    rows.map((r) => {
      const row = [r.name || '-', r.mac, r.model, zps(r.zp1, r.zp2, r.zp3, r.zp4, r.nchannels), filters(r), r.site, r.observer, r.authorised, r.registered, isoSeconds(r.valid_since)];
      if (allStates) row.push(isoSeconds(r.valid_until), r.valid_state);
      row.push(r.latest_reading ? isoSeconds(r.latest_reading) : 'never');
      return row;
    }),
  );
}

function num(parse: (t: string) => number) {
  return (value: string) => parse(value);
}

export function photometerCommand(): Command {
  const cmd = new Command('photometer').description('list, show and administer photometers (versioned: every change starts a new version)');

  cmd.addCommand(
    withCommonOptions(
      new Command('list')
        .description('photometers, one line per version (default: current versions)')
        .addOption(new Option('--expired', 'expired versions only').conflicts(['all']))
        .option('--all', 'every version, current and expired')
        .option('--unassigned', 'only photometers at the "Unknown" location')
        .option('--unauthorised', 'only photometers not authorised')
        .option('--silent-since <when>', 'only current photometers without a reading since then (e.g. 2h, 3d, 2024-05-01)'),
      { json: true },
    ).action(async (overrides: string[], opts: CommonOptions & { expired?: boolean; all?: boolean; unassigned?: boolean; unauthorised?: boolean; silentSince?: string }) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      const silentSince = opts.silentSince !== undefined ? v.sinceAgo(opts.silentSince) : undefined;
      await withDatabase(ctx, async (db) => {
        const rows = await listPhotometers(db.pool, {
          state: opts.all ? 'all' : opts.expired ? 'expired' : 'current',
          unassigned: opts.unassigned,
          unauthorised: opts.unauthorised,
          silentSince,
        });
        if (opts.json) return printJson(rows);
        process.stdout.write(listTable(rows, Boolean(opts.all || opts.expired)));
        log.info(`${rows.length} photometer version${rows.length === 1 ? '' : 's'}`);
      });
    }),
  );

  cmd.addCommand(
    withCommonOptions(
      new Command('show').description('one photometer: version history, name history, location, observer, latest reading').argument('<photometer>', 'name or MAC'),
      { json: true },
    ).action(async (key: string, overrides: string[], opts: CommonOptions) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      await withDatabase(ctx, async (db) => {
        const d = await showPhotometer(db.pool, key);
        if (opts.json) return printJson(d);
        const c = d.current;
        const out: string[] = [];
        out.push(
          formatFields([
            ['name', d.name || '-'],
            ['MAC', d.mac],
            ['model', c?.model],
            ['firmware', c?.firmware],
            ['zero point', c ? zps(c.zp1, c.zp2, c.zp3, c.zp4, c.nchannels) : null],
            ['filter', c ? filters(c) : null],
            ['azimuth / altitude', c ? `${c.azimuth} / ${c.altitude}` : null],
            ['location', c ? `${c.site} (${c.location_id})` : null],
            ['observer', c ? `${c.observer} (${c.observer_id})` : null],
            ['authorised', c?.authorised],
            ['registered', c?.registered],
            ['readings', d.readings.count],
            ['first reading', d.readings.first],
            ['latest reading', d.latest_reading ? (d.latest_reading.tstamp as Date) : 'never'],
            ['latest magnitude', d.latest_reading ? (d.latest_reading.mag as number) : null],
          ]),
        );
        out.push('versions:');
        out.push(
          formatTable(
            ['tess_id', 'since', 'until', 'state', 'zp', 'filter', 'az', 'alt', 'site', 'observer', 'auth'],
            d.versions.map((x) => [x.tess_id, x.valid_since, x.valid_until, x.valid_state, zps(x.zp1, x.zp2, x.zp3, x.zp4, x.nchannels), filters(x), x.azimuth, x.altitude, x.site, x.observer, x.authorised]),
          ),
        );
        out.push('names:');
        out.push(formatTable(['name', 'mac', 'since', 'until', 'state'], d.names.map((n) => [n.name, n.mac, n.valid_since, n.valid_until, n.valid_state])));
        if (d.admin_events.length) {
          out.push('administrative changes:');
          out.push(formatTable(['effective', 'op', 'user', 'details'], d.admin_events.map((e) => [e.at, e.op, e.user, JSON.stringify(e.details)])));
        }
        process.stdout.write(out.join('\n'));
      });
    }),
  );

  for (const [name, value] of [
    ['authorise', true],
    ['unauthorise', false],
  ] as const) {
    cmd.addCommand(
      withCommonOptions(
        new Command(name)
          .description(value ? 'allow readings of these photometers to be loaded (registry.require_authorisation)' : 'stop loading readings of these photometers')
          .argument('<photometer>', 'name or MAC (several may be given)')
          .option('--since <when>', SINCE_HELP),
        { json: true },
      ).action(async (first: string, rest: string[], opts: SinceOption) => {
        // Further names share the trailing variadic argument with the key=value overrides.
        const targets = [first, ...rest.filter((k) => !k.includes('='))];
        const ctx = createContext(opts, rest.filter((k) => k.includes('=')));
        if (ctx.dumped) return;
        const at = v.instant(opts.since, '--since');
        await withDatabase(ctx, async (db) => {
          const results: ChangeResult[] = [];
          for (const key of targets) results.push(await setAuthorised(db.pool, key, value, at));
          if (opts.json) return printJson(results.map((r) => ({ ...r, reload: r.changes.length ? RELOAD_HINT : null })));
          for (const r of results) printChange(r, false);
        });
      }),
    );
  }

  cmd.addCommand(
    withCommonOptions(
      new Command('assign')
        .description('put a photometer at a location and/or with an observer, from a date (new version)')
        .argument('<photometer>', 'name or MAC')
        .option('--location <site>', 'location site name or id')
        .option('--observer <name>', 'observer name or id')
        .option('--since <when>', SINCE_HELP),
      { json: true },
    ).action(async (key: string, overrides: string[], opts: SinceOption & { location?: string; observer?: string }) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      const at = v.instant(opts.since, '--since');
      await withDatabase(ctx, async (db) => printChange(await assign(db.pool, key, { location: opts.location, observer: opts.observer }, at), opts.json));
    }),
  );

  cmd.addCommand(
    withCommonOptions(
      new Command('set')
        .description('change version-controlled attributes from a date (new version): zero point, filter, pointing, optics')
        .argument('<photometer>', 'name or MAC')
        .option('--zp <mag>', 'zero point (10 to 30)', num(v.zeroPoint))
        .option('--filter <name>', 'filter, e.g. UVIR', v.filterName)
        .option('--offset <hz>', 'dark frequency offset (Hz)', num(v.offsetHz))
        .option('--channel <n>', 'channel of --zp/--filter/--offset (TESS4C: 1 to 4; default 1)', num(v.channel))
        .option('--azimuth <deg>', 'azimuth of the optical axis (0 to 360)', num(v.azimuth))
        .option('--altitude <deg>', 'altitude of the optical axis (-90 to 90; 90 = zenith)', num(v.altitude))
        .option('--fov <deg>', 'field of view', num(v.fov))
        .option('--cover-offset <mag>', 'extra attenuation of a cover window (mag/arcsec²)', num(v.coverOffset))
        .option('--since <when>', SINCE_HELP),
      { json: true },
    ).action(async (key: string, overrides: string[], opts: SinceOption & Settings) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      const at = v.instant(opts.since, '--since');
      const s: Settings = {
        channel: opts.channel, zp: opts.zp, filter: opts.filter, offset: opts.offset,
        azimuth: opts.azimuth, altitude: opts.altitude, fov: opts.fov, coverOffset: opts.coverOffset,
      };
      await withDatabase(ctx, async (db) => printChange(await setAttributes(db.pool, key, s, at), opts.json));
    }),
  );

  cmd.addCommand(
    withCommonOptions(
      new Command('rename')
        .description('the device known as <photometer> takes the name <new-name> from a date')
        .argument('<photometer>', 'current name or MAC')
        .argument('<new-name>', 'new name, e.g. stars1234')
        .option('--since <when>', SINCE_HELP),
      { json: true },
    ).action(async (key: string, newName: string, overrides: string[], opts: SinceOption) => {
      const ctx = createContext(opts, overrides);
      if (ctx.dumped) return;
      const at = v.instant(opts.since, '--since');
      await withDatabase(ctx, async (db) => printChange(await rename(db.pool, key, newName, at), opts.json));
    }),
  );

  cmd.addCommand(
    withCommonOptions(
      new Command('create')
        .description('register a photometer by hand (registered = Manual)')
        .argument('<name>', 'photometer name, e.g. stars1234')
        .argument('<mac>', 'MAC address')
        .addOption(new Option('--model <model>', 'TESS-W or TESS4C').choices(['TESS-W', 'TESS4C']).default('TESS-W'))
        .option('--zp <mags>', 'zero point, or four comma-separated for a TESS4C (default 20.5)')
        .option('--filter <names>', 'filter, or four comma-separated for a TESS4C (default UVIR)')
        .option('--firmware <text>', 'firmware version')
        .option('--authorise', 'authorise it at once')
        .option('--location <site>', 'location site name or id')
        .option('--observer <name>', 'observer name or id')
        .option('--since <when>', SINCE_HELP),
      { json: true },
    ).action(
      async (
        name: string,
        mac: string,
        overrides: string[],
        opts: SinceOption & { model: 'TESS-W' | 'TESS4C'; zp?: string; filter?: string; firmware?: string; authorise?: boolean; location?: string; observer?: string },
      ) => {
        const ctx = createContext(opts, overrides);
        if (ctx.dumped) return;
        const at = v.instant(opts.since, '--since');
        const zpList = opts.zp?.split(',').map((x) => v.zeroPoint(x));
        const filterList = opts.filter?.split(',').map((x) => v.filterName(x));
        if (zpList && zpList.length !== (opts.model === 'TESS4C' ? 4 : 1)) {
          throw new UsageError(`--zp: a ${opts.model} takes ${opts.model === 'TESS4C' ? 'four comma-separated zero points' : 'one zero point'}`);
        }
        await withDatabase(ctx, async (db) =>
          printChange(
            await createPhotometer(
              db.pool,
              { name, mac, model: opts.model, zps: zpList, filters: filterList, firmware: opts.firmware, authorise: opts.authorise, location: opts.location, observer: opts.observer },
              at,
            ),
            opts.json,
          ),
        );
      },
    ),
  );

  return cmd;
}
