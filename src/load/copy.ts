/** COPY … FROM STDIN through pg-copy-streams, fed in large chunks with backpressure respected. */
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Streams the given COPY text chunks (each ≥ 64 KB except maybe the last). Resolves with the row count. */
export async function copyChunks(client: pg.ClientBase, sql: string, chunks: Iterable<Buffer | string>): Promise<number> {
  const stream = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  try {
    for (const chunk of chunks) {
      if (!stream.write(chunk)) {
        await Promise.race([once(stream, 'drain'), done]);
      }
    }
    stream.end();
    await done;
  } catch (err) {
    // pg-copy-streams has already sent CopyFail/received the error; make sure nothing dangles.
    stream.destroy();
    await done.catch(() => undefined);
    throw err;
  }
  return stream.rowCount ?? 0;
}

/** Accumulates COPY text rows into ~64 KB chunks (one string per row would be one write per row). */
export class ChunkBuilder {
  private parts: string[] = [];
  private size = 0;
  readonly chunks: string[] = [];
  rows = 0;

  constructor(private readonly chunkBytes = 64 * 1024) {}

  add(row: string): void {
    this.parts.push(row);
    this.size += row.length;
    this.rows++;
    if (this.size >= this.chunkBytes) this.cut();
  }

  finish(): string[] {
    if (this.parts.length) this.cut();
    return this.chunks;
  }

  private cut(): void {
    this.chunks.push(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/**
 * COPY text assembled as bytes in chunks of about `chunkBytes`: each row is its pieces copied once
 * into the current chunk, with no string per row (the rows' COPY text is already bytes, see
 * src/load/encoded.ts).
 */
export class ByteChunks {
  private buf: Buffer;
  private used = 0;
  readonly chunks: Buffer[] = [];
  rows = 0;

  /** The first chunk is allocated with the first row: a builder may stay empty. */
  constructor(private readonly chunkBytes = 256 * 1024) {
    this.buf = Buffer.alloc(0);
  }

  /** One row: `head` bytes, then bytes [start, end) of `body`, then `tail` bytes (each ASCII). */
  add(head: Buffer, body: Buffer, start: number, end: number, tail: Buffer): void {
    const size = head.length + (end - start) + tail.length;
    if (this.used + size > this.buf.length) {
      if (this.used > 0) this.chunks.push(this.buf.subarray(0, this.used));
      this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, size));
      this.used = 0;
    }
    this.used += head.copy(this.buf, this.used);
    this.used += body.copy(this.buf, this.used, start, end);
    this.used += tail.copy(this.buf, this.used);
    this.rows++;
  }

  finish(): Buffer[] {
    if (this.used > 0) this.chunks.push(this.buf.subarray(0, this.used));
    this.buf = Buffer.alloc(0);
    this.used = 0;
    return this.chunks;
  }
}

/** Escape one value for COPY text format; null becomes \N. */
export function copyValue(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

export function copyRow(values: (string | number | null | undefined)[]): string {
  return values.map(copyValue).join('\t') + '\n';
}
