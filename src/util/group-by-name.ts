/**
 * Row indexes grouped by the rows' name, each group in row order, the names in order of first appearance.
 * Rows of one name often come in runs: consecutive rows of the same name cost one comparison, no lookup.
 */
function groupByName(rows: ReadonlyArray<{ name: string }>): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  let name: string | undefined;
  let list: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].name !== name) {
      name = rows[i].name;
      let found = byName.get(name);
      if (found === undefined) byName.set(name, (found = []));
      list = found;
    }
    list.push(i);
  }
  return byName;
}

/** Sorts row indexes by the rows' time, in place and stably (row order among equal times); one pass when already in order. */
export function sortByTime(rows: ReadonlyArray<{ ms: number }>, indexes: number[]): number[] {
  for (let k = 1; k < indexes.length; k++) {
    if (rows[indexes[k]].ms < rows[indexes[k - 1]].ms) return indexes.sort((a, b) => rows[a].ms - rows[b].ms || a - b);
  }
  return indexes;
}

/**
 * Row indexes by name, each name's in time order (row order among equal times): what every per-name
 * pass over a batch works on (the daylight guess, the gate, the key order, the daylight ranges), computed
 * once per batch.
 */
export type NameGroups = Map<string, number[]>;

export function nameGroups(rows: ReadonlyArray<{ name: string; ms: number }>): NameGroups {
  const groups = groupByName(rows);
  for (const list of groups.values()) sortByTime(rows, list);
  return groups;
}
