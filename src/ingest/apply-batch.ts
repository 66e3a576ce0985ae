/**
 * Apply one source batch inside the caller's transaction: register events first (they change who a
 * name stands for), then readings through the shared loader. Used by file ingest and by live.
 */
import type pg from 'pg';
import type { Reading } from '../model/types.js';
import type { ReadingLoader, BatchCounts, Attribution, Built } from '../load/loader.js';
import type { RejectCounter } from '../load/rejects.js';
import { rebuildRegistry, recordRegisterEvents, loadRegistrySnapshot } from '../registry/index.js';
import { tentativeDaylightRows, type DaylightRanges } from '../filter/daylight.js';
import type { DaylightGuess } from '../filter/daylight-guess.js';
import type { DaylightClaims } from '../filter/daylight-claims.js';
import { encodedFromReading, type EncodedReading } from '../load/encoded.js';
import { nameGroups, type NameGroups } from '../util/group-by-name.js';
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
): Promise<BatchCounts> {
  const rows = taken ?? state.rows ?? [];
  if (taken === undefined && state.rows) state.rows = [];
  return loadPrepared(client, loader, state, rejects, prepareReadings(loader, state, rows, last, false));
}

/** A batch's rows with their tentative daylight flags and, when asked for, its COPY text being built ahead. */
export interface PreparedReadings {
  rows: EncodedReading[];
  /** nameGroups(rows): shared by every per-name pass over the batch. */
  groups: NameGroups;
  flags: Uint8Array | undefined;
  prebuilt: Promise<Built | undefined> | undefined;
}

/**
 * The Node side of loading a batch, done when the batch is taken (batches in order): its flags, and with
 * `prebuild` its COPY text (ReadingLoader#prebuild), so that only the gate and the database wait for
 * what the batch waits for (loadPrepared's `ready`, the registry).
 */
export function prepareReadings(loader: ReadingLoader, state: BatchState, rows: EncodedReading[], last: boolean, prebuild: boolean): PreparedReadings {
  for (const r of state.pending) rows.push(encodedFromReading(r));
  state.pending = [];
  const groups = nameGroups(rows);
  let flags: Uint8Array | undefined;
  if (state.daylight && rows.length > 0) flags = (state.guess ? state.guess.flags(rows, last, groups) : tentativeDaylightRows(rows, groups)) ?? new Uint8Array(rows.length);
  let prebuilt: Promise<Built | undefined> | undefined;
  if (prebuild && rows.length > 0) {
    prebuilt = loader.prebuild(rows, groups, flags, claimsOf(state) !== undefined);
    prebuilt.catch(() => undefined); // awaited by loadPrepared; a batch never loaded (the file failed) must not leave it unhandled
  }
  return { rows, groups, flags, prebuilt };
}

/** Loads a prepared batch. `ready`: what the claim and the COPY must wait for (ReadingLoader#loadEncoded). */
export async function loadPrepared(
  client: pg.ClientBase,
  loader: ReadingLoader,
  state: BatchState,
  rejects: RejectCounter,
  p: PreparedReadings,
  ready?: Promise<unknown>,
): Promise<BatchCounts> {
  const { rows, groups } = p;
  if (rows.length === 0) return { inserted: 0, duplicates: 0, rejected: 0 };
  if (!state.daylight) return loader.loadEncoded(client, rows, state.attribution, rejects, { ready, prebuilt: p.prebuilt, groups });
  const claims = claimsOf(state);
  if (claims) claims.spoil(state.guess!.wrong);
  const counts = await loader.loadEncoded(client, rows, state.attribution, rejects, { daylight: p.flags, claims, ready, prebuilt: p.prebuilt, groups });
  // Flags can only change around readings that were stored now (all duplicates: nothing to recompute).
  if (counts.inserted > 0) state.daylight.addGroups(rows, groups);
  return counts;
}

/** The claims a batch of this transaction is loaded with (edge-only daylight refresh), if any. */
function claimsOf(state: BatchState): DaylightClaims | undefined {
  return state.daylight && state.guess ? state.claims : undefined;
}
