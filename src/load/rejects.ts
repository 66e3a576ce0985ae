/** Counts of what was not loaded, per (day, name, reason), with one sample each: never silent drops. */
import type pg from 'pg';
import type { Reject, RejectReason } from '../model/types.js';

export interface RejectTally {
  day: string;
  name: string;
  reason: RejectReason;
  count: number;
  sample: string;
  detail: string;
}

const SAMPLE_MAX = 2000;

export class RejectCounter {
  private tallies = new Map<string, RejectTally>();
  total = 0;

  add(reject: Reject): void {
    const day = reject.day.toISOString().slice(0, 10);
    const name = reject.name ?? '';
    const key = `${day}\u0000${name}\u0000${reject.reason}`;
    const t = this.tallies.get(key);
    this.total++;
    if (t) t.count++;
    else this.tallies.set(key, { day, name, reason: reject.reason, count: 1, sample: reject.sample.slice(0, SAMPLE_MAX), detail: reject.detail });
  }

  byReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.tallies.values()) out[t.reason] = (out[t.reason] ?? 0) + t.count;
    return out;
  }

  list(): RejectTally[] {
    return [...this.tallies.values()];
  }

  clear(): void {
    this.tallies.clear();
    this.total = 0;
  }

  merge(other: RejectCounter): void {
    for (const t of other.tallies.values()) {
      const key = `${t.day}\u0000${t.name}\u0000${t.reason}`;
      const mine = this.tallies.get(key);
      if (mine) mine.count += t.count;
      else this.tallies.set(key, { ...t });
    }
    this.total += other.total;
  }
}

/**
 * Store the tallies. For a file (originId set) they replace that file's previous counts, so
 * re-ingesting never double counts; for the live stream (originId null) they add up.
 */
export async function saveRejects(client: pg.ClientBase, originId: number | null, tallies: RejectTally[]): Promise<void> {
  if (originId !== null) await client.query('DELETE FROM reject_counts WHERE origin_id = $1', [originId]);
  await addRejects(client, originId, tallies);
}

/** Add the tallies to whatever is stored (a file loaded in several transactions, or the live stream). */
export async function addRejects(client: pg.ClientBase, originId: number | null, tallies: RejectTally[]): Promise<void> {
  if (tallies.length === 0) return;
  await client.query(
    `INSERT INTO reject_counts (origin_id, day, name, reason, count, sample, detail)
     SELECT $1::bigint, d::date, n, r, c, s, x
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS u(d, n, r, c, s, x)
     ON CONFLICT (coalesce(origin_id, 0), day, name, reason)
     DO UPDATE SET count = reject_counts.count + EXCLUDED.count, updated_at = now()`,
    [
      originId,
      tallies.map((t) => t.day),
      tallies.map((t) => t.name),
      tallies.map((t) => t.reason),
      tallies.map((t) => t.count),
      tallies.map((t) => t.sample),
      tallies.map((t) => t.detail),
    ],
  );
}
