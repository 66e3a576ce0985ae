/**
 * A private embedded PostgreSQL (src/db/embedded/server.ts) on a free port, for the tests that need
 * a server configured their way (TLS) or that inspect the embedded defaults. As root the server runs
 * as the `postgres` user: directories are world-searchable and files it must read are handed to it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverUser } from '../../src/db/embedded/binaries.js';
import { EmbeddedServer } from '../../src/db/embedded/server.js';
import { freePort } from '../helpers/broker.js';

export interface OwnServer {
  server: EmbeddedServer;
  dir: string;
  port: number;
  /** Owner URL with the generated password (pass it through the environment, never the command line). */
  url: string;
  stop(): Promise<void>;
}

/** Copies `file` into `dir` with mode 600, owned by the user the server runs as. */
export function handToServer(file: string, dir: string): string {
  const target = path.join(dir, path.basename(file));
  fs.copyFileSync(file, target);
  fs.chmodSync(target, 0o600);
  const { uid, gid } = serverUser();
  if (uid !== undefined) fs.chownSync(target, uid, gid ?? uid);
  return target;
}

export function worldDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tessdb-sec-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Starts a server in a fresh directory; `settings(dir)` gives extra postgresql.conf lines. */
export async function startOwnServer(prefix: string, settings: (dir: string) => Record<string, string> = () => ({})): Promise<OwnServer> {
  const dir = worldDir(prefix);
  const port = await freePort();
  const server = new EmbeddedServer(path.join(dir, 'pg'), port, { fsync: 'off', synchronous_commit: 'off', ...settings(dir) });
  const url = await server.startKept();
  return {
    server,
    dir,
    port,
    url,
    async stop() {
      await server.stopNow().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
