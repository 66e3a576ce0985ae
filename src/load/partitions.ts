/**
 * Monthly partitions of `readings`, created on demand. Creating one takes a strong lock on the parent,
 * so existence is checked against a cache first and creation happens only for genuinely new months.
 * One manager per connection: what it knows may include partitions its own open transaction created.
 */
import type pg from 'pg';

export function monthKey(t: Date): string {
  return `${t.getUTCFullYear()}${String(t.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function partitionName(month: string): string {
  return `readings_${month}`;
}

function monthBounds(month: string): [string, string] {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(4, 6));
  const start = new Date(Date.UTC(y, m - 1, 1));
  const end = new Date(Date.UTC(y, m, 1));
  return [start.toISOString(), end.toISOString()];
}

export class PartitionManager {
  private known = new Set<string>();

  async ensure(client: pg.ClientBase, months: Iterable<string>): Promise<void> {
    for (const month of months) {
      if (this.known.has(month)) continue;
      const name = partitionName(month);
      const { rowCount } = await client.query(
        `SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'readings'::regclass AND c.relname = $1`,
        [name],
      );
      if (!rowCount) await this.create(client, month);
      this.known.add(month);
    }
  }

  /**
   * Another process may be creating the same partition in a transaction of its own: we then wait
   * for its lock, and if it committed first our CREATE fails as a duplicate, which is fine.
   */
  private async create(client: pg.ClientBase, month: string): Promise<void> {
    const [from, to] = monthBounds(month);
    await client.query('SAVEPOINT tessdb_partition');
    try {
      // Bounds are generated timestamps and the identifier is escaped: nothing here comes from input text.
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${client.escapeIdentifier(partitionName(month))} PARTITION OF readings
           FOR VALUES FROM ('${from}') TO ('${to}')`,
      );
      await client.query('RELEASE SAVEPOINT tessdb_partition');
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT tessdb_partition');
      if (!['42P07', '23505'].includes((err as { code?: string }).code ?? '')) throw err;
    }
  }

  /** Forget cached partitions (e.g. after a rolled-back transaction that created some). */
  reset(): void {
    this.known.clear();
  }
}
