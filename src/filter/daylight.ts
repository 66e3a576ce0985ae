/**
 * tessdb-server's daylight (sunrise/sunset) filter, window 7, as a flag on the stored readings.
 *
 * A reading is *daylight* when it and its 3 neighbours on each side (same name, ordered by tstamp)
 * are all saturated (mag = 0). Nothing is deleted: every reading is stored and `readings.daylight`
 * is recomputed, after each load, around the readings the load added (SQL function
 * `daylight_refresh`, sql/004). The flag is therefore a function of the stored readings only — the
 * same for live and backfill, whatever order or batches the readings arrived in. With
 * `filter.daylight = "drop"`, `tess_readings_t` and the exports leave flagged readings out.
 *
 * Readings near either end of a series (fewer than 3 neighbours on a side) are never flagged; the
 * latest readings of a live photometer become flagged when their 3 successors arrive.
 */
import type pg from 'pg';
import { nameGroups, type NameGroups } from '../util/group-by-name.js';
import type { DaylightClaims } from './daylight-claims.js';

/** Half the window: neighbours looked at on each side. */
export const DAYLIGHT_HALF_WINDOW = 3;

/** Per name, the time range a transaction added readings in (epoch ms, inclusive). */
export class DaylightRanges {
  private readonly ranges = new Map<string, [number, number]>();

  /** Note readings (anything with a name and a tstamp). */
  add(readings: Iterable<{ name: string; tstamp: Date }>): void {
    this.addRows(Array.from(readings, (r) => ({ name: r.name, ms: r.tstamp.getTime() })));
  }

  /**
   * Note rows given by name and epoch ms; consecutive rows of the same name (the usual case within a
   * batch) cost one comparison each instead of a map lookup.
   */
  addRows(rows: ReadonlyArray<{ name: string; ms: number }>): void {
    let name: string | undefined;
    let range: [number, number] | undefined;
    for (const r of rows) {
      if (r.name !== name) {
        name = r.name;
        range = this.ranges.get(name);
        if (range === undefined) {
          range = [r.ms, r.ms];
          this.ranges.set(name, range);
          continue;
        }
      }
      const t = r.ms;
      if (t < range![0]) range![0] = t;
      if (t > range![1]) range![1] = t;
    }
  }

  /** Note a batch's rows by their name groups (nameGroups): one lookup per name. */
  addGroups(rows: ReadonlyArray<{ ms: number }>, groups: NameGroups): void {
    for (const [name, list] of groups) {
      const lo = rows[list[0]].ms;
      const hi = rows[list[list.length - 1]].ms;
      const range = this.ranges.get(name);
      if (range === undefined) {
        this.ranges.set(name, [lo, hi]);
      } else {
        if (lo < range[0]) range[0] = lo;
        if (hi > range[1]) range[1] = hi;
      }
    }
  }

  get size(): number {
    return this.ranges.size;
  }

  clear(): void {
    this.ranges.clear();
  }

  entries(): Array<{ name: string; from: Date; to: Date }> {
    return [...this.ranges].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, [from, to]]) => ({ name, from: new Date(from), to: new Date(to) }));
  }
}

/**
 * Recompute the daylight flag around the given ranges, in the caller's transaction; with `claims`, only
 * near the ends of the ranges of the names that stayed clean (src/filter/daylight-claims.ts). Call it once per
 * transaction, after the readings are loaded and after any registry change of that transaction
 * (it takes per-name advisory locks held to commit; the registry lock must never be requested after
 * them). Returns the number of readings whose flag changed.
 */
export async function refreshDaylight(client: pg.ClientBase, ranges: DaylightRanges, claims?: DaylightClaims): Promise<number> {
  if (ranges.size === 0) return 0;
  const edges = claims ? await claims.refreshEdges(client) : 0;
  const list = claims ? ranges.entries().filter((r) => !claims.isClean(r.name)) : ranges.entries();
  if (list.length === 0) return edges;
  const { rows } = await client.query<{ n: string }>('SELECT daylight_refresh($1::text[], $2::timestamptz[], $3::timestamptz[]) AS n', [
    list.map((r) => r.name),
    list.map((r) => r.from.toISOString()),
    list.map((r) => r.to.toISOString()),
  ]);
  return edges + Number(rows[0].n);
}

/** Recompute the flag of every reading of `names` (all names when omitted), e.g. after a restore. */
export async function refreshDaylightAll(client: pg.ClientBase, names?: string[]): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT daylight_refresh(array_agg(name), array_agg('-infinity'::timestamptz), array_agg('infinity'::timestamptz)) AS n
       FROM names WHERE $1::text[] IS NULL OR name = ANY($1::text[])`,
    [names ?? null],
  );
  return Number(rows[0].n ?? 0);
}

/**
 * The flags a batch implies on its own: readings whose 3 neighbours on each side *within the batch*
 * (same name, time order) are all saturated, like the batch's readings were the whole series. Written
 * with the COPY (the `daylight` argument of ReadingLoader.loadEncoded) so that `refreshDaylight`, which checks every one
 * against the stored neighbours just after, rarely has to rewrite a row: without it every daytime
 * reading would be written twice (inserted, then updated). Wrong guesses (readings of the same name
 * from another file interleaved in time, duplicates) are corrected by the refresh.
 */
export function tentativeDaylight<R extends { name: string; tstamp: Date; mag: number | null }>(readings: readonly R[]): Set<R> {
  const flags = tentativeDaylightRows(readings.map((r) => ({ name: r.name, ms: r.tstamp.getTime(), saturated: r.mag === 0 })));
  return new Set(flags ? readings.filter((_, i) => flags[i] === 1) : []);
}

/**
 * {@link tentativeDaylight} for encoded rows (src/load/encoded.ts): flags by row index, or null when
 * no row is saturated (then no row is flagged). `groups`: nameGroups(rows).
 */
export function tentativeDaylightRows(rows: ReadonlyArray<{ name: string; ms: number; saturated: boolean }>, groups: NameGroups = nameGroups(rows)): Uint8Array | null {
  let saturated = false;
  for (const r of rows) {
    if (!r.saturated) continue;
    saturated = true;
    break;
  }
  if (!saturated) return null;
  const flags = new Uint8Array(rows.length);
  for (const list of groups.values()) {
    if (list.length < 2 * DAYLIGHT_HALF_WINDOW + 1) continue;
    const f = daylightFlags(list.map((i) => (rows[i].saturated ? 0 : 1)));
    for (let k = 0; k < list.length; k++) if (f[k]) flags[list[k]] = 1;
  }
  return flags;
}

/**
 * Reference implementation (pure) of the flag for one name's readings sorted by time: used by the
 * tests to check the SQL. `mags[i]` null = no magnitude (not saturated).
 */
export function daylightFlags(mags: ReadonlyArray<number | null>): boolean[] {
  const h = DAYLIGHT_HALF_WINDOW;
  return mags.map((_, i) => {
    if (i < h || i + h >= mags.length) return false;
    for (let j = i - h; j <= i + h; j++) if (mags[j] !== 0) return false;
    return true;
  });
}
