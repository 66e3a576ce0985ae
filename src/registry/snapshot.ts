/**
 * In-memory registry for attributing readings: name + time → the device (MAC) the name stood for and
 * whether its photometer version was authorised then. Per name, a sorted array of time segments
 * (name mapping ∩ photometer version, adjacent equal segments merged) with a last-hit cache, so a
 * lookup is a Map get plus, usually, two comparisons. Reload it after rebuildRegistry.
 */
import type pg from 'pg';

export interface RegistryUnit {
  readonly mac: string;
  readonly authorised: boolean;
}

export interface RegistrySnapshot {
  /** No name mapping at all (nothing registered yet). */
  readonly isEmpty: boolean;
  /** The unit `name` stood for at `t` (valid_since ≤ t < valid_until), or null when unregistered then. */
  resolve(name: string, t: Date): RegistryUnit | null;
  /** Same with t in epoch milliseconds. */
  resolveMs(name: string, ms: number): RegistryUnit | null;
  /** The unit `name` stood for during all of [lo, hi] (epoch ms), or undefined when not one unit all along (or none). */
  resolveSpanMs(name: string, lo: number, hi: number): RegistryUnit | undefined;
}

export interface MappingSpan {
  name: string;
  mac: string;
  since: Date;
  until: Date;
}

export interface VersionSpan {
  mac: string;
  since: Date;
  until: Date;
  authorised: boolean;
}

interface Timeline {
  starts: Float64Array;
  ends: Float64Array;
  units: RegistryUnit[];
  last: number;
}

class Snapshot implements RegistrySnapshot {
  constructor(private readonly byName: Map<string, Timeline>) {}

  get isEmpty(): boolean {
    return this.byName.size === 0;
  }

  resolve(name: string, t: Date): RegistryUnit | null {
    return this.resolveMs(name, t.getTime());
  }

  resolveMs(name: string, ms: number): RegistryUnit | null {
    const tl = this.byName.get(name);
    if (tl === undefined) return null;
    const { starts, ends } = tl;
    let i = tl.last;
    if (ms >= starts[i] && ms < ends[i]) return tl.units[i];
    let lo = 0;
    let hi = starts.length - 1;
    i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= ms) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (i < 0 || !(ms < ends[i])) return null;
    tl.last = i;
    return tl.units[i];
  }

  resolveSpanMs(name: string, lo: number, hi: number): RegistryUnit | undefined {
    const unit = this.resolveMs(name, lo);
    if (unit === null) return undefined;
    // Adjacent segments of the same unit are merged: one segment holds the whole span, or the unit changes in it.
    const tl = this.byName.get(name)!;
    return hi >= lo && hi < tl.ends[tl.last] ? unit : undefined;
  }
}

function byStart<T extends { since: Date }>(a: T, b: T): number {
  return a.since.getTime() - b.since.getTime();
}

/** Build a snapshot from rows (pure). */
export function buildSnapshot(mappings: readonly MappingSpan[], versions: readonly VersionSpan[]): RegistrySnapshot {
  const versionsByMac = new Map<string, VersionSpan[]>();
  for (const v of versions) {
    const list = versionsByMac.get(v.mac);
    if (list) list.push(v);
    else versionsByMac.set(v.mac, [v]);
  }
  for (const list of versionsByMac.values()) list.sort(byStart);
  const mappingsByName = new Map<string, MappingSpan[]>();
  for (const m of mappings) {
    const list = mappingsByName.get(m.name);
    if (list) list.push(m);
    else mappingsByName.set(m.name, [m]);
  }
  const units = new Map<string, RegistryUnit>();
  const unit = (mac: string, authorised: boolean): RegistryUnit => {
    const key = `${authorised ? 1 : 0}${mac}`;
    let u = units.get(key);
    if (!u) units.set(key, (u = Object.freeze({ mac, authorised })));
    return u;
  };
  const byName = new Map<string, Timeline>();
  for (const [name, list] of mappingsByName) {
    list.sort(byStart);
    const starts: number[] = [];
    const ends: number[] = [];
    const segUnits: RegistryUnit[] = [];
    const push = (s: number, e: number, u: RegistryUnit) => {
      if (e <= s) return;
      const n = starts.length;
      if (n > 0 && ends[n - 1] === s && segUnits[n - 1] === u) ends[n - 1] = e;
      else {
        starts.push(s);
        ends.push(e);
        segUnits.push(u);
      }
    };
    for (const m of list) {
      const s = m.since.getTime();
      const e = m.until.getTime();
      let cursor = s;
      for (const v of versionsByMac.get(m.mac) ?? []) {
        const vs = v.since.getTime();
        const ve = v.until.getTime();
        if (ve <= s || vs >= e) continue;
        push(cursor, Math.max(cursor, vs), unit(m.mac, false)); // a gap without a version: not authorised
        push(Math.max(cursor, vs), Math.min(e, ve), unit(m.mac, v.authorised));
        cursor = Math.max(cursor, Math.min(e, ve));
      }
      push(cursor, e, unit(m.mac, false));
    }
    if (starts.length > 0) {
      byName.set(name, { starts: Float64Array.from(starts), ends: Float64Array.from(ends), units: segUnits, last: 0 });
    }
  }
  return new Snapshot(byName);
}

/** Load the registry from `name_to_mac` and `photometers`. */
export async function loadRegistrySnapshot(client: pg.ClientBase): Promise<RegistrySnapshot> {
  const maps = await client.query<{ name: string; mac_address: string; valid_since: Date; valid_until: Date }>(
    'SELECT name, mac_address, valid_since, valid_until FROM name_to_mac',
  );
  const vers = await client.query<{ mac_address: string; valid_since: Date; valid_until: Date; authorised: boolean }>(
    'SELECT mac_address, valid_since, valid_until, authorised FROM photometers',
  );
  return buildSnapshot(
    maps.rows.map((r) => ({ name: r.name, mac: r.mac_address, since: r.valid_since, until: r.valid_until })),
    vers.rows.map((r) => ({ mac: r.mac_address, since: r.valid_since, until: r.valid_until, authorised: r.authorised })),
  );
}
