/**
 * openDatabase's pool survives a connection dying under a checked-out client (ECONNRESET when the server
 * stops): node-postgres emits 'error' on the client, which must not crash the process (it did during
 * `tessdb live` when PostgreSQL was stopped mid-batch).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { loadConfig } from '../../src/config/index.js';
import { openDatabase } from '../../src/db/open.js';
import { serverUrl } from '../helpers/db.js';

test('a checked-out client whose socket dies does not crash the process; the pool goes on', async () => {
  const { config } = loadConfig({ files: [], env: { TESSDB_DATABASE_URL: serverUrl() } });
  const db = await openDatabase(config, { max: 2 });
  try {
    const client = await db.pool.connect();
    await client.query('SELECT 1');
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });
    // What the socket does when the server goes away between two queries of a transaction.
    (client as unknown as { connection: { stream: { destroy(e: Error): void } } }).connection.stream.destroy(reset);
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(client.query('SELECT 1'));
    client.release();
    const { rows } = await db.pool.query<{ n: number }>('SELECT 1 AS n');
    assert.equal(rows[0].n, 1);
    assert.equal((db.pool as pg.Pool).totalCount, 1, 'the dead client was discarded');
  } finally {
    await db.close();
  }
});
