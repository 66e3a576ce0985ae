/**
 * Claims for the edge-only daylight refresh of file ingest (sql/006): per batch, before its COPY, the
 * loader claims each name's time range; a name stays *clean* while every row of it in the transaction
 * went in by a plain COPY into a range that held no other rows, with the tentative flags of
 * src/filter/daylight-guess.ts holding. Then only the 3 rows on each side of the ends of its range can
 * have a wrong flag, and `daylight_refresh_edges` recomputes just those. Any other name (rows stored in
 * its range, its lock held by another transaction, some of its rows not loaded, a guess proved wrong)
 * gets the full `daylight_refresh` of sql/004.
 */
import type pg from 'pg';

/** Per name: the time range (epoch ms) of one batch's accepted rows. */
export type BatchRanges = Map<string, { id: number; lo: number; hi: number }>;

interface Claim {
  id: number;
  lo: number;
  hi: number;
  clean: boolean;
}

export class DaylightClaims {
  private readonly claims = new Map<string, Claim>();

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
        after.push(new Date(c.hi).toISOString());
        if (r.lo <= c.hi) c.clean = false;
        c.lo = Math.min(c.lo, r.lo);
        c.hi = Math.max(c.hi, r.hi);
      }
      ids.push(r.id);
      lo.push(new Date(r.lo).toISOString());
      hi.push(new Date(r.hi).toISOString());
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

  /** The clean names' ranges, for daylight_refresh_edges. */
  clean(): Array<{ id: number; lo: number; hi: number }> {
    return [...this.claims.values()].filter((c) => c.clean).map(({ id, lo, hi }) => ({ id, lo, hi }));
  }
}

/** Recompute the flags near both ends of each clean name's range (sql/006). Returns the rows changed. */
export async function refreshDaylightEdges(client: pg.ClientBase, claims: DaylightClaims): Promise<number> {
  const list = claims.clean();
  if (list.length === 0) return 0;
  const { rows } = await client.query<{ n: string }>('SELECT daylight_refresh_edges($1::int[], $2::timestamptz[], $3::timestamptz[]) AS n', [
    list.map((c) => c.id),
    list.map((c) => new Date(c.lo).toISOString()),
    list.map((c) => new Date(c.hi).toISOString()),
  ]);
  return Number(rows[0].n);
}
