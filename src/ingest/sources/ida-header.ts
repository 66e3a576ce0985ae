/**
 * The header of an IDA file ("Definition of the community standard for skyglow observations 1.0", as
 * written by tessdb-server's and tessdb-reports' monthly exports): `# Key: value` lines, then the
 * column-name line, the units line and `# END OF HEADER`. Pure functions, no I/O.
 *
 * The columns come from the column-name line (confirmed by the units line), not from positions: a
 * header whose declared "Number of fields per line" disagrees with both (old tessdb-server templates
 * say 6 for 7 columns) is read by its column names. Without a column-name line, the standard layouts
 * for 7, 8 and 17 declared fields are used.
 */
import { normaliseMac } from '../../model/mac.js';
import { parseTstampMs } from '../../model/timestamp.js';
import type { TimestampSource } from '../../model/types.js';

/** What a data column holds. Channel numbers are 1..4 (`freq1` is TESS-W's "Frequency"). */
export type IdaColumn =
  | 'utc'
  | 'local'
  | 'tamb'
  | 'tsky'
  | 'seq'
  | `freq${1 | 2 | 3 | 4}`
  | `mag${1 | 2 | 3 | 4}`
  | `zp${1 | 2 | 3 | 4}`
  | 'ignore';

export interface IdaHeader {
  /** Every `# Key: value` line, keys lower-cased (the first occurrence wins; comments are in `comments`). */
  fields: Map<string, string>;
  comments: string[];
  /** Device type, e.g. "TESS-W", "TESS4C", "SQM-LE". */
  device: string | null;
  /** Instrument ID, lower-cased. */
  name: string | null;
  mac: string | null;
  /** When the header's MAC started, if the header says "(from …)" (ms). */
  macSince: number | null;
  /** The MAC before `macSince`, from a "MAC address was … (until …)" comment. */
  previousMac: string | null;
  firmware: string | null;
  /** Zero point per channel from the header (the latest). */
  zeroPoints: (number | null)[];
  filters: string[];
  nchannels: number | null;
  coverOffset: number | null;
  fov: number | null;
  supplier: string | null;
  location: string | null;
  position: { latitude: number | null; longitude: number | null; elevation: number | null } | null;
  timezone: string | null;
  timeSync: string | null;
  /** Timestamp source of the data lines, from "Time Synchronization" (see {@link timestampSourceOf}). */
  tstampSource: TimestampSource;
  declaredFields: number | null;
  /** Column names as written, and what each holds. */
  columnNames: string[];
  columns: IdaColumn[];
  /** Inconsistencies that did not stop the file from being read (one line each). */
  warnings: string[];
  /** Number of header lines (including `# END OF HEADER`). */
  lines: number;
}

/** Standard layouts by declared field count, for headers without a column-name line. */
const STANDARD: Record<number, IdaColumn[]> = {
  7: ['utc', 'local', 'tamb', 'tsky', 'freq1', 'mag1', 'zp1'],
  8: ['utc', 'local', 'tamb', 'tsky', 'freq1', 'mag1', 'zp1', 'seq'],
  17: ['utc', 'local', 'tamb', 'tsky', 'freq1', 'mag1', 'zp1', 'freq2', 'mag2', 'zp2', 'freq3', 'mag3', 'zp3', 'freq4', 'mag4', 'zp4', 'seq'],
};

/** First line of an IDA file, in its known spellings. */
export const IDA_SIGNATURE = /^#\s*(Definition of the community standard for skyglow observations|Community Standard Skyglow Data Format|Light Pollution Monitoring Data Format)/i;

/** "(from 2023-05-12T10:00:00)" after a value. */
const FROM = /\(\s*from\s+([^)]+)\)/i;

/** Name of a data column → what it holds. */
export function columnOf(name: string): IdaColumn {
  const n = name.trim().toLowerCase().replace(/\s+/g, ' ');
  if (n.startsWith('utc')) return 'utc';
  if (n.startsWith('local')) return 'local';
  if (n.includes('sky') && n.includes('temp')) return 'tsky';
  if (n.includes('temp')) return 'tamb';
  if (n.startsWith('seq')) return 'seq';
  let m = /^(?:freq|frequency)\s*([1-4])?$/.exec(n);
  if (m) return `freq${(Number(m[1] ?? 1) as 1 | 2 | 3 | 4)}`;
  m = /^(?:msas|mag|magnitude)\s*([1-4])?$/.exec(n);
  if (m) return `mag${(Number(m[1] ?? 1) as 1 | 2 | 3 | 4)}`;
  m = /^(?:zp|zero point)\s*([1-4])?$/.exec(n);
  if (m) return `zp${(Number(m[1] ?? 1) as 1 | 2 | 3 | 4)}`;
  return 'ignore';
}

/**
 * "Time Synchronization: timestamp added by MQTT subscriber" (tessdb's exports) → subscriber; any other
 * declared synchronisation (GPS, NTP, the instrument's clock, "publisher") → publisher; none → subscriber,
 * because every TESS IDA file comes from tessdb-server, which stamped readings at reception unless the
 * photometer sent its own time.
 */
export function timestampSourceOf(timeSync: string | null): TimestampSource {
  if (timeSync === null || timeSync.trim() === '') return 'subscriber';
  return /subscriber|server|broker|recei/i.test(timeSync) ? 'subscriber' : 'publisher';
}

function num(s: string | undefined | null): number | null {
  if (s === undefined || s === null) return null;
  const m = /[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\.\d+/.exec(s);
  if (!m) return null;
  const v = Number(m[0]);
  return Number.isFinite(v) ? v : null;
}

function numbers(s: string): (number | null)[] {
  return s
    .replace(FROM, '')
    .split(/[,;]/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => num(p));
}

function fromTime(s: string | null | undefined): number | null {
  const m = s ? FROM.exec(s) : null;
  return m ? parseTstampMs(m[1].trim()) : null;
}

function splitNames(line: string): string[] {
  return line.split(/[,;]/).map((s) => s.trim());
}

/** The text after "# " on a header line, or null for a line that is not a comment. */
function body(line: string): string | null {
  return line.startsWith('#') ? line.slice(1).trim() : null;
}

/**
 * Parse the header lines (each without its line terminator, BOM removed). Throws when the columns
 * cannot be determined or a column every reading needs (UTC time, frequency, magnitude) is missing.
 */
export function parseIdaHeader(lines: string[], fileName: string): IdaHeader {
  const fields = new Map<string, string>();
  const comments: string[] = [];
  const bodies = lines.map(body);
  let endIndex = bodies.findIndex((b) => b !== null && /^END OF HEADER/i.test(b));
  if (endIndex < 0) endIndex = bodies.length;
  for (let i = 0; i < endIndex; i++) {
    const b = bodies[i];
    if (b === null) continue;
    const colon = b.indexOf(':');
    if (colon <= 0) continue;
    const key = b.slice(0, colon).trim().toLowerCase();
    const value = b.slice(colon + 1).trim();
    if (key === 'comment') comments.push(value);
    else if (!fields.has(key)) fields.set(key, value);
  }
  // The field whose key starts with one of `prefixes` (e.g. "position (lat, lon, elev(m))").
  const get = (...prefixes: string[]): string | null => {
    for (const p of prefixes) {
      for (const [k, v] of fields) if (k === p || k.startsWith(p + ' ') || k.startsWith(p + '(')) return v;
    }
    return null;
  };
  const warnings: string[] = [];

  // Column names: the line before the units line (the one with the timestamp pattern) before END OF HEADER.
  let columnNames: string[] = [];
  let unitsCount: number | null = null;
  const unitsIndex = (() => {
    for (let i = endIndex - 1; i >= 0 && i >= endIndex - 4; i--) {
      const b = bodies[i];
      if (b !== null && /YYYY-MM-DD/i.test(b)) return i;
    }
    return -1;
  })();
  if (unitsIndex > 0 && bodies[unitsIndex - 1] !== null) {
    columnNames = splitNames(bodies[unitsIndex - 1]!);
    unitsCount = bodies[unitsIndex]!.split(';').filter((s, i, a) => s.trim() !== '' || i < a.length - 1).length;
    if (columnNames.length > 0 && columnNames[columnNames.length - 1] === '') columnNames.pop();
  }
  const declaredText = get('number of fields per line');
  const declaredFields = declaredText === null ? null : num(declaredText);

  let columns: IdaColumn[];
  if (columnNames.length > 0 && columnNames.some((n) => columnOf(n) === 'utc')) {
    columns = columnNames.map(columnOf);
    if (declaredFields !== null && declaredFields !== columns.length) {
      warnings.push(
        `header declares ${declaredFields} fields per line but names ${columns.length} columns${unitsCount === columns.length ? ' (and as many units)' : ''}: read by the column names`,
      );
    }
  } else if (declaredFields !== null && STANDARD[declaredFields]) {
    columns = STANDARD[declaredFields];
    columnNames = columns.map(String);
    warnings.push(`no column-name line: the standard ${declaredFields}-field layout is assumed`);
  } else {
    throw new Error(
      `${fileName}: cannot tell the data columns: no column-name line before "# END OF HEADER" and ${declaredFields === null ? 'no "Number of fields per line"' : `no standard layout for ${declaredFields} fields`}`,
    );
  }
  for (const needed of ['utc', 'freq1', 'mag1'] as const) {
    if (!columns.includes(needed)) {
      const what = needed === 'utc' ? 'UTC Date & Time' : needed === 'freq1' ? 'Frequency' : 'MSAS';
      throw new Error(`${fileName}: the header has no "${what}" column (columns: ${columnNames.join(', ')})`);
    }
  }

  const macText = get('tess mac address', 'mac address', 'mac');
  const mac = macText ? normaliseMac((/([0-9A-Fa-f]{1,2}[:-]){5}[0-9A-Fa-f]{1,2}|[0-9A-Fa-f]{12}/.exec(macText) ?? [''])[0]) : null;
  if (macText && mac === null) warnings.push(`"TESS MAC address: ${macText}" is not a MAC address`);
  let previousMac: string | null = null;
  for (const c of comments) {
    const m = /MAC address was\s+(\S+)/i.exec(c);
    if (m) previousMac = normaliseMac(m[1].replace(/[,;.]$/, ''));
  }
  const zpText = get('tess zero point', 'zero point');
  const filtersText = get('filters per channel');
  const positionText = get('position');
  const pos = positionText ? numbers(positionText) : [];
  const nameText = get('instrument id');
  const name = nameText ? nameText.trim().toLowerCase() : null;
  const timeSync = get('time synchronization', 'time synchronisation');
  return {
    fields,
    comments,
    device: get('device type'),
    name: name === '' ? null : name,
    mac,
    macSince: fromTime(macText),
    previousMac: previousMac !== mac ? previousMac : null,
    firmware: (() => {
      const f = get('tess firmware version', 'firmware version', 'firmware');
      return f === null || f === '' ? null : f;
    })(),
    zeroPoints: zpText ? numbers(zpText) : [],
    filters: filtersText ? filtersText.replace(FROM, '').split(',').map((s) => s.trim()).filter((s) => s !== '') : [],
    nchannels: num(get('number of channels')),
    coverOffset: num(get('tess cover offset value', 'cover offset value', 'sqm cover offset value')),
    fov: num(get('field of view')),
    supplier: get('data supplier'),
    location: get('location name'),
    position: positionText ? { latitude: pos[0] ?? null, longitude: pos[1] ?? null, elevation: pos[2] ?? null } : null,
    timezone: get('local timezone'),
    timeSync,
    tstampSource: timestampSourceOf(timeSync),
    declaredFields,
    columnNames,
    columns,
    warnings,
    lines: Math.min(lines.length, endIndex + 1),
  };
}

/** `{name}_{YYYY-MM}[_{location}].dat` → name and the month's first instant (ms), when the name follows that pattern. */
export function idaFileName(baseName: string): { name: string | null; monthStart: number | null } {
  const stem = baseName.replace(/\.gz$/i, '').replace(/\.[^.]*$/, '');
  const m = /^(.+?)_(\d{4})-(\d{2})(?:_.*)?$/.exec(stem);
  if (!m) return { name: null, monthStart: null };
  const month = Number(m[3]);
  return { name: m[1].toLowerCase(), monthStart: month >= 1 && month <= 12 ? Date.UTC(Number(m[2]), month - 1, 1) : null };
}
