/**
 * The shared reading loader used by `ingest` and `live`: readings in, COPY out, counts back.
 * Idempotent by construction: the readings key (name_id, tstamp) refuses a second copy. The cheap
 * path is a plain COPY into the table; only when a batch meets rows that are already there (SQLSTATE
 * 23505) is it loaded through a temporary staging table with INSERT … ON CONFLICT DO NOTHING.
 * The caller owns the transaction; the loader uses savepoints inside it.
 */
import type pg from 'pg';
import type { BatchRanges, DaylightClaims } from '../filter/daylight-claims.js';
import { nameGroups, type NameGroups } from '../util/group-by-name.js';
import { ByteChunks, copyChunks } from './copy.js';
import { READING_COLUMNS } from './encode.js';
import { readingOf, type EncodedReading } from './encoded.js';
import { MonthSet } from './month-set.js';
import type { NameIds } from './names.js';
import type { PartitionManager } from './partitions.js';
import type { RejectCounter } from './rejects.js';

export interface Attribution {
  /** The photometer a name stands for at time t, or null when the name is not registered then. */
  resolve(name: string, t: Date): { mac: string; authorised: boolean } | null;
  /** The same with t in epoch ms (no Date needed), when the attribution offers it. */
  resolveMs?(name: string, ms: number): { mac: string; authorised: boolean } | null;
  /** The photometer `name` stands for during all of [lo, hi] (epoch ms), or undefined when that is not one answer. */
  resolveSpanMs?(name: string, lo: number, hi: number): { mac: string; authorised: boolean } | undefined;
}

/** What a batch is loaded with besides its rows (see ReadingLoader#loadEncoded). */
export interface LoadOptions {
  daylight?: Uint8Array;
  claims?: DaylightClaims;
  ready?: Promise<unknown>;
  prebuilt?: Promise<Built | undefined>;
  groups?: NameGroups;
}

export interface LoaderOptions {
  requireAuthorisation: boolean;
}

export interface BatchCounts {
  inserted: number;
  duplicates: number;
  rejected: number;
}

/** COPY chunk size: fewer, larger writes to the socket. */
const CHUNK_BYTES = 256 * 1024;
const NEWLINE = Buffer.from('\n');
const DAYLIGHT_TRUE = Buffer.from('\tt\n');
const DAYLIGHT_FALSE = Buffer.from('\tf\n');

/** One COPY of a batch: rows with or without the channel 2–4 columns (see columnsOf). */
export interface CopyPart {
  withChannels: boolean;
  chunks: Buffer[];
}

export interface Built {
  /** At most two COPYs, of the rows without then with channels 2–4; only the non-empty ones. */
  parts: CopyPart[];
  rows: number;
  months: string[];
  firstKey: [number, Date] | undefined;
  /** Per name, the range of the rows to COPY (only with claims). */
  ranges: BatchRanges | undefined;
  /** Names with rows that are not loaded (only with claims). */
  refused: Set<string> | undefined;
}

/** The channel 2–4 columns of a TESS4C, last in READING_COLUMNS: null in every TESS-W reading. */
const CHANNEL_COLUMNS = 6;
/** A row's COPY text ends so when its channel 2–4 columns are null. */
const NULL_CHANNELS = Buffer.from('\t\\N'.repeat(CHANNEL_COLUMNS));
/**
 * The COPY and INSERT column lists, without or with `daylight` (sql/004; see src/filter/daylight.ts), and
 * without or with the channel 2–4 columns: the rows of TESS-W readings (all of them null there) are
 * copied without them, left to their default, which spares Postgres parsing six \N per row (about 6 %
 * of a COPY's time); TESS4C readings in a COPY of their own.
 */
function columnsOf(withDaylight: boolean, withChannels: boolean): string {
  const base = (withChannels ? READING_COLUMNS : READING_COLUMNS.slice(0, -CHANNEL_COLUMNS)).join(', ');
  return withDaylight ? `${base}, daylight` : base;
}

/** Whether the COPY text [start, end) of `b` ends with null channel 2–4 columns. */
function withoutChannels(b: Buffer, start: number, end: number): boolean {
  const n = NULL_CHANNELS.length;
  if (end - start < n) return false;
  for (let k = 1; k <= n; k++) if (b[end - k] !== NULL_CHANNELS[n - k]) return false;
  return true;
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
   * Encoded rows (src/load/encoded.ts) in file order. `daylight`: per row, 1 to store it with
   * daylight = true; without it the column is left to its default (false) for `refreshDaylight` to set.
   * `claims`: claim each name's range before the COPY (src/filter/daylight-claims.ts); the claim also
   * says whether duplicates are possible. `ready`: the batch is built while it is pending, and only the
   * claim and the COPY wait for it (ingest-file.ts: the file before may still hold the names' locks).
   * `groups`: nameGroups(rows), when the caller has them.
   */
  async loadEncoded(client: pg.ClientBase, rows: readonly EncodedReading[], attribution: Attribution, rejects: RejectCounter, opts: LoadOptions = {}): Promise<BatchCounts> {
    const { daylight, claims, ready, prebuilt } = opts;
    const groups = opts.groups ?? nameGroups(rows);
    const accepted = this.gate(rows, groups, attribution, rejects);
    const ahead = prebuilt && (await prebuilt);
    let built: Built;
    if (ahead && accepted.ok === undefined) {
      built = ahead;
    } else {
      await this.names.resolve(accepted.names);
      built = this.build(rows, groups, accepted.ok, rejects, daylight, claims !== undefined);
    }
    const rejected = rows.length - built.rows;
    if (built.refused) claims!.spoil(built.refused);
    if (built.rows === 0) return { inserted: 0, duplicates: 0, rejected };
    await ready; // before creating partitions: that locks the table the file before may still be copying into
    await this.partitions.ensure(client, built.months);
    const withDaylight = daylight !== undefined;
    // Expecting duplicates (the batch before had some: e.g. --reprocess), a claim is not worth its read: the
    // batch is staged anyway, and its names get the full refresh if it stores anything.
    let stage: boolean;
    if (claims && this.expectDuplicates) {
      await claims.lockUnread(client, built.ranges!);
      stage = true;
    } else {
      stage = claims ? await claims.claim(client, built.ranges!) : await this.shouldStage(client, built.firstKey!);
    }
    const { inserted, staged } = stage
      ? { inserted: await this.viaStaging(client, built.parts, withDaylight), staged: true }
      : await this.plainOrStaging(client, built.parts, withDaylight);
    if (staged) claims?.spoil(built.ranges!.keys());
    const duplicates = built.rows - inserted;
    this.expectDuplicates = duplicates > 0;
    return { inserted, duplicates, rejected };
  }

  /**
   * The COPY text of `rows` built ahead, as if every row passes the gate (loadEncoded uses it when they
   * do): a file's batch is built while the registry it will be gated with is not known yet. Undefined
   * when a row does not fit its columns (the batch is then built at load time, with its rejects).
   */
  async prebuild(rows: readonly EncodedReading[], groups: NameGroups, daylight: Uint8Array | undefined, withRanges: boolean): Promise<Built | undefined> {
    for (const r of rows) if (r.bytes === null) return undefined;
    await this.names.resolve(groups.keys());
    return this.build(rows, groups, undefined, undefined, daylight, withRanges);
  }

  /** The caller's transaction rolled back: partitions it created are gone, and so is our evidence about duplicates. */
  afterRollback(): void {
    this.partitions.reset();
    this.expectDuplicates = false;
  }

  /**
   * Registration and authorisation: `ok[i]` = 1 when row i may be loaded (`ok` undefined: all may). A name
   * whose attribution holds over its whole time range in the batch is decided once, the others row by row.
   */
  private gate(rows: readonly EncodedReading[], groups: NameGroups, attribution: Attribution, rejects: RejectCounter): { ok: Uint8Array | undefined; names: Set<string> } {
    let ok: Uint8Array | undefined;
    const names = new Set<string>();
    const accept = (r: EncodedReading, unit: { mac: string; authorised: boolean } | null): boolean => {
      if (!unit) {
        const t = new Date(r.ms);
        rejects.add({ reason: 'unregistered', name: r.name, day: t, detail: `no photometer registered as "${r.name}" at ${t.toISOString()}`, sample: JSON.stringify(readingOf(r)) });
        return false;
      }
      if (this.options.requireAuthorisation && !unit.authorised) {
        rejects.add({ reason: 'not_authorised', name: r.name, day: new Date(r.ms), detail: `photometer ${unit.mac} ("${r.name}") is not authorised`, sample: JSON.stringify(readingOf(r)) });
        return false;
      }
      return true;
    };
    const at = (r: EncodedReading) => (attribution.resolveMs ? attribution.resolveMs(r.name, r.ms) : attribution.resolve(r.name, new Date(r.ms)));
    for (const [name, list] of groups) {
      const whole = attribution.resolveSpanMs?.(name, rows[list[0]].ms, rows[list[list.length - 1]].ms);
      if (whole && !(this.options.requireAuthorisation && !whole.authorised)) {
        names.add(name);
        continue;
      }
      for (const i of list) {
        if (accept(rows[i], at(rows[i]))) {
          names.add(name);
        } else {
          ok ??= new Uint8Array(rows.length).fill(1);
          ok[i] = 0;
        }
      }
    }
    return { ok, names };
  }

  /**
   * The accepted rows as COPY text in large chunks, in key order (see namesByIdOrder), with the months they
   * fall in and the first row's key.
   */
  private build(rows: readonly EncodedReading[], groups: NameGroups, ok: Uint8Array | undefined, rejects: RejectCounter | undefined, daylight: Uint8Array | undefined, withRanges: boolean): Built {
    const compact = new ByteChunks(CHUNK_BYTES);
    const full = new ByteChunks(CHUNK_BYTES);
    const months = new MonthSet();
    const ranges: BatchRanges | undefined = withRanges ? new Map() : undefined;
    const refused: Set<string> | undefined = withRanges ? new Set() : undefined;
    let firstKey: [number, Date] | undefined;
    const tail = daylight === undefined ? NEWLINE : undefined;
    for (const name of namesByIdOrder(groups, this.names)) {
      const list = groups.get(name)!;
      const nameId = this.names.get(name)!;
      const idBytes = Buffer.from(String(nameId), 'latin1');
      // All of a name's rows go to one COPY, so that of two with the same key the first in the file is kept (nameGroups keeps file order among equal times).
      const builder = list.every((i) => rows[i].bytes === null || withoutChannels(rows[i].bytes!, rows[i].start, rows[i].end)) ? compact : full;
      const trim = builder === compact ? NULL_CHANNELS.length : 0;
      let range: { id: number; lo: number; hi: number } | undefined;
      for (const i of list) {
        const r = rows[i];
        if (ok !== undefined && ok[i] === 0) {
          refused?.add(name);
          continue;
        }
        if (ranges && range === undefined) ranges.set(name, (range = { id: nameId, lo: r.ms, hi: r.ms }));
        if (r.bytes === null) {
          refused?.add(name);
          rejects?.add({ reason: 'invalid_payload', name, day: new Date(r.ms), detail: `field "${r.badField}" is out of range for its column`, sample: JSON.stringify(readingOf(r)) });
          continue;
        }
        if (range) {
          if (r.ms < range.lo) range.lo = r.ms;
          else if (r.ms > range.hi) range.hi = r.ms;
        }
        firstKey ??= [nameId, new Date(r.ms)];
        builder.add(idBytes, r.bytes, r.start, r.end - trim, tail ?? (daylight![i] === 1 ? DAYLIGHT_TRUE : DAYLIGHT_FALSE));
        months.add(r.ms);
      }
    }
    const parts: CopyPart[] = [];
    if (compact.rows > 0) parts.push({ withChannels: false, chunks: compact.finish() });
    if (full.rows > 0) parts.push({ withChannels: true, chunks: full.finish() });
    return { parts, rows: compact.rows + full.rows, months: months.keys(), firstKey, ranges, refused };
  }

  private async shouldStage(client: pg.ClientBase, [nameId, tstamp]: [number, Date]): Promise<boolean> {
    if (this.expectDuplicates) return true;
    const { rowCount } = await client.query('SELECT 1 FROM readings WHERE name_id = $1 AND tstamp = $2', [nameId, tstamp]);
    return (rowCount ?? 0) > 0;
  }

  private async plainOrStaging(client: pg.ClientBase, parts: CopyPart[], withDaylight: boolean): Promise<{ inserted: number; staged: boolean }> {
    await client.query('SAVEPOINT tessdb_copy');
    try {
      let n = 0;
      for (const part of parts) n += await copyChunks(client, `COPY readings (${columnsOf(withDaylight, part.withChannels)}) FROM STDIN`, part.chunks);
      await client.query('RELEASE SAVEPOINT tessdb_copy');
      return { inserted: n, staged: false };
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT tessdb_copy');
      if ((err as { code?: string }).code !== '23505') throw err;
      return { inserted: await this.viaStaging(client, parts, withDaylight), staged: true };
    }
  }

  private async viaStaging(client: pg.ClientBase, parts: CopyPart[], withDaylight: boolean): Promise<number> {
    await client.query('CREATE TEMP TABLE IF NOT EXISTS readings_staging (LIKE readings)');
    await client.query('TRUNCATE readings_staging');
    for (const part of parts) await copyChunks(client, `COPY readings_staging (${columnsOf(withDaylight, part.withChannels)}) FROM STDIN`, part.chunks);
    const columns = columnsOf(withDaylight, true);
    const { rowCount } = await client.query(
      `INSERT INTO readings (${columns}) SELECT ${columns} FROM readings_staging ON CONFLICT DO NOTHING`,
    );
    return rowCount ?? 0;
  }
}

/**
 * The batch's names by name_id (resolved): with each name's rows in time order (nameGroups), the readings key
 * order the loader copies in. An archive interleaves every photometer minute by minute; copied in that order
 * each row lands on another leaf of the primary key, and the index insertions cost Postgres about half again
 * as much as in key order (docs/performance.md).
 */
export function namesByIdOrder(groups: NameGroups, names: NameIds): string[] {
  return [...groups.keys()].map((name) => ({ name, id: names.get(name) ?? 0 })).sort((a, b) => a.id - b.id).map((x) => x.name);
}
