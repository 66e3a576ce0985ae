/**
 * Tentative daylight flags for the batches of one transaction, written with the COPY so that
 * `refreshDaylight` (which checks every flag against the stored neighbours before COMMIT) rarely has
 * to rewrite a row. Unlike `tentativeDaylightRows`, which takes each batch as a whole series (so the
 * 3 rows at both ends of every name's run in every batch were stored FALSE, then updated), the guess
 * here carries each name's saturated tail from one batch to the next and assumes:
 *  - before a name's first row in the transaction: saturated neighbours (a daytime file usually
 *    follows a daytime file);
 *  - after a name's last row of a batch that is not the last one: saturated neighbours;
 *  - after the last batch: no neighbours (the series ends there until a later file arrives).
 * Wrong guesses cost an UPDATE in the refresh, never a wrong flag.
 */
import { nameGroups, type NameGroups } from '../util/group-by-name.js';
import { DAYLIGHT_HALF_WINDOW } from './daylight.js';

type Row = { name: string; ms: number; saturated: boolean };

/** One of the first or last rows of a name in the transaction, with the flag written for it. */
export interface EdgeRow {
  ms: number;
  saturated: boolean;
  flag: boolean;
}

/** Per name: its rows in the transaction, the first and the last 2 × half window of them. */
export interface NameEnds {
  count: number;
  head: EdgeRow[];
  tail: EdgeRow[];
}

const ENDS = 2 * DAYLIGHT_HALF_WINDOW;

export class DaylightGuess {
  /** Per name: how many of its latest rows (in earlier batches of this transaction) were saturated, capped at the half window. */
  private readonly tails = new Map<string, number>();
  /** Per name: saturated rows the flags of its previous batch assumed to follow it (checked by its next batch). */
  private readonly assumed = new Map<string, number>();
  /** Names of which a flag already written rests on an assumption that proved wrong. */
  readonly wrong = new Set<string>();
  /** The first and last rows of each name, as guessed (src/filter/daylight-claims.ts finishes their flags). */
  readonly ends = new Map<string, NameEnds>();

  /** Flags by row index, or null when no row is saturated (then none is flagged). `groups`: nameGroups(rows). */
  flags(rows: readonly Row[], last: boolean, groups: NameGroups = nameGroups(rows)): Uint8Array | null {
    let flags: Uint8Array | null = null;
    for (const [name, list] of groups) {
      const assumed = this.assumed.get(name) ?? 0;
      if (assumed > 0 && leadingSaturated(rows, list, assumed) < assumed) this.wrong.add(name);
      const lead = this.tails.get(name) ?? DAYLIGHT_HALF_WINDOW;
      this.tails.set(name, trailingSaturated(rows, list, lead));
      const trail = last ? 0 : DAYLIGHT_HALF_WINDOW;
      flags = flagRun(rows, list, lead, trail, flags);
      this.assumed.set(name, flags === null ? 0 : assumedAfter(list, flags));
      this.noteEnds(name, rows, list, flags);
    }
    return flags;
  }

  private noteEnds(name: string, rows: readonly Row[], list: readonly number[], flags: Uint8Array | null): void {
    let ends = this.ends.get(name);
    if (ends === undefined) this.ends.set(name, (ends = { count: 0, head: [], tail: [] }));
    const edge = (i: number): EdgeRow => ({ ms: rows[i].ms, saturated: rows[i].saturated, flag: flags !== null && flags[i] === 1 });
    for (let k = 0; k < list.length && ends.head.length < ENDS; k++) ends.head.push(edge(list[k]));
    for (let k = Math.max(0, list.length - ENDS); k < list.length; k++) ends.tail.push(edge(list[k]));
    if (ends.tail.length > ENDS) ends.tail.splice(0, ends.tail.length - ENDS);
    ends.count += list.length;
  }
}

/** Saturated rows at the start of `list`, counting at most `limit`. */
function leadingSaturated(rows: readonly Row[], list: readonly number[], limit: number): number {
  let n = 0;
  while (n < limit && n < list.length && rows[list[n]].saturated) n++;
  return n;
}

/** How many saturated rows after the end of `list` the flags of its last rows took for granted. */
function assumedAfter(list: readonly number[], flags: Uint8Array): number {
  const n = list.length;
  for (let k = n - 1; k >= Math.max(0, n - DAYLIGHT_HALF_WINDOW); k--) {
    if (flags[list[k]] === 1) return k + DAYLIGHT_HALF_WINDOW - (n - 1);
  }
  return 0;
}

/** Saturated rows at the end of `list`, counting `lead` before it when all of `list` is saturated. */
function trailingSaturated(rows: readonly Row[], list: readonly number[], lead: number): number {
  let n = 0;
  for (let k = list.length - 1; k >= 0 && n < DAYLIGHT_HALF_WINDOW; k--) {
    if (!rows[list[k]].saturated) return n;
    n++;
  }
  return Math.min(DAYLIGHT_HALF_WINDOW, n + lead);
}

/**
 * Flag the rows of one name (indexes sorted by time) whose window is saturated, with `lead` saturated
 * rows assumed before and `trail` after. Allocates the flags array on the first flag.
 */
function flagRun(rows: readonly Row[], list: readonly number[], lead: number, trail: number, flags: Uint8Array | null): Uint8Array | null {
  const h = DAYLIGHT_HALF_WINDOW;
  // run = saturated rows in a row up to and including position k (lead counts before position 0).
  let run = lead;
  const n = list.length;
  const runs = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    run = rows[list[k]].saturated ? run + 1 : 0;
    runs[k] = run;
  }
  for (let k = 0; k < n; k++) {
    // Row k is flagged when rows k-h … k+h are saturated: the run ending at min(k+h, last) is long enough,
    // and past the end `trail` saturated rows stand in for the missing ones.
    const end = Math.min(k + h, n - 1);
    const missing = k + h - end;
    if (missing > trail) continue;
    if (runs[end] < 2 * h + 1 - missing) continue;
    flags ??= new Uint8Array(rows.length);
    flags[list[k]] = 1;
  }
  return flags;
}
