/** Recompute `photometers` and `name_to_mac` from the event log, in the caller's transaction. */
import type pg from 'pg';
import { connectedComponent, type Component } from './component.js';
import { loadEvents } from './event-log.js';
import { foldRegistry } from './fold.js';
import { lockRegistry } from './lock.js';
import { writeMappings, writeVersions } from './persist.js';

export interface RebuildOptions {
  /**
   * Full rebuild only: number tess_id 1..n in (mac_address, valid_since) order, so the ids are a pure
   * function of the event log. Default false: ids of surviving versions are kept.
   */
  renumber?: boolean;
}

export interface RebuildResult {
  /** The component recomputed (null: everything). */
  scope: Component | null;
  events: number;
  changed: boolean;
}

/**
 * With `affected`, recompute only its connected component (the MACs and names linked to them through
 * any stored event, transitively); without it, everything. The result depends only on the set of
 * stored events, never on the order they were inserted in. Caller does BEGIN/COMMIT.
 */
export async function rebuildRegistry(
  client: pg.ClientBase,
  affected?: { macs: string[]; names: string[] },
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  await lockRegistry(client);
  const scope = affected ? await connectedComponent(client, affected) : null;
  if (scope && scope.macs.length === 0 && scope.names.length === 0) return { scope, events: 0, changed: false };
  const events = await loadEvents(client, scope ?? undefined);
  const fold = foldRegistry(events);
  const v = await writeVersions(client, scope, fold.versions, !scope && options.renumber === true);
  const m = await writeMappings(client, scope, fold.mappings);
  return { scope, events: events.length, changed: v || m };
}
