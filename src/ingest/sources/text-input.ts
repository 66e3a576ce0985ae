/**
 * Text inputs of the historical readers (IDA, CSV): a plain or gzip-compressed file as a pull source of
 * raw byte chunks. A gzip stream that cannot be decoded to its end delivers its decodable prefix and
 * says so in `truncatedDetail` (as archives do); the first chunk keeps a UTF-8 byte order mark, which
 * the readers strip.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { GunzipSource } from '../../archive/gunzip-source.js';

const READ_CHUNK = 64 * 1024;

/** Longest line (bytes) the IDA and CSV readers take; longer ones are rejects (`bad_line`), never buffered whole. */
export const MAX_TEXT_LINE_BYTES = 1 << 20;

export interface TextInput {
  /** The next chunk of (decompressed) bytes, or null at the end. Rejects when the file cannot be read. */
  next(): Promise<Buffer | null>;
  /** Set at the end when a compressed file could not be decoded to its end. */
  readonly truncatedDetail: string | undefined;
  readonly compressed: boolean;
  /** Release the file (also done at the end); safe to call twice. */
  close(): void;
}

/** True when the file starts with the gzip magic bytes. */
export function isGzip(path: string): boolean {
  const fd = fs.openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    return fs.readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

export function openText(path: string): TextInput {
  if (isGzip(path)) {
    const gz = new GunzipSource(path);
    return {
      next: () => gz.next(),
      get truncatedDetail() {
        return gz.truncatedDetail;
      },
      compressed: true,
      close: () => gz.destroy(),
    };
  }
  const fd = fs.openSync(path, 'r');
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      fs.closeSync(fd);
    }
  };
  return {
    async next() {
      if (closed) return null;
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const n = await new Promise<number>((resolve, reject) =>
        fs.read(fd, buf, 0, READ_CHUNK, null, (err, bytes) => (err ? reject(err) : resolve(bytes))),
      ).catch((err: Error) => {
        close();
        throw new Error(`cannot read ${path}: ${err.message}`, { cause: err });
      });
      if (n === 0) {
        close();
        return null;
      }
      return n === READ_CHUNK ? buf : buf.subarray(0, n);
    },
    truncatedDetail: undefined,
    compressed: false,
    close,
  };
}

/** The input's chunks as an async iterable (for stream consumers such as csv-parse). */
export async function* chunksOf(input: TextInput): AsyncGenerator<Buffer> {
  try {
    for (;;) {
      const c = await input.next();
      if (c === null) return;
      yield c;
    }
  } finally {
    input.close();
  }
}

/**
 * The first `maxBytes` of the file as text (decompressed when gzip; as much as decodes of a damaged
 * stream), for choosing a layout before streaming.
 */
export function headText(path: string, maxBytes = 64 * 1024): string {
  const fd = fs.openSync(path, 'r');
  let head: Buffer;
  try {
    head = Buffer.alloc(maxBytes);
    head = head.subarray(0, fs.readSync(fd, head, 0, maxBytes, 0));
  } finally {
    fs.closeSync(fd);
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return gunzipHead(head).toString('utf8');
  return head.toString('utf8');
}

/** Decompress the start of a gzip stream: a prefix of a longer file is fine, so is a damaged tail. */
export function gunzipHead(head: Buffer): Buffer {
  let error: unknown;
  for (let n = head.length; n >= 32; n = n >> 1) {
    try {
      return zlib.gunzipSync(head.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (err) {
      error ??= err;
    }
  }
  throw error instanceof Error ? error : new Error('undecodable gzip stream');
}
