/**
 * Apply one source batch inside the caller's transaction: register events first (they change who a
 * name stands for), then readings through the shared loader. Used by file ingest and by live.
 */
import type pg from 'pg';
import type { Reading } from '../model/types.js';
import type { ReadingLoader, BatchCounts, Attribution } from '../load/loader.js';
import type { RejectCounter } from '../load/rejects.js';
import { rebuildRegistry, recordRegisterEvents, loadRegistrySnapshot } from '../registry/index.js';
import { tentativeDaylightRows, type DaylightRanges } from '../filter/daylight.js';
import type { DaylightGuess } from '../filter/daylight-guess.js';
import type { DaylightClaims } from '../filter/daylight-claims.js';
import { encodedFromReading, type EncodedReading } from '../load/encoded.js';
import type { SourceBatch } from './sources/index.js';

export interface BatchState {
  attribution: Attribution;
  /** True once this transaction changed the registry (the shared cache must be invalidated). */
  registryChanged: boolean;
  pending: Reading[];
  /** Encoded rows waiting to be loaded (file ingest); loaded before `pending`. */
  rows?: EncodedReading[];
  /**
   * Time ranges of the readings loaded in this transaction, per name: pass them to `refreshDaylight`
   * once, just before COMMIT (src/filter/daylight.ts).
   */
  daylight?: DaylightRanges;
  /** Tentative flags carried across this transaction's batches; without it each batch is guessed alone. */
  guess?: DaylightGuess;
  /** With `guess`: claim names for the edge-only refresh (file ingest; src/filter/daylight-claims.ts). */
  claims?: DaylightClaims;
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
  /** No more rows follow in this transaction (for `state.guess`). */
  last = true,
  /** The rows to load, taken from `state.rows` by the caller; by default `state.rows` (emptied). */
  taken?: EncodedReading[],
  /** What the claim and the COPY must wait for (ReadingLoader#loadEncoded); the batch is built meanwhile. */
  ready?: Promise<unknown>,
): Promise<BatchCounts> {
  const rows = taken ?? state.rows ?? [];
  if (taken === undefined && state.rows) state.rows = [];
  for (const r of state.pending) rows.push(encodedFromReading(r));
  state.pending = [];
  if (rows.length === 0) return { inserted: 0, duplicates: 0, rejected: 0 };
  if (!state.daylight) return loader.loadEncoded(client, rows, state.attribution, rejects, undefined, undefined, ready);
  const flags = (state.guess ? state.guess.flags(rows, last) : tentativeDaylightRows(rows)) ?? new Uint8Array(rows.length);
  const claims = state.guess ? state.claims : undefined;
  if (claims) claims.spoil(state.guess!.wrong);
  const counts = await loader.loadEncoded(client, rows, state.attribution, rejects, flags, claims, ready);
  // Flags can only change around readings that were stored now (all duplicates: nothing to recompute).
  if (counts.inserted > 0) state.daylight.addRows(rows);
  return counts;
}
