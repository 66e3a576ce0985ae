/**
 * The registry snapshot the loader attributes readings with, shared by the files of one run and
 * reloaded only when a committed file changed the registry.
 */
import type pg from 'pg';
import { loadRegistrySnapshot, type RegistrySnapshot } from '../registry/index.js';

export class RegistryCache {
  private snapshot?: RegistrySnapshot;
  /** How many committed transactions changed the registry since this cache was made. */
  changes = 0;

  async current(client: pg.ClientBase): Promise<RegistrySnapshot> {
    this.snapshot ??= await loadRegistrySnapshot(client);
    return this.snapshot;
  }

  /** Called after a transaction that changed the registry committed (or rolled back). */
  invalidate(): void {
    this.snapshot = undefined;
    this.changes++;
  }
}
