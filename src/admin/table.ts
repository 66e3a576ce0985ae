/** Plain-text tables for the administrative commands (`--json` prints the same data as JSON). */

export type Cell = string | number | boolean | Date | null | undefined;

export function cellText(v: Cell): string {
  if (v === null || v === undefined) return '-';
  if (v instanceof Date) return isoSeconds(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  return v;
}

/** `2024-05-01T18:00:00Z`; the far-future "forever" of current rows prints as `-`. */
export function isoSeconds(d: Date): string {
  if (d.getUTCFullYear() >= 2999) return '-';
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map(cellText));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]?.length ?? 0)));
  const right = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n';
}

/** `key: value` lines, keys aligned. */
export function formatFields(fields: Array<[string, Cell]>): string {
  const w = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${(k + ':').padEnd(w + 1)} ${cellText(v)}`).join('\n') + '\n';
}
