/** Start-up finalisation of `.part` files left by a crashed writer (design.md §2). */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ARCHIVE_SUFFIX, PART_SUFFIX, parseArchiveName, sanitiseHost } from './naming.js';
import { fsyncDir, moveToFinal } from './fs-util.js';

export interface FinaliseLeftoversOptions {
  /** Only finalise the `.part` files of this host tag (as given to ArchiveWriter; sanitised the same way). */
  host?: string;
}

/** All `*.ndjson.gz.part` files under `dir` (recursively), sorted. */
async function findPartFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith(ARCHIVE_SUFFIX + PART_SUFFIX)) found.push(p);
    }
  };
  await walk(dir);
  return found.sort();
}

/** true when `a` and `b` are the same file (a crash between link and unlink of a no-clobber rename). */
async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([fsp.stat(a), fsp.stat(b)]);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}

async function fsyncFile(p: string): Promise<void> {
  const fh = await fsp.open(p, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Finalises one leftover; returns the new path, or null when there was nothing to keep. */
async function finaliseOne(partPath: string): Promise<string | null> {
  const finalPath = partPath.slice(0, -PART_SUFFIX.length);
  if (await sameFile(partPath, finalPath)) {
    await fsp.unlink(partPath);
    return null;
  }
  const { size } = await fsp.stat(partPath);
  if (size === 0) {
    await fsp.unlink(partPath); // created but nothing was ever flushed: no data, not even a gzip header
    return null;
  }
  await fsyncFile(partPath);
  const target = await moveToFinal(partPath, finalPath);
  await fsyncDir(path.dirname(target));
  return target;
}

/**
 * Renames every `.part` file under `dir` (left by a crash; possibly truncated — readers accept that) to its
 * final name, or to a `_recovered[_n]` variant when that name is taken; never overwrites a file. Empty
 * `.part` files are removed. Returns the new paths. Run it before starting a writer on `dir`, and only when
 * no other writer with the same host tag is writing there.
 */
export async function finaliseLeftovers(dir: string, opts: FinaliseLeftoversOptions = {}): Promise<string[]> {
  const host = opts.host === undefined ? undefined : sanitiseHost(opts.host);
  const done: string[] = [];
  for (const p of await findPartFiles(dir)) {
    if (host !== undefined && parseArchiveName(p)?.host !== host) continue;
    const target = await finaliseOne(p);
    if (target !== null) done.push(target);
  }
  return done;
}
