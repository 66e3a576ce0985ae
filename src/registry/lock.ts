/**
 * Registry writers serialise on one transaction-level advisory lock, taken before the first new
 * register event is inserted and held to commit. Two transactions rebuilding the same component at
 * once would otherwise collide on (mac_address, valid_since); taking it before the insert (not only
 * before the rebuild) rules out a deadlock between the lock and unique-index waits on event_hash.
 */
import type pg from 'pg';

export const REGISTRY_LOCK_KEY = 0x7e55db01;

export async function lockRegistry(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [REGISTRY_LOCK_KEY]);
}
