/** The connected component of the registry: MACs and names linked to the given ones through any event. */
import type pg from 'pg';

export interface Component {
  macs: string[];
  names: string[];
}

/**
 * Transitive closure over the event log (edges: name ↔ MAC of each stored event), one indexed query
 * per step of the frontier. Result sorted.
 */
export async function connectedComponent(client: pg.ClientBase, seed: Component): Promise<Component> {
  const macs = new Set(seed.macs);
  const names = new Set(seed.names);
  let frontierMacs = [...macs];
  let frontierNames = [...names];
  while (frontierMacs.length > 0 || frontierNames.length > 0) {
    const { rows } = await client.query<{ name: string; mac_address: string }>(
      `SELECT DISTINCT name, mac_address FROM register_events WHERE mac_address = ANY($1::text[]) OR name = ANY($2::text[])`,
      [frontierMacs, frontierNames],
    );
    frontierMacs = [];
    frontierNames = [];
    for (const r of rows) {
      if (!macs.has(r.mac_address)) {
        macs.add(r.mac_address);
        frontierMacs.push(r.mac_address);
      }
      if (!names.has(r.name)) {
        names.add(r.name);
        frontierNames.push(r.name);
      }
    }
  }
  return { macs: [...macs].sort(), names: [...names].sort() };
}
