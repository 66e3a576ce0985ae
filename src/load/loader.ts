/**
 * The shared reading loader used by `ingest` and `live`: readings in, COPY out, counts back.
 * Idempotent by construction: the readings key (name_id, tstamp) refuses a second copy. The cheap
 * path is a plain COPY into the table; only when a batch meets rows that are already there (SQLSTATE
 * 23505) is it loaded through a temporary staging table with INSERT … ON CONFLICT DO NOTHING.
 * The caller owns the transaction; the loader uses savepoints inside it.
 */
import type pg from 'pg';
import type { Reading } from '../model/types.js';
import { ChunkBuilder, copyChunks } from './copy.js';
import { encodeReading, READING_COLUMNS } from './encode.js';
import type { NameIds } from './names.js';
import { monthKey, type PartitionManager } from './partitions.js';
import type { RejectCounter } from './rejects.js';

export interface Attribution {
  /** The photometer a name stands for at time t, or null when the name is not registered then. */
  resolve(name: string, t: Date): { mac: string; authorised: boolean } | null;
}

export interface LoaderOptions {
  requireAuthorisation: boolean;
}

export interface BatchCounts {
  inserted: number;
  duplicates: number;
  rejected: number;
}

const BASE_COLUMNS = READING_COLUMNS.join(', ');
/** The COPY and INSERT column lists, without or with `daylight` (sql/004; see src/filter/daylight.ts). */
function columnsOf(withDaylight: boolean): string {
  return withDaylight ? `${BASE_COLUMNS}, daylight` : BASE_COLUMNS;
}

export class ReadingLoader {
  /** After a batch with duplicates, go straight to staging until a batch comes out clean. */
  private expectDuplicates = false;

  constructor(
    private readonly names: NameIds,
    private readonly partitions: PartitionManager,
    private readonly options: LoaderOptions,
  ) {}

  /**
   * `daylight`: readings to store with daylight = true (the batch's own guess, `tentativeDaylight`);
   * without it the column is left to its default (false) for `refreshDaylight` to set.
   */
  async load(
    client: pg.ClientBase,
    readings: Reading[],
    attribution: Attribution,
    rejects: RejectCounter,
    daylight?: ReadonlySet<Reading>,
  ): Promise<BatchCounts> {
    const accepted = this.gate(readings, attribution, rejects);
    await this.names.resolve(accepted.map((r) => r.name));
    const builder = new ChunkBuilder();
    const months = new Set<string>();
    let firstKey: [number, Date] | undefined;
    for (const r of accepted) {
      const nameId = this.names.get(r.name)!;
      const row = encodeReading(nameId, r);
      if (typeof row !== 'string') {
        rejects.add({ reason: 'invalid_payload', name: r.name, day: r.tstamp, detail: `field "${row.badField}" is out of range for its column`, sample: JSON.stringify(r) });
        continue;
      }
      firstKey ??= [nameId, r.tstamp];
      builder.add(daylight ? `${row.slice(0, -1)}\t${daylight.has(r) ? 't' : 'f'}\n` : row);
      months.add(monthKey(r.tstamp));
    }
    const rejected = readings.length - builder.rows;
    if (builder.rows === 0) return { inserted: 0, duplicates: 0, rejected };
    await this.partitions.ensure(client, months);
    const chunks = builder.finish();
    const columns = columnsOf(daylight !== undefined);
    const inserted = (await this.shouldStage(client, firstKey!))
      ? await this.viaStaging(client, chunks, columns)
      : await this.plainOrStaging(client, chunks, columns);
    const duplicates = builder.rows - inserted;
    this.expectDuplicates = duplicates > 0;
    return { inserted, duplicates, rejected };
  }

  /** The caller's transaction rolled back: partitions it created are gone, and so is our evidence about duplicates. */
  afterRollback(): void {
    this.partitions.reset();
    this.expectDuplicates = false;
  }

  private gate(readings: Reading[], attribution: Attribution, rejects: RejectCounter): Reading[] {
    const accepted: Reading[] = [];
    for (const r of readings) {
      const unit = attribution.resolve(r.name, r.tstamp);
      if (!unit) {
        rejects.add({ reason: 'unregistered', name: r.name, day: r.tstamp, detail: `no photometer registered as "${r.name}" at ${r.tstamp.toISOString()}`, sample: JSON.stringify(r) });
      } else if (this.options.requireAuthorisation && !unit.authorised) {
        rejects.add({ reason: 'not_authorised', name: r.name, day: r.tstamp, detail: `photometer ${unit.mac} ("${r.name}") is not authorised`, sample: JSON.stringify(r) });
      } else {
        accepted.push(r);
      }
    }
    return accepted;
  }

  private async shouldStage(client: pg.ClientBase, [nameId, tstamp]: [number, Date]): Promise<boolean> {
    if (this.expectDuplicates) return true;
    const { rowCount } = await client.query('SELECT 1 FROM readings WHERE name_id = $1 AND tstamp = $2', [nameId, tstamp]);
    return (rowCount ?? 0) > 0;
  }

  private async plainOrStaging(client: pg.ClientBase, chunks: string[], columns: string): Promise<number> {
    await client.query('SAVEPOINT tessdb_copy');
    try {
      const n = await copyChunks(client, `COPY readings (${columns}) FROM STDIN`, chunks);
      await client.query('RELEASE SAVEPOINT tessdb_copy');
      return n;
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT tessdb_copy');
      if ((err as { code?: string }).code !== '23505') throw err;
      return this.viaStaging(client, chunks, columns);
    }
  }

  private async viaStaging(client: pg.ClientBase, chunks: string[], columns: string): Promise<number> {
    await client.query('CREATE TEMP TABLE IF NOT EXISTS readings_staging (LIKE readings)');
    await client.query('TRUNCATE readings_staging');
    await copyChunks(client, `COPY readings_staging (${columns}) FROM STDIN`, chunks);
    const { rowCount } = await client.query(
      `INSERT INTO readings (${columns}) SELECT ${columns} FROM readings_staging ON CONFLICT DO NOTHING`,
    );
    return rowCount ?? 0;
  }
}
