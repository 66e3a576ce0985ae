/**
 * A small tessdb database with known content, for the compatibility queries and the exports:
 *
 * - locations "Site A" (Madrid), "Site B" (Santiago de Chile), "Site Unused"; observer "Obs One".
 * - stars1 (MAC_A, TESS-W): registered 2024-01-01 at Site A, authorised; recalibrated (20.44 → 20.50)
 *   by a register message at 2024-01-15T12:00; moved to Site B at 2024-01-20 (three versions).
 * - stars2 (MAC_B, TESS4C) at Site B from 2024-01-01; stars3 (MAC_C) at the Unknown location, no readings.
 * - readings: stars1 6 on 2024-01-10 21:00–21:50 (Site A, ZP 20.44), 3 on 2024-01-16 22:00–22:20 (Site A,
 *   ZP 20.50), 8 saturated ones on 2024-01-21 10:00–10:07 (Site B; the 4th and 5th are daylight);
 *   stars2 3 on 2024-01-10 22:00–22:20.
 */
import type pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { refreshDaylightAll } from '../../src/filter/daylight.js';
import { PartitionManager } from '../../src/load/partitions.js';
import type { RegisterEvent } from '../../src/model/types.js';
import { manualEvent, rebuildRegistry, recordRegisterEvents } from '../../src/registry/index.js';

export const MAC_A = '60:01:94:2E:CE:EB';
export const MAC_B = 'AA:BB:CC:00:00:02';
export const MAC_C = 'AA:BB:CC:00:00:03';

export function tesswEvent(name: string, mac: string, at: string, calib: number, source: RegisterEvent['source'] = 'mqtt'): RegisterEvent {
  return {
    name, mac, receivedAt: new Date(at), model: 'TESS-W', rev: 1, firmware: '1.0', wdbm: null,
    channels: [{ zp: calib, filter: null, offsetHz: null }], source,
    payload: { name, mac, calib, rev: 1, firmware: '1.0' },
  };
}

export function tess4cEvent(name: string, mac: string, at: string, chans: Array<[string, number]>): RegisterEvent {
  const payload: Record<string, unknown> = { name, mac, rev: 1 };
  chans.forEach(([band, calib], i) => (payload[`F${i + 1}`] = { band, calib }));
  return {
    name, mac, receivedAt: new Date(at), model: 'TESS4C', rev: 1, firmware: null, wdbm: null,
    channels: chans.map(([band, calib]) => ({ zp: calib, filter: band, offsetHz: null })), source: 'mqtt', payload,
  };
}

export async function applyRegistry(client: pg.ClientBase, events: RegisterEvent[]): Promise<void> {
  await client.query('BEGIN');
  try {
    const r = await recordRegisterEvents(client, events);
    if (r.inserted > 0) await rebuildRegistry(client, { macs: r.affectedMacs, names: r.affectedNames });
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

export interface FixtureReading {
  name: string;
  tstamp: string;
  seq: number | null;
  freq: number;
  mag: number;
  tamb: number;
  tsky: number;
  c4?: [number, number, number, number, number, number];
  src?: 'publisher' | 'subscriber';
}

/** Insert readings directly (partitions created, names added); then the daylight flags of their names. */
export async function insertReadings(client: pg.ClientBase, readings: FixtureReading[], refresh = true): Promise<void> {
  await client.query('BEGIN');
  try {
    await insertReadingsInTransaction(client, readings, refresh);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** As insertReadings, in the caller's transaction. */
export async function insertReadingsInTransaction(client: pg.ClientBase, readings: FixtureReading[], refresh = true): Promise<void> {
  const months = new Set(readings.map((r) => r.tstamp.slice(0, 7).replace('-', '')));
  await new PartitionManager().ensure(client, months);
  const names = [...new Set(readings.map((r) => r.name))];
  await client.query('INSERT INTO names (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING', [names]);
  await client.query(
    `INSERT INTO readings (name_id, tstamp, tstamp_src, load_src, seq, freq, mag, tamb, tsky, freq2, mag2, freq3, mag3, freq4, mag4)
     SELECT n.name_id, x.t, x.src::timestamp_source, 'mqtt', x.seq, x.freq, x.mag, x.tamb, x.tsky, x.f2, x.m2, x.f3, x.m3, x.f4, x.m4
       FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::int[], $5::real[], $6::real[], $7::real[], $8::real[],
                   $9::real[], $10::real[], $11::real[], $12::real[], $13::real[], $14::real[])
            AS x(name, t, src, seq, freq, mag, tamb, tsky, f2, m2, f3, m3, f4, m4)
       JOIN names n ON n.name = x.name`,
    [
      readings.map((r) => r.name), readings.map((r) => r.tstamp), readings.map((r) => r.src ?? 'publisher'),
      readings.map((r) => r.seq), readings.map((r) => r.freq), readings.map((r) => r.mag), readings.map((r) => r.tamb), readings.map((r) => r.tsky),
      ...[0, 1, 2, 3, 4, 5].map((i) => readings.map((r) => r.c4?.[i] ?? null)),
    ],
  );
  if (refresh) await refreshDaylightAll(client, names);
}

const minutes = (start: string, k: number) => new Date(Date.parse(start) + k * 60_000).toISOString();

export const FIXTURE_READINGS: FixtureReading[] = [
  ...[0, 1, 2, 3, 4, 5].map((k) => ({ name: 'stars1', tstamp: minutes('2024-01-10T21:00:00Z', 10 * k), seq: 101 + k, freq: 10.5, mag: 19 + k / 10, tamb: 5.5, tsky: -12.5 })),
  ...[0, 1, 2].map((k) => ({ name: 'stars1', tstamp: minutes('2024-01-16T22:00:00Z', 10 * k), seq: 201 + k, freq: 5.25, mag: 20, tamb: 3, tsky: -20, src: 'subscriber' as const })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((k) => ({ name: 'stars1', tstamp: minutes('2024-01-21T10:00:00Z', k), seq: 301 + k, freq: 50000, mag: 0, tamb: 15, tsky: 2 })),
  ...[0, 1, 2].map((k) => ({
    name: 'stars2', tstamp: minutes('2024-01-10T22:00:00Z', 10 * k), seq: 1 + k, freq: 12, mag: 19.5, tamb: 4, tsky: -15,
    c4: [13, 19.25, 14, 19.125, 15, 18.75] as [number, number, number, number, number, number],
  })),
];

export interface Fixture {
  siteA: number;
  siteB: number;
  unused: number;
  observer: number;
}

export async function buildFixture(pool: pg.Pool): Promise<Fixture> {
  await migrate(pool, 'public');
  const c = await pool.connect();
  try {
    const loc = async (site: string, place: string, province: string, country: string, lat: number, lon: number, tz: string, email: string) =>
      (
        await c.query<{ location_id: number }>(
          `INSERT INTO locations (site, place, province, country, latitude, longitude, elevation, timezone, contact_person, contact_email, organization)
           VALUES ($1, $2, $3, $4, $5, $6, 650, $7, 'Ana', $8, 'UCM') RETURNING location_id`,
          [site, place, province, country, lat, lon, tz, email],
        )
      ).rows[0].location_id;
    const siteA = await loc('Site A', 'Madrid', 'Madrid', 'Spain', 40.4, -3.7, 'Europe/Madrid', 'a@example.org');
    const siteB = await loc('Site B', 'Santiago', 'RM', 'Chile', -33.45, -70.66, 'America/Santiago', 'b@example.org');
    const unused = await loc('Site Unused', 'Nowhere', 'X', 'Y', 10, 10, 'Etc/UTC', 'u@example.org');
    const observer = (await c.query<{ observer_id: number }>(`INSERT INTO observers (name, affiliation) VALUES ('Obs One', 'AAM') RETURNING observer_id`)).rows[0]
      .observer_id;
    await applyRegistry(c, [
      tesswEvent('stars1', MAC_A, '2024-01-01T00:00:00Z', 20.44),
      manualEvent('set_location', MAC_A, 'stars1', new Date('2024-01-01T00:00:00Z'), { location_id: siteA }),
      manualEvent('set_observer', MAC_A, 'stars1', new Date('2024-01-01T00:00:00Z'), { observer_id: observer }),
      manualEvent('authorise', MAC_A, 'stars1', new Date('2024-01-01T00:00:00Z')),
      tesswEvent('stars1', MAC_A, '2024-01-15T12:00:00Z', 20.5),
      manualEvent('set_location', MAC_A, 'stars1', new Date('2024-01-20T00:00:00Z'), { location_id: siteB }),
      tess4cEvent('stars2', MAC_B, '2024-01-01T00:00:00Z', [['UVIR', 20.1], ['R', 20.2], ['G', 20.3], ['B', 20.4]]),
      manualEvent('set_location', MAC_B, 'stars2', new Date('2024-01-01T00:00:00Z'), { location_id: siteB }),
      tesswEvent('stars3', MAC_C, '2024-01-05T00:00:00Z', 20.5),
    ]);
    await insertReadings(c, FIXTURE_READINGS);
    return { siteA, siteB, unused, observer };
  } finally {
    c.release();
  }
}
