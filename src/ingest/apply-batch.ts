/**
 * Apply one source batch inside the caller's transaction: register events first (they change who a
 * name stands for), then readings through the shared loader. Used by file ingest and by live.
 */
import type pg from 'pg';
import type { Reading } from '../model/types.js';
import type { ReadingLoader, BatchCounts, Attribution } from '../load/loader.js';
import type { RejectCounter } from '../load/rejects.js';
import { rebuildRegistry, recordRegisterEvents, loadRegistrySnapshot } from '../registry/index.js';
import { tentativeDaylight, type DaylightRanges } from '../filter/daylight.js';
import type { SourceBatch } from './sources/index.js';

export interface BatchState {
  attribution: Attribution;
  /** True once this transaction changed the registry (the shared cache must be invalidated). */
  registryChanged: boolean;
  pending: Reading[];
  /**
   * Time ranges of the readings loaded in this transaction, per name: pass them to `refreshDaylight`
   * once, just before COMMIT (src/filter/daylight.ts).
   */
  daylight?: DaylightRanges;
}

export async function applyRegisters(client: pg.ClientBase, batch: SourceBatch, state: BatchState): Promise<void> {
  if (batch.registers.length === 0) return;
  const recorded = await recordRegisterEvents(client, batch.registers);
  if (recorded.inserted === 0) return;
  await rebuildRegistry(client, { macs: recorded.affectedMacs, names: recorded.affectedNames });
  state.attribution = await loadRegistrySnapshot(client);
  state.registryChanged = true;
}

export async function flushReadings(
  client: pg.ClientBase,
  loader: ReadingLoader,
  state: BatchState,
  rejects: RejectCounter,
): Promise<BatchCounts> {
  const readings = state.pending;
  state.pending = [];
  if (readings.length === 0) return { inserted: 0, duplicates: 0, rejected: 0 };
  if (!state.daylight) return loader.load(client, readings, state.attribution, rejects);
  const counts = await loader.load(client, readings, state.attribution, rejects, tentativeDaylight(readings));
  // Flags can only change around readings that were stored now (all duplicates: nothing to recompute).
  if (counts.inserted > 0) state.daylight.add(readings);
  return counts;
}
