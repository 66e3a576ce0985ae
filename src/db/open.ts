/** Open a connection pool to the configured database, or to the embedded default started on demand. */
import pg from 'pg';
import type { Config } from '../config/index.js';
import { maskUrl } from '../config/index.js';
import { clientConfig, isDatabaseConfigured } from './connection.js';
import { defaultEmbeddedDir, EmbeddedServer } from './embedded/server.js';

export interface Database {
  pool: pg.Pool;
  /** For messages: where we are connected, password masked. */
  description: string;
  close(): Promise<void>;
}

/**
 * A pool whose connections losing their server never crash the process. node-postgres emits `'error'` on a
 * client whose socket dies (ECONNRESET when the server stops): the pool listens only while the client is idle
 * in it, so a client checked out at that moment (a batch transaction, an ingest) would throw an unhandled
 * `'error'` event. Every client gets a listener of its own; the failed query reports the error, and a client
 * that is no longer queryable is discarded when it is released.
 */
export function newPool(settings: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(settings);
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function embeddedServer(config: Config): EmbeddedServer {
  return new EmbeddedServer(config.database.embedded_dir || defaultEmbeddedDir(), config.database.embedded_port);
}

export async function openDatabase(config: Config, opts: { max?: number } = {}): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  let url = config.database.url;
  if (!isDatabaseConfigured(config)) {
    embedded = embeddedServer(config);
    url = await embedded.acquire();
  }
  const settings = clientConfig(config, url);
  const pool = newPool({ ...settings, max: opts.max ?? 4 });
  const description = embedded ? `embedded PostgreSQL (${embedded.dataDir})` : describeTarget(config, url);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    await embedded?.release();
    throw new Error(`cannot connect to ${description}: ${(err as Error).message}`);
  }
  return {
    pool,
    description,
    async close() {
      await pool.end();
      await embedded?.release();
    },
  };
}

function describeTarget(config: Config, url: string): string {
  if (url) return maskUrl(url);
  const db = config.database;
  return `postgres://${db.user ? db.user + '@' : ''}${db.host}:${db.port}/${db.dbname}`;
}
