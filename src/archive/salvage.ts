/**
 * Recover what a corrupt gzip stream still decodes. Node's gunzip drops the output of the write that
 * fails (up to one output chunk), so on a data error the prefix is decoded again, feeding the input in
 * small slices near the failure point so that at most a few hundred bytes before the damage are lost.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

const BIG_SLICE = 64 * 1024;
const SMALL_SLICE = 256;
const TINY_SLICE = 8;
const NEAR = 256 * 1024;
const VERY_NEAR = 4 * 1024;

/** Large slices far from the failure point, smaller as it approaches (the loss is one slice's output). */
function sliceAt(offset: number, limit: number): number {
  if (offset < limit - NEAR) return BIG_SLICE;
  return offset < limit - VERY_NEAR ? SMALL_SLICE : TINY_SLICE;
}

/** Decoded bytes past `skip` that decode from the first `limit` bytes of `path`. */
export async function salvageTail(path: string, limit: number, skip: number): Promise<Buffer> {
  const fd = await fs.promises.open(path, 'r');
  const gz = zlib.createGunzip({ chunkSize: 16 * 1024 });
  const out: Buffer[] = [];
  let seen = 0;
  let failed = false;
  gz.on('data', (c: Buffer) => {
    const start = Math.max(0, skip - seen);
    if (start < c.length) out.push(c.subarray(start));
    seen += c.length;
  });
  let settle: (() => void) | undefined;
  gz.on('error', () => {
    failed = true;
    settle?.();
  });
  try {
    const buf = Buffer.alloc(BIG_SLICE);
    for (let offset = 0; offset < limit && !failed; ) {
      const size = Math.min(sliceAt(offset, limit), limit - offset);
      const { bytesRead } = await fd.read(buf, 0, size, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      // Settles when the slice is processed, or when it failed (zlib then may not call back).
      await new Promise<void>((resolve) => {
        settle = resolve;
        gz.write(Buffer.from(buf.subarray(0, bytesRead)), () => resolve());
      });
    }
  } finally {
    gz.destroy();
    await fd.close();
  }
  return Buffer.concat(out);
}
