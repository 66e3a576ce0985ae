/**
 * Writing fold output to `photometers` and `name_to_mac` for one component (or everything).
 * Compares first: an unchanged component (e.g. the 2nd and 3rd boot message) writes nothing.
 * tess_id: a version whose (mac_address, valid_since) already existed keeps its tess_id; new versions
 * take ids from the identity sequence in (mac_address, valid_since) order. `renumber` (full rebuild
 * only) numbers all versions 1..n in that order instead, a pure function of the event log.
 */
import type pg from 'pg';
import type { Component } from './component.js';
import type { NameMapping, PhotometerCalibration, PhotometerVersion, Registered, ValidState } from './types.js';

interface PhotometerRow extends PhotometerCalibration {
  tess_id: number;
  mac_address: string;
  model: PhotometerVersion['model'];
  cover_offset: number;
  location_id: number;
  observer_id: number;
  authorised: boolean;
  registered: Registered;
  valid_since: Date;
  valid_until: Date;
  valid_state: ValidState;
}

const real = (v: number | null): number | null => (v === null ? null : Math.fround(v));

function versionKey(mac: string, since: Date): string {
  return `${mac}|${since.getTime()}`;
}

/** Everything stored about a version, with real columns at float4 precision. */
function versionSignature(v: PhotometerVersion): string {
  return JSON.stringify([
    v.mac, v.model, v.firmware, v.nchannels,
    real(v.zp1), real(v.zp2), real(v.zp3), real(v.zp4),
    v.filter1, v.filter2, v.filter3, v.filter4,
    real(v.offset1), real(v.offset2), real(v.offset3), real(v.offset4),
    real(v.azimuth), real(v.altitude), real(v.fov), real(v.coverOffset),
    v.locationId, v.observerId, v.authorised, v.registered,
    v.validSince.getTime(), v.validUntil.getTime(), v.validState,
  ]);
}

function mappingSignature(m: NameMapping): string {
  return JSON.stringify([m.name, m.mac, m.validSince.getTime(), m.validUntil.getTime(), m.validState]);
}

function fromRow(r: PhotometerRow): PhotometerVersion {
  return {
    mac: r.mac_address, model: r.model, firmware: r.firmware, nchannels: r.nchannels,
    zp1: r.zp1, zp2: r.zp2, zp3: r.zp3, zp4: r.zp4,
    filter1: r.filter1, filter2: r.filter2, filter3: r.filter3, filter4: r.filter4,
    offset1: r.offset1, offset2: r.offset2, offset3: r.offset3, offset4: r.offset4,
    azimuth: r.azimuth, altitude: r.altitude, fov: r.fov, coverOffset: r.cover_offset,
    locationId: r.location_id, observerId: r.observer_id, authorised: r.authorised, registered: r.registered,
    validSince: r.valid_since, validUntil: r.valid_until, validState: r.valid_state,
  };
}

function sameSet<T>(a: readonly T[], b: readonly T[], sig: (x: T) => string): boolean {
  if (a.length !== b.length) return false;
  const sa = a.map(sig).sort();
  const sb = b.map(sig).sort();
  return sa.every((s, i) => s === sb[i]);
}

const PHOTOMETER_COLUMNS = `tess_id, mac_address, model, firmware, nchannels, zp1, zp2, zp3, zp4,
  filter1, filter2, filter3, filter4, offset1, offset2, offset3, offset4, azimuth, altitude, fov, cover_offset,
  location_id, observer_id, authorised, registered, valid_since, valid_until, valid_state`;

/** Replace the component's photometer versions by `versions` (sorted by mac, since). True if rows changed. */
export async function writeVersions(
  client: pg.ClientBase,
  scope: Component | null,
  versions: readonly PhotometerVersion[],
  renumber = false,
): Promise<boolean> {
  const { rows } = scope
    ? await client.query<PhotometerRow>(`SELECT ${PHOTOMETER_COLUMNS} FROM photometers WHERE mac_address = ANY($1::text[])`, [scope.macs])
    : await client.query<PhotometerRow>(`SELECT ${PHOTOMETER_COLUMNS} FROM photometers`);
  const kept = new Map(rows.map((r) => [versionKey(r.mac_address, r.valid_since), r.tess_id]));
  const position = new Map(versions.map((v, i) => [versionKey(v.mac, v.validSince), i + 1]));
  const inOrder = !renumber || rows.every((r) => r.tess_id === position.get(versionKey(r.mac_address, r.valid_since)));
  if (inOrder && sameSet(rows.map(fromRow), versions, versionSignature)) return false;

  if (scope) await client.query('DELETE FROM photometers WHERE mac_address = ANY($1::text[])', [scope.macs]);
  else await client.query('DELETE FROM photometers');
  if (versions.length === 0) return true;

  let ids: number[];
  if (renumber) {
    ids = versions.map((_, i) => i + 1);
  } else {
    ids = versions.map((v) => kept.get(versionKey(v.mac, v.validSince)) ?? 0);
    const missing = ids.filter((id) => id === 0).length;
    if (missing > 0) {
      const seq = await client.query<{ id: string }>(
        `SELECT nextval(pg_get_serial_sequence('photometers', 'tess_id')) AS id FROM generate_series(1, $1::int) ORDER BY 1`,
        [missing],
      );
      let k = 0;
      ids = ids.map((id) => (id === 0 ? Number(seq.rows[k++].id) : id));
    }
  }
  const col = <K extends keyof PhotometerVersion>(k: K) => versions.map((v) => v[k]);
  await client.query(
    `INSERT INTO photometers (${PHOTOMETER_COLUMNS})
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::real[], $7::real[], $8::real[],
       $9::real[], $10::text[], $11::text[], $12::text[], $13::text[], $14::real[], $15::real[], $16::real[], $17::real[],
       $18::real[], $19::real[], $20::real[], $21::real[], $22::int[], $23::int[], $24::boolean[], $25::text[],
       $26::timestamptz[], $27::timestamptz[], $28::text[])`,
    [
      ids, col('mac'), col('model'), col('firmware'), col('nchannels'), col('zp1'), col('zp2'), col('zp3'), col('zp4'),
      col('filter1'), col('filter2'), col('filter3'), col('filter4'), col('offset1'), col('offset2'), col('offset3'), col('offset4'),
      col('azimuth'), col('altitude'), col('fov'), col('coverOffset'), col('locationId'), col('observerId'), col('authorised'),
      col('registered'), versions.map((v) => v.validSince.toISOString()), versions.map((v) => v.validUntil.toISOString()),
      col('validState'),
    ],
  );
  if (renumber) {
    await client.query(`SELECT setval(pg_get_serial_sequence('photometers', 'tess_id'), $1::int)`, [versions.length]);
  }
  return true;
}

/** Replace the component's name mappings by `mappings`. True if rows changed. */
export async function writeMappings(client: pg.ClientBase, scope: Component | null, mappings: readonly NameMapping[]): Promise<boolean> {
  const cols = 'name, mac_address, valid_since, valid_until, valid_state';
  const where = 'WHERE mac_address = ANY($1::text[]) OR name = ANY($2::text[])';
  const { rows } = scope
    ? await client.query<{ name: string; mac_address: string; valid_since: Date; valid_until: Date; valid_state: ValidState }>(
        `SELECT ${cols} FROM name_to_mac ${where}`,
        [scope.macs, scope.names],
      )
    : await client.query(`SELECT ${cols} FROM name_to_mac`);
  const existing: NameMapping[] = rows.map((r) => ({
    name: r.name, mac: r.mac_address, validSince: r.valid_since, validUntil: r.valid_until, validState: r.valid_state,
  }));
  if (sameSet(existing, mappings, mappingSignature)) return false;
  if (scope) await client.query(`DELETE FROM name_to_mac ${where}`, [scope.macs, scope.names]);
  else await client.query('DELETE FROM name_to_mac');
  if (mappings.length === 0) return true;
  await client.query(
    `INSERT INTO name_to_mac (${cols})
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[])`,
    [
      mappings.map((m) => m.name),
      mappings.map((m) => m.mac),
      mappings.map((m) => m.validSince.toISOString()),
      mappings.map((m) => m.validUntil.toISOString()),
      mappings.map((m) => m.validState),
    ],
  );
  return true;
}
