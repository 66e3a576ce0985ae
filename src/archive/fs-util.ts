/** Small durable file-system steps shared by the writer and the leftover finaliser. */
import fsp from 'node:fs/promises';
import { recoveredPath } from './naming.js';

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

/** true when `p` exists (any type); errors other than ENOENT propagate. */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (e) {
    if (errno(e) === 'ENOENT') return false;
    throw e;
  }
}

/** fsync a directory so a create/rename in it is durable; a no-op where directories cannot be fsynced. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF'].includes(errno(e) ?? '')) throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK', 'EACCES']);

/**
 * Renames `from` to `to` without ever replacing an existing `to` (EEXIST instead). Uses link+unlink, which
 * is atomic against overwriting; falls back to check-then-rename where hard links are not supported.
 */
export async function renameNoClobber(from: string, to: string): Promise<void> {
  try {
    await fsp.link(from, to);
  } catch (e) {
    if (!LINK_UNSUPPORTED.has(errno(e) ?? '')) throw e;
    if (await pathExists(to)) throw Object.assign(new Error(`EEXIST: file already exists, rename '${from}' -> '${to}'`), { code: 'EEXIST' });
    await fsp.rename(from, to);
    return;
  }
  await fsp.unlink(from);
}

/**
 * Moves a `.part` file to `finalPath`, or to its first free `_recovered[_n]` variant when `finalPath` is
 * taken; returns the path used. Never overwrites a file.
 */
export async function moveToFinal(partPath: string, finalPath: string): Promise<string> {
  for (let n = 0; n < 1000; n++) {
    const target = n === 0 ? finalPath : recoveredPath(finalPath, n);
    try {
      await renameNoClobber(partPath, target);
      return target;
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw e;
    }
  }
  throw new Error(`cannot finalise ${partPath}: ${finalPath} and 999 _recovered variants exist`);
}
