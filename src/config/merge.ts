import type { Table } from './sources.js';

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Deep merge: tables merge key by key, everything else (arrays included) is replaced by the later layer. */
export function deepMerge(base: Table, over: Table): Table {
  const out: Table = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isTable(value) && isTable(out[key]) ? deepMerge(out[key] as Table, value) : value;
  }
  return out;
}

/** Which layer last set each dotted key, so errors can name the file. */
export function keyOrigins(layers: { origin: string; values: Table }[]): Map<string, string> {
  const origins = new Map<string, string>();
  const walk = (t: Table, prefix: string, origin: string) => {
    for (const [k, v] of Object.entries(t)) {
      const dotted = prefix ? `${prefix}.${k}` : k;
      origins.set(dotted, origin);
      if (isTable(v)) walk(v, dotted, origin);
    }
  };
  for (const layer of layers) walk(layer.values, '', layer.origin);
  return origins;
}
