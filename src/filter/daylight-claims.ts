/**
 * Claims for the edge-only daylight refresh of file ingest (sql/006, sql/007): per batch, before its COPY, the
 * loader claims each name's time range; a name stays *clean* while every row of it in the transaction
 * went in by a plain COPY into a range that held no other rows, with the tentative flags of
 * src/filter/daylight-guess.ts holding. Then only the 3 rows on each side of the ends of its range can
 * have a wrong flag, and `refreshEdges` recomputes just those. Any other name (rows stored in
 * its range, its lock held by another transaction, some of its rows not loaded, a guess proved wrong)
 * gets the full `daylight_refresh` of sql/004.
 *
 * The edges are decided here: the loader's own first and last rows of the name (kept by the guess,
 * with the flags written for them) and the stored rows next to them (read by the claim, under the
 * name's lock) make the series around each end; the flags that differ are updated in one statement.
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

/** A stored row next to a claimed range (sql/007): its key as Postgres text, saturation and flag. */
interface Neighbour {
  tstamp: string;
  saturated: boolean;
  daylight: boolean | null;
}

interface Claim {
  id: number;
  lo: number;
  hi: number;
  clean: boolean;
  /** The stored rows just before `lo` and just after `hi`, nearest first (read under the claim's lock). */
  before: Neighbour[];
  after: Neighbour[];
}

type ClaimRow = { name_id: number; place: 'o' | 'b' | 'a'; tstamp: string | null; saturated: boolean | null; daylight: boolean | null };

/**
 * Per claimed range: 'o' when stored rows lie in the part not claimed before ((after, hi], or [lo, hi]
 * for a first claim), else its neighbours, nearest first: 'b' the up to 6 stored rows before lo (first
 * claims only), 'a' the up to 6 after hi. Nearest first relies on the executor: a nested loop over the
 * names, each name's branches appended in turn, each branch in its ORDER BY … LIMIT order (never a
 * parallel plan: every branch is a parameterised index scan).
 */
const AROUND = `
SELECT u.id AS name_id, x.place, x.tstamp, x.saturated, x.daylight
  FROM unnest($1::int[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[]) AS u(id, lo, hi, after)
 CROSS JOIN LATERAL (SELECT coalesce((SELECT r.tstamp FROM readings r
                      WHERE r.name_id = u.id AND r.tstamp > coalesce(u.after, u.lo - interval '1 microsecond')
                      ORDER BY r.tstamp LIMIT 1) <= u.hi, false) AS occupied) AS o
 CROSS JOIN LATERAL (
      SELECT 'o'::"char" AS place, NULL::text AS tstamp, NULL::boolean AS saturated, NULL::boolean AS daylight WHERE o.occupied
      UNION ALL
      (SELECT 'b', r.tstamp::text, coalesce(r.mag = 0, false), r.daylight FROM readings r
        WHERE NOT o.occupied AND u.after IS NULL AND r.name_id = u.id AND r.tstamp < u.lo ORDER BY r.tstamp DESC LIMIT 6)
      UNION ALL
      (SELECT 'a', r.tstamp::text, coalesce(r.mag = 0, false), r.daylight FROM readings r
        WHERE NOT o.occupied AND r.name_id = u.id AND r.tstamp > u.hi ORDER BY r.tstamp LIMIT 6)
 ) AS x`;

export class DaylightClaims {
  private readonly claims = new Map<string, Claim>();

  /** `guess`: the transaction's tentative flags, which keep each name's first and last rows. */
  constructor(readonly guess: DaylightGuess) {}

  /**
   * Claims one batch's ranges (in the caller's transaction, before the COPY) and reads the stored
   * neighbours of the clean ones. Returns true when a range already holds stored rows: the batch may
   * then contain duplicates.
   */
  async claim(client: pg.ClientBase, batch: BatchRanges): Promise<boolean> {
    const noted = this.note(batch);
    const ids = noted.map((n) => n.c.id);
    // The locks first, then (a new statement, a new snapshot) what the ranges and their sides hold.
    const busy = await lock(client, ids);
    const { rows } = await client.query<ClaimRow>({
      name: 'tessdb_daylight_around',
      text: AROUND,
      values: [ids, noted.map((n) => isoUtc(n.lo)), noted.map((n) => isoUtc(n.hi)), noted.map((n) => (n.after === null ? null : isoUtc(n.after)))],
    });
    const byId = new Map(noted.map((n) => [n.c.id, n.c]));
    for (const id of busy) byId.get(id)!.clean = false;
    let occupied = false;
    for (const r of rows) {
      const c = byId.get(r.name_id)!;
      if (r.place === 'o') {
        c.clean = false;
        occupied = true;
      } else {
        (r.place === 'b' ? c.before : c.after).push({ tstamp: r.tstamp!, saturated: r.saturated!, daylight: r.daylight });
      }
    }
    return occupied;
  }

  /**
   * A batch loaded without a claim's read (staged because duplicates are expected): its names take their
   * locks as a claim would, and stay out of the edge-only refresh for the rest of the transaction, whatever
   * later batches find (a claim made later would take this transaction's own rows for the stored ones).
   */
  async lockUnread(client: pg.ClientBase, batch: BatchRanges): Promise<void> {
    const noted = this.note(batch);
    for (const { c } of noted) c.clean = false;
    await lock(client, noted.map((n) => n.c.id));
  }

  /**
   * Records one batch's ranges in the claims. Per name: its claim, the batch's range, and where the part
   * not claimed before begins (`after`, epoch ms; null for a first claim).
   */
  private note(batch: BatchRanges): Array<{ c: Claim; lo: number; hi: number; after: number | null }> {
    const noted: Array<{ c: Claim; lo: number; hi: number; after: number | null }> = [];
    for (const [name, r] of batch) {
      let c = this.claims.get(name);
      let after: number | null = null;
      if (c === undefined) {
        this.claims.set(name, (c = { id: r.id, lo: r.lo, hi: r.hi, clean: true, before: [], after: [] }));
      } else {
        // Only the part after the earlier batches' rows is looked at; rows before it are ours.
        after = c.hi;
        if (r.lo <= c.hi) c.clean = false;
        c.lo = Math.min(c.lo, r.lo);
        c.hi = Math.max(c.hi, r.hi);
        c.after = [];
      }
      noted.push({ c, lo: r.lo, hi: r.hi, after });
    }
    return noted;
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
    return refreshEdges(client, this.cleanClaims(), this.guess);
  }

  /** The clean names and their ranges. */
  clean(): CleanRange[] {
    return this.cleanClaims().map(({ name, c }) => ({ name, id: c.id, lo: c.lo, hi: c.hi }));
  }

  private cleanClaims(): Array<{ name: string; c: Claim }> {
    const out: Array<{ name: string; c: Claim }> = [];
    for (const [name, c] of this.claims) if (c.clean) out.push({ name, c });
    return out;
  }
}

/** Takes the names' transaction locks (sql/007 `daylight_lock`); returns the ids whose lock another transaction holds. */
async function lock(client: pg.ClientBase, ids: number[]): Promise<number[]> {
  const { rows } = await client.query<{ busy: number[] }>('SELECT daylight_lock($1::int[]) AS busy', [ids]);
  return rows[0].busy;
}

/** A row of the series around one end: stored (with its key as text and its flag) or the loader's own. */
interface SeriesRow {
  saturated: boolean;
  /** The flag stored now; null = not computed. */
  current: boolean | null;
  /** The row's tstamp as Postgres text (stored rows), else `ms` (own rows, written as ISO only if updated). */
  key: string | null;
  ms: number;
  /** Whether its flag may differ from `current` (within 3 rows of an end). */
  candidate: boolean;
}

/** DaylightClaims#refreshEdges: the stored neighbours the claims read and the name's own first and last rows. */
async function refreshEdges(client: pg.ClientBase, clean: ReadonlyArray<{ name: string; c: Claim }>, guess: DaylightGuess): Promise<number> {
  const stored = (n: Neighbour, k: number): SeriesRow => ({ saturated: n.saturated, current: n.daylight, key: n.tstamp, ms: 0, candidate: k < DAYLIGHT_HALF_WINDOW });
  const ids: number[] = [];
  const keys: string[] = [];
  const values: boolean[] = [];
  for (const { name, c } of clean) {
    const ends = guess.ends.get(name);
    if (ends === undefined) continue;
    const before = c.before.map(stored).reverse();
    const after = c.after.map(stored);
    const own = (rowsOf: EdgeRow[], candidate: (k: number) => boolean): SeriesRow[] =>
      rowsOf.map((e, k) => ({ saturated: e.saturated, current: e.flag, key: null, ms: e.ms, candidate: candidate(k) }));
    const all = union(ends.head, ends.tail);
    const series: SeriesRow[][] =
      ends.count === all.length
        ? [[...before, ...own(all, () => true), ...after]]
        : [
            [...before, ...own(ends.head, (k) => k < DAYLIGHT_HALF_WINDOW)],
            [...own(ends.tail, (k) => k >= ends.tail.length - DAYLIGHT_HALF_WINDOW), ...after],
          ];
    for (const s of series) {
      const flags = daylightFlags(s.map((r) => (r.saturated ? 0 : null)));
      for (let p = 0; p < s.length; p++) {
        if (!s[p].candidate) continue;
        const flag = flags[p];
        if (s[p].current !== flag) {
          ids.push(c.id);
          keys.push(s[p].key ?? isoUtc(s[p].ms));
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
