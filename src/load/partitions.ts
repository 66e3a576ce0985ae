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
    await client.query('SAVEPOINT tessdb_partition');
    try {
      // The function (sql/005) runs with the owner's rights: the read-write role may create partitions too.
      await client.query('SELECT tessdb_ensure_partition($1)', [month]);
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
