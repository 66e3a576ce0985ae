/**
 * Claims for the edge-only daylight refresh of file ingest (sql/006): per batch, before its COPY, the
 * loader claims each name's time range; a name stays *clean* while every row of it in the transaction
 * went in by a plain COPY into a range that held no other rows, with the tentative flags of
 * src/filter/daylight-guess.ts holding. Then only the 3 rows on each side of the ends of its range can
 * have a wrong flag, and `refreshEdges` recomputes just those. Any other name (rows stored in
 * its range, its lock held by another transaction, some of its rows not loaded, a guess proved wrong)
 * gets the full `daylight_refresh` of sql/004.
 *
 * The edges are decided here: the loader's own first and last rows of the name (kept by the guess,
 * with the flags written for them) and the stored rows next to them (`daylight_neighbours`) make the
 * series around each end; the flags that differ are updated in one statement.
 */
import type pg from 'pg';
import { isoUtc } from '../util/iso-time.js';
import { DAYLIGHT_HALF_WINDOW, daylightFlags } from './daylight.js';
import type { DaylightGuess, EdgeRow } from './daylight-guess.js';

/** Per name: the time range (epoch ms) of one batch's accepted rows. */
export type BatchRanges = Map<string, { id: number; lo: number; hi: number }>;

/** A clean name, its id and the time range (epoch ms) of its rows in the transaction. */
export interface CleanRange {
  name: string;
  id: number;
  lo: number;
  hi: number;
}

interface Claim {
  id: number;
  lo: number;
  hi: number;
  clean: boolean;
}

export class DaylightClaims {
  private readonly claims = new Map<string, Claim>();

  /** `guess`: the transaction's tentative flags, which keep each name's first and last rows. */
  constructor(readonly guess: DaylightGuess) {}

  /**
   * Claims one batch's ranges (in the caller's transaction, before the COPY). Returns true when a range
   * already holds stored rows: the batch may then contain duplicates.
   */
  async claim(client: pg.ClientBase, batch: BatchRanges): Promise<boolean> {
    const ids: number[] = [];
    const lo: string[] = [];
    const hi: string[] = [];
    const after: Array<string | null> = [];
    for (const [name, r] of batch) {
      let c = this.claims.get(name);
      if (c === undefined) {
        this.claims.set(name, (c = { id: r.id, lo: r.lo, hi: r.hi, clean: true }));
        after.push(null);
      } else {
        // Only the part after the earlier batches' rows is looked at; rows before it are ours.
        after.push(isoUtc(c.hi));
        if (r.lo <= c.hi) c.clean = false;
        c.lo = Math.min(c.lo, r.lo);
        c.hi = Math.max(c.hi, r.hi);
      }
      ids.push(r.id);
      lo.push(isoUtc(r.lo));
      hi.push(isoUtc(r.hi));
    }
    const { rows } = await client.query<{ name_id: number; locked: boolean; occupied: boolean }>(
      'SELECT name_id, locked, occupied FROM daylight_claim($1::int[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[])',
      [ids, lo, hi, after],
    );
    if (rows.length === 0) return false;
    const spoiled = new Set(rows.map((r) => r.name_id));
    for (const c of this.claims.values()) if (spoiled.has(c.id)) c.clean = false;
    return rows.some((r) => r.occupied);
  }

  /** These names get the full refresh (rows not loaded by a plain COPY, a guess proved wrong…). */
  spoil(names: Iterable<string>): void {
    for (const name of names) {
      const c = this.claims.get(name);
      if (c) c.clean = false;
    }
  }

  isClean(name: string): boolean {
    return this.claims.get(name)?.clean === true;
  }

  /**
   * Recompute the flags near both ends of each clean name's range (the others are left to the full
   * `daylight_refresh`). Returns the rows changed.
   */
  refreshEdges(client: pg.ClientBase): Promise<number> {
    return refreshEdges(client, this.clean(), this.guess);
  }

  /** The clean names and their ranges. */
  clean(): CleanRange[] {
    const out: CleanRange[] = [];
    for (const [name, c] of this.claims) if (c.clean) out.push({ name, id: c.id, lo: c.lo, hi: c.hi });
    return out;
  }
}

/** A row of the series around one end: stored (with its key as text and its flag) or the loader's own. */
interface SeriesRow {
  saturated: boolean;
  /** The flag stored now; null = not computed. */
  current: boolean | null;
  /** The row's tstamp as Postgres text (stored rows) or ISO (own rows, whole ms). */
  key: string;
  /** Whether its flag may differ from `current` (within 3 rows of an end). */
  candidate: boolean;
}

/** DaylightClaims#refreshEdges: the 3 stored rows on each side of each end and the name's own first and last 3 rows. */
async function refreshEdges(client: pg.ClientBase, clean: readonly CleanRange[], guess: DaylightGuess): Promise<number> {
  const list = clean.filter((c) => guess.ends.has(c.name));
  if (list.length === 0) return 0;
  const { rows } = await client.query<{ name_id: number; after: boolean; tstamp: string; saturated: boolean; daylight: boolean | null }>(
    'SELECT name_id, after, tstamp, saturated, daylight FROM daylight_neighbours($1::int[], $2::timestamptz[], $3::timestamptz[])',
    [list.map((c) => c.id), list.map((c) => isoUtc(c.lo)), list.map((c) => isoUtc(c.hi))],
  );
  const stored = new Map<number, { before: SeriesRow[]; after: SeriesRow[] }>();
  for (const r of rows) {
    let n = stored.get(r.name_id);
    if (n === undefined) stored.set(r.name_id, (n = { before: [], after: [] }));
    const side = r.after ? n.after : n.before; // nearest first
    side.push({ saturated: r.saturated, current: r.daylight, key: r.tstamp, candidate: side.length < DAYLIGHT_HALF_WINDOW });
  }
  const ids: number[] = [];
  const keys: string[] = [];
  const values: boolean[] = [];
  for (const c of list) {
    const ends = guess.ends.get(c.name)!;
    const n = stored.get(c.id) ?? { before: [], after: [] };
    const before = n.before.reverse();
    const own = (rowsOf: EdgeRow[], candidate: (k: number) => boolean): SeriesRow[] =>
      rowsOf.map((e, k) => ({ saturated: e.saturated, current: e.flag, key: isoUtc(e.ms), candidate: candidate(k) }));
    const all = union(ends.head, ends.tail);
    const series: SeriesRow[][] =
      ends.count === all.length
        ? [[...before, ...own(all, () => true), ...n.after]]
        : [
            [...before, ...own(ends.head, (k) => k < DAYLIGHT_HALF_WINDOW)],
            [...own(ends.tail, (k) => k >= ends.tail.length - DAYLIGHT_HALF_WINDOW), ...n.after],
          ];
    for (const s of series) {
      const flags = daylightFlags(s.map((r) => (r.saturated ? 0 : null)));
      for (let p = 0; p < s.length; p++) {
        if (!s[p].candidate) continue;
        const flag = flags[p];
        if (s[p].current !== flag) {
          ids.push(c.id);
          keys.push(s[p].key);
          values.push(flag);
        }
      }
    }
  }
  if (ids.length === 0) return 0;
  const { rowCount } = await client.query(
    `UPDATE readings r SET daylight = u.flag
       FROM unnest($1::int[], $2::timestamptz[], $3::boolean[]) AS u(id, t, flag)
      WHERE r.name_id = u.id AND r.tstamp = u.t`,
    [ids, keys, values],
  );
  return rowCount ?? 0;
}

/** `head` then the rows of `tail` after it, in time order. */
function union(head: readonly EdgeRow[], tail: readonly EdgeRow[]): EdgeRow[] {
  const last = head[head.length - 1].ms;
  return [...head, ...tail.filter((e) => e.ms > last)];
}
