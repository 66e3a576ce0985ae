/** `tessdb inventory`: scan data_dirs (origins) and replica_dirs (replicas) and record them. */
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { syncOrigins, type OriginSyncResult } from './origins.js';
import { syncReplicas, type ReplicaSyncResult } from './replicas.js';
import { scanDirs } from './scan.js';

export interface InventoryResult {
  host: string;
  origins: OriginSyncResult;
  replicas: ReplicaSyncResult | null;
  seconds: number;
}

export async function runInventory(pool: pg.Pool, config: Config, onFile?: () => void): Promise<InventoryResult> {
  const started = Date.now();
  const found = await scanDirs(config.data_dirs, config.include, config.exclude);
  const origins = await syncOrigins(pool, config.host, config.data_dirs, found, onFile);
  let replicas: ReplicaSyncResult | null = null;
  if (config.replica_dirs.length > 0) {
    const copies = await scanDirs(config.replica_dirs, config.include, config.exclude);
    replicas = await syncReplicas(pool, config.host, config.replica_dirs, copies);
  }
  return { host: config.host, origins, replicas, seconds: (Date.now() - started) / 1000 };
}

export { missingReplicas } from './replicas.js';
export { scanDirs } from './scan.js';
