/**
 * Monthly IDA files as tessdb-reports writes them (`tess-ida`): a 35-line header (Definition of the
 * community standard for skyglow observations 1.0) and one `;`-separated line per reading —
 * 8 fields for a TESS-W (UTC; local time; enclosure and sky temperature; frequency; magnitude; zero
 * point; sequence number), 17 for a TESS4C (frequency, magnitude and zero point of each channel).
 * One file per location the photometer had during the month: `<out>/<name>/<name>_<YYYY-MM>.dat`,
 * or `<name>_<YYYY-MM>_<location_id>.dat` when it moved. Lines are streamed from PostgreSQL (COPY).
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { log } from '../util/log.js';
import { copyOut, countSegment, finish, literal, segmentFrom, segmentsOf, versionColumn, write, type Segment } from './sql.js';

export const IDA_HEADER_LINES = 35;

export interface IdaExportOptions {
  name: string;
  /** First instant of the month (UTC). */
  month: Date;
  outDir: string;
  dropDaylight: boolean;
}

export interface IdaFile {
  name: string;
  month: string;
  path: string;
  location_id: number;
  site: string;
  readings: number;
}

interface VersionMeta {
  tess_id: number;
  mac_address: string;
  model: 'TESS-W' | 'TESS4C';
  firmware: string | null;
  nchannels: number;
  zp1: number;
  zp2: number | null;
  zp3: number | null;
  zp4: number | null;
  filter1: string;
  filter2: string | null;
  filter3: string | null;
  filter4: string | null;
  azimuth: number;
  altitude: number;
  fov: number;
  cover_offset: number;
  observer_id: number;
  valid_since: Date;
}

/** Python's str() of a float, as tessdb-reports' templates print numbers (0 → "0.0"). */
export function pyFloat(v: number | null | undefined): string {
  if (v === null || v === undefined) return 'None';
  if (Number.isInteger(v)) return v.toFixed(1);
  return String(v);
}

const pyStr = (v: unknown): string => (v === null || v === undefined || v === '' ? 'None' : String(v));

export function monthLabel(month: Date): string {
  return `${month.getUTCFullYear()}-${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function nextMonth(month: Date): Date {
  return new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
}

export interface HeaderContext {
  name: string;
  version: VersionMeta; // the latest version used during the month at this location
  versions: VersionMeta[];
  location: Record<string, unknown>;
  observer: Record<string, unknown> | null;
  timezone: string;
  subscriberTimestamps: boolean;
  /** When the unit was replaced during the month (same name, new MAC): the previous MAC and the first reading of the new one. */
  macChange?: { previous: string; since: Date };
}

function changes(label: string, values: string[]): string {
  const distinct = values.filter((x, i) => values.indexOf(x) === i);
  return distinct.length > 1 ? `${label} changes: ${distinct.join(',')}` : '';
}

/** The 35 header lines (each ending in \n). */
export function idaHeader(c: HeaderContext): string {
  const v = c.version;
  const four = v.nchannels > 1;
  const zps = [v.zp1, v.zp2, v.zp3, v.zp4].slice(0, v.nchannels);
  const filters = [v.filter1, v.filter2, v.filter3, v.filter4].slice(0, v.nchannels);
  const loc = c.location;
  const supplier =
    c.observer && Number(c.observer.observer_id) !== -1
      ? `${pyStr(c.observer.name)} / ${pyStr(c.observer.affiliation)}`
      : `${pyStr(loc.contact_person)} / ${pyStr(loc.organization)}`;
  const zpOf = (x: VersionMeta) => [x.zp1, x.zp2, x.zp3, x.zp4].slice(0, x.nchannels).map(pyFloat).join('/');
  const filterOf = (x: VersionMeta) => [x.filter1, x.filter2, x.filter3, x.filter4].slice(0, x.nchannels).map(pyStr).join('/');
  const comments = [
    zps[0] === 20.5 ? 'This photometer has not been calibrated' : '',
    changes('ZP', c.versions.map(zpOf)),
    c.macChange ? `MAC address was ${c.macChange.previous} (until ${c.macChange.since.toISOString()})` : '',
    changes('Filter', c.versions.map(filterOf)),
    changes('Azimuth', c.versions.map((x) => pyFloat(x.azimuth))),
    changes('Altitude', c.versions.map((x) => pyFloat(x.altitude))),
  ];
  const channelCols = four
    ? [1, 2, 3, 4].map((i) => `Freq${i}, MSAS${i}, ZP${i}`).join(', ')
    : 'Frequency, MSAS, ZP';
  const channelUnits = (four ? [1, 2, 3, 4] : [1]).map(() => 'Hz;mag/arcsec^2;mag/arcsec^2').join(';');
  const lines = [
    'Definition of the community standard for skyglow observations 1.0',
    'URL: http://www.darksky.org/NSBM/sdf1.0.pdf',
    `Number of header lines: ${IDA_HEADER_LINES}`,
    'This data is released under the following license: ODbL 1.0 http://opendatacommons.org/licenses/odbl/summary/',
    `Device type: ${v.model}`,
    `Instrument ID: ${c.name}`,
    `Data supplier: ${supplier}`,
    `Location name: ${pyStr(loc.place)}/${pyStr(loc.province)}/${pyStr(loc.country)} - ${pyStr(loc.site)}`,
    `Position: ${pyFloat(loc.latitude as number | null)}, ${pyFloat(loc.longitude as number | null)}, ${pyFloat(loc.elevation as number | null)}`,
    `Local timezone: ${c.timezone}`,
    `Time Synchronization: ${c.subscriberTimestamps ? 'timestamp added by MQTT subscriber' : 'timestamp added by the photometer (MQTT publisher)'}`,
    'Moving / Stationary position: STATIONARY',
    'Moving / Fixed look direction: FIXED',
    `Number of channels: ${v.nchannels}`,
    `Filters per channel: ${filters.map(pyStr).join(', ')}`,
    `Measurement direction per channel: ${pyFloat(v.azimuth)}, ${pyFloat(90 - v.altitude)}`,
    `Field of view: ${pyFloat(v.fov)}`,
    `Number of fields per line: ${four ? 17 : 8}`,
    `TESS MAC address: ${v.mac_address}${c.macChange ? ` (from ${c.macChange.since.toISOString()})` : ''}`,
    `TESS firmware version: ${pyStr(v.firmware)}`,
    `TESS cover offset value: ${pyFloat(v.cover_offset)}`,
    `TESS zero point: ${zps.map(pyFloat).join(', ')}`,
    ...comments.map((x) => `Comment: ${x}`.trimEnd()),
    'Comment: MSAS = ZP - 2.5*log10(Frequency)',
    'blank line 30',
    'blank line 31',
    'blank line 32',
    `UTC Date & Time, Local Date & Time, Enclosure Temperature, Sky Temperature, ${channelCols}, Sequence Number`,
    `YYYY-MM-DDTHH:mm:ss.fff;YYYY-MM-DDTHH:mm:ss.fff;Celsius;Celsius;${channelUnits};Multiple of Tx period`,
    'END OF HEADER',
  ];
  if (lines.length !== IDA_HEADER_LINES) throw new Error(`internal error: IDA header has ${lines.length} lines`);
  return lines.map((l) => `# ${l}\n`).join('');
}

/** SQL text of one value in a data line: real → shortest exact text, NULL → None (as tessdb-reports' str()). */
const val = (expr: string) => `coalesce((${expr})::text, 'None')`;

function lineSql(client: pg.ClientBase, s: Segment, timezone: string, dropDaylight: boolean): string {
  const tz = literal(client, timezone);
  const fields = [
    `to_char(r.tstamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')`,
    `to_char(r.tstamp AT TIME ZONE ${tz}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`,
    val('r.tamb'),
    val('r.tsky'),
    val('r.freq'),
    val('r.mag'),
    val(versionColumn(s, 'zp1')),
  ];
  if (s.nchannels > 1) {
    for (const i of [2, 3, 4]) fields.push(val(`r.freq${i}`), val(`r.mag${i}`), val(versionColumn(s, `zp${i}`)));
  }
  fields.push(val('r.seq'));
  return `COPY (SELECT ${fields.join(` || ';' || `)} ${segmentFrom(client, s, dropDaylight)} ORDER BY r.tstamp) TO STDOUT`;
}

async function usableTimezone(client: pg.ClientBase, tz: unknown, name: string): Promise<string> {
  if (typeof tz === 'string' && tz !== '') {
    const { rowCount } = await client.query('SELECT 1 FROM pg_timezone_names WHERE name = $1', [tz]);
    if (rowCount) return tz;
    log.warn(`${name}: location time zone "${tz}" is unknown to PostgreSQL; local times written in UTC`);
  }
  return 'Etc/UTC';
}

const VERSION_META = `tess_id, mac_address, model, firmware, nchannels, zp1, zp2, zp3, zp4, filter1, filter2, filter3, filter4,
  azimuth, altitude, fov, cover_offset, observer_id, valid_since`;

/** Write the IDA file(s) of one photometer name for one month. No readings: no file. */
export async function exportIdaMonth(client: pg.ClientBase, o: IdaExportOptions): Promise<IdaFile[]> {
  const to = nextMonth(o.month);
  // Segments with readings, grouped by location in order of their first reading.
  const byLocation = new Map<number, Array<Segment & { n: number; subscriber: boolean }>>();
  for (const s of await segmentsOf(client, o.name, o.month, to)) {
    const c = await countSegment(client, s, o.dropDaylight);
    if (c.n === 0) continue;
    const list = byLocation.get(s.locationId) ?? [];
    list.push({ ...s, ...c });
    byLocation.set(s.locationId, list);
  }
  const label = monthLabel(o.month);
  const files: IdaFile[] = [];
  for (const [locationId, segments] of byLocation) {
    const versions = (
      await client.query<VersionMeta>(`SELECT ${VERSION_META} FROM photometers WHERE tess_id = ANY($1::int[]) ORDER BY valid_since`, [
        [...new Set(segments.map((s) => s.tessId))],
      ])
    ).rows;
    const version = versions[versions.length - 1];
    const location = (await client.query('SELECT * FROM locations WHERE location_id = $1', [locationId])).rows[0] as Record<string, unknown>;
    const observer = (await client.query('SELECT * FROM observers WHERE observer_id = $1', [version.observer_id])).rows[0] ?? null;
    const timezone = await usableTimezone(client, location.timezone, o.name);
    let macChange: HeaderContext['macChange'];
    const last = segments[segments.length - 1];
    const lastMac = versions.find((x) => x.tess_id === last.tessId)!.mac_address;
    const firstOfLastMac = segments.find((s) => versions.find((x) => x.tess_id === s.tessId)!.mac_address === lastMac)!;
    const previous = segments.filter((s) => s.since < firstOfLastMac.since).at(-1);
    if (previous) {
      const prevMac = versions.find((x) => x.tess_id === previous.tessId)!.mac_address;
      if (prevMac !== lastMac) {
        const first = await client.query<{ t: Date }>(`SELECT min(r.tstamp) AS t ${segmentFrom(client, firstOfLastMac, o.dropDaylight)}`);
        macChange = { previous: prevMac, since: first.rows[0].t };
      }
    }
    const dir = path.join(o.outDir, o.name);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${o.name}_${label}${byLocation.size > 1 ? `_${locationId}` : ''}.dat`);
    const out = fs.createWriteStream(file);
    let n = 0;
    try {
      await write(
        out,
        idaHeader({ name: o.name, version, versions, location, observer, timezone, subscriberTimestamps: segments.some((s) => s.subscriber), macChange }),
      );
      for (const s of segments) n += await copyOut(client, lineSql(client, s, timezone, o.dropDaylight), out);
    } finally {
      await finish(out);
    }
    files.push({ name: o.name, month: label, path: file, location_id: locationId, site: String(location.site), readings: n });
  }
  return files;
}

/** Names with readings in [from, to) (index probes per name, no scan of the readings). */
export async function namesWithReadings(client: pg.ClientBase | pg.Pool, from: Date, to: Date): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT n.name FROM names n
      WHERE EXISTS (SELECT 1 FROM readings r WHERE r.name_id = n.name_id AND r.tstamp >= $1 AND r.tstamp < $2)
      ORDER BY n.name`,
    [from.toISOString(), to.toISOString()],
  );
  return rows.map((r) => r.name);
}
