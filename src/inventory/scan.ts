/** Find candidate files under the configured directories (fast-glob), with size and mtime. */
import path from 'node:path';
import fg from 'fast-glob';

export interface FoundFile {
  path: string; // absolute
  sizeBytes: number;
  mtimeMs: number; // whole milliseconds
}

export async function scanDirs(dirs: string[], include: string[], exclude: string[]): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  for (const dir of dirs) {
    const root = path.resolve(dir);
    const entries = await fg(include, {
      cwd: root,
      ignore: [...exclude, '**/*.part'],
      absolute: true,
      onlyFiles: true,
      stats: true,
      followSymbolicLinks: false,
      suppressErrors: true,
      dot: false,
    });
    for (const e of entries) {
      if (!e.stats) continue;
      found.push({ path: e.path, sizeBytes: e.stats.size, mtimeMs: Math.trunc(e.stats.mtimeMs) });
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

export function isUnder(file: string, roots: string[]): boolean {
  return roots.some((r) => {
    const root = path.resolve(r);
    return file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
  });
}
