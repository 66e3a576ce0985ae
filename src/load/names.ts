/** name → name_id, cached. New names are committed on their own connection so a rolled-back file never leaves stale ids. */
import type pg from 'pg';

export class NameIds {
  private ids = new Map<string, number>();

  constructor(private readonly pool: pg.Pool) {}

  get(name: string): number | undefined {
    return this.ids.get(name);
  }

  async resolve(names: Iterable<string>): Promise<void> {
    const missing = [...new Set(names)].filter((n) => !this.ids.has(n));
    if (missing.length === 0) return;
    await this.pool.query('INSERT INTO names (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING', [missing]);
    const { rows } = await this.pool.query<{ name_id: number; name: string }>(
      'SELECT name_id, name FROM names WHERE name = ANY($1::text[])',
      [missing],
    );
    for (const r of rows) this.ids.set(r.name, r.name_id);
  }
}
