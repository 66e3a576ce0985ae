/**
 * Which CSV layout a file has, and how its columns map to reading fields. Three kinds (docs/formats.md):
 * - a `[[csv.formats]]` entry of the configuration whose glob matches the file (always wins);
 * - tessdb-gaps captures: header `time,freq,mag,rev,seq,tamb,tsky,wdBm` (+ optional `name`);
 * - tessdb / tessdb-server exports and any CSV whose header names the reading fields the way tessdb,
 *   tessdb-server or tessdb-gaps do (`timestamp`, `frequency`, `magnitude`, `sky_temperature`, …).
 * The photometer name comes from a `name` column, else from the file name (`stars1.csv`, `stars1_2023-05.csv.gz`).
 */
import path from 'node:path';
import type { CsvField, CsvFormatConfig } from '../../config/schema.js';
import { parseTstampMs } from '../../model/timestamp.js';
import type { TimestampSource } from '../../model/types.js';

export interface CsvPlan {
  /** What the file is, for messages: a configured label, "tessdb-gaps" or "tessdb export". */
  label: string;
  delimiter: string;
  /** Lines skipped before the header / first record. */
  skipLines: number;
  header: boolean;
  comment: string;
  decimalComma: boolean;
  /** Column key (header name, or "1", "2", … without header) → field. */
  columns: Map<string, CsvField>;
  /** Case-insensitive header matching (built-in layouts and configured ones alike). */
  time: TimeParser;
  name: { kind: 'column' } | { kind: 'fixed'; value: string };
  tstampSource: TimestampSource;
}

/** Parses a time cell (or "date clock" for split columns) to epoch ms, or null. */
export type TimeParser = (text: string) => number | null;

/** Header names tessdb, tessdb-server exports and tessdb-gaps use, lower case → field. */
const KNOWN: Record<string, CsvField> = {
  name: 'name',
  time: 'time',
  tstamp: 'time',
  timestamp: 'time',
  utc: 'time',
  seq: 'seq',
  sequence_number: 'seq',
  freq: 'freq',
  frequency: 'freq',
  freq1: 'freq',
  mag: 'mag',
  magnitude: 'mag',
  mag1: 'mag',
  tamb: 'tamb',
  ambient_temperature: 'tamb',
  box_temperature: 'tamb',
  tsky: 'tsky',
  sky_temperature: 'tsky',
  wdbm: 'wdbm',
  signal_strength: 'wdbm',
  rev: 'rev',
  azimuth: 'azimuth',
  az: 'azimuth',
  altitude: 'altitude',
  alt: 'altitude',
  longitude: 'longitude',
  long: 'longitude',
  latitude: 'latitude',
  lat: 'latitude',
  height: 'height',
  elevation: 'height',
  freq2: 'freq2',
  mag2: 'mag2',
  freq3: 'freq3',
  mag3: 'mag3',
  freq4: 'freq4',
  mag4: 'mag4',
  tstamp_src: 'tstamp_src',
  timestamp_source: 'tstamp_src',
};

const GAPS_COLUMNS = ['time', 'freq', 'mag', 'rev', 'seq', 'tamb', 'tsky', 'wdbm'];
export const DEFAULT_NAME_PATTERN = '^([A-Za-z0-9-]+)';

/** Strip quotes and blanks from a header cell; lower case when `lower`. */
export function headerKey(s: string, lower = true): string {
  const t = s.trim().replace(/^"(.*)"$/, '$1').trim();
  return lower ? t.toLowerCase() : t;
}

/** Split a line on `delimiter`, outside double quotes. */
export function splitLine(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === delimiter && !quoted) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** The delimiter of a header line: the most frequent of `,` `;` tab (outside quotes), or null when none occurs. */
export function detectDelimiter(line: string): string | null {
  let best: string | null = null;
  let bestCount = 0;
  for (const d of [',', ';', '\t']) {
    const n = splitLine(line, d).length - 1;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

/** The first `n` lines of the text that are neither empty nor comments. */
export function contentLines(text: string, n: number, comment = '#', skip = 0): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = skip; i < lines.length && out.length < n; i++) {
    const l = lines[i];
    if (l.trim() === '' || (comment !== '' && l.startsWith(comment))) continue;
    out.push(l);
  }
  return out;
}

/** A glob (`*`, `**`, `?`, `{a,b}`) as a regular expression over `/`-separated paths. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob.slice(i + 1, end).split(',').map((p) => p.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('|')})`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether `file` (absolute) matches `glob`: against the whole path when the glob has a `/`, else the base name. */
export function globMatches(glob: string, file: string): boolean {
  const p = file.split(path.sep).join('/');
  if (!glob.includes('/')) return globRegExp(glob).test(path.posix.basename(p));
  return globRegExp(glob).test(p) || globRegExp(glob).test(p.replace(/^\//, '')) || (!glob.startsWith('/') && globRegExp(`**/${glob}`).test(p));
}

/** The photometer name the file name gives (`stars1_2023-05.csv.gz` → `stars1`), or null. */
export function nameFromFile(file: string, pattern = DEFAULT_NAME_PATTERN): string | null {
  const m = new RegExp(pattern).exec(path.basename(file));
  const name = m?.[1] ?? m?.[0];
  return name ? name.trim().toLowerCase() : null;
}

// --- times -------------------------------------------------------------------------------------------

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset (ms) of IANA zone `tz` at UTC instant `ms`. */
function zoneOffset(tz: string, ms: number): number {
  let f = zoneFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    zoneFormats.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * A converter from wall-clock time in `timezone` (given as if it were UTC) to the real UTC instant.
 * `timezone`: "UTC", an offset ("+01:00", "-0300") or an IANA name. Throws on an unknown zone.
 */
export function wallClockToUtc(timezone: string): (wallMs: number) => number {
  const tz = timezone.trim();
  if (tz === '' || /^(utc|gmt|z|etc\/utc)$/i.test(tz)) return (ms) => ms;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (m) {
    const off = (m[1] === '+' ? 1 : -1) * (Number(m[2]) * 60 + Number(m[3])) * 60000;
    return (ms) => ms - off;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new Error(`unknown time zone "${tz}" (use an IANA name such as "Europe/Madrid", or "+01:00")`);
  }
  const cache = new Map<number, number>();
  return (wall) => {
    const hour = Math.floor(wall / 3_600_000);
    let off = cache.get(hour);
    if (off === undefined) {
      const guess = wall - zoneOffset(tz, wall);
      off = zoneOffset(tz, guess);
      if (cache.size > 10_000) cache.clear();
      cache.set(hour, off);
    }
    return wall - off;
  };
}

const HAS_ZONE = /(?:[Zz]|[+-]\d{2}:?\d{2})$/;

/** A strptime-like parser for `%Y %y %m %d %H %M %S %f %j` and literal text. */
function patternParser(pattern: string): (s: string) => number | null {
  let re = '';
  const parts: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '%' && i + 1 < pattern.length) {
      const k = pattern[++i];
      const g: Record<string, string> = { Y: '(\\d{4})', y: '(\\d{2})', m: '(\\d{1,2})', d: '(\\d{1,2})', H: '(\\d{1,2})', M: '(\\d{1,2})', S: '(\\d{1,2})', f: '(\\d+)', j: '(\\d{1,3})' };
      if (k === '%') re += '%';
      else if (g[k]) {
        re += g[k];
        parts.push(k);
      } else throw new Error(`time_format: unsupported directive %${k} (use %Y %y %m %d %H %M %S %f %j)`);
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}$`);
  return (s) => {
    const m = rx.exec(s);
    if (!m) return null;
    let y = 1970, mo = 1, d = 1, h = 0, mi = 0, sec = 0, ms = 0, doy = 0;
    parts.forEach((k, i) => {
      const v = m[i + 1];
      const n = Number(v);
      if (k === 'Y') y = n;
      else if (k === 'y') y = n < 70 ? 2000 + n : 1900 + n;
      else if (k === 'm') mo = n;
      else if (k === 'd') d = n;
      else if (k === 'H') h = n;
      else if (k === 'M') mi = n;
      else if (k === 'S') sec = n;
      else if (k === 'f') ms = Math.floor(Number(`0.${v}`) * 1000);
      else if (k === 'j') doy = n;
    });
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return null;
    const t = doy > 0 ? Date.UTC(y, 0, doy, h, mi, sec, ms) : Date.UTC(y, mo - 1, d, h, mi, sec, ms);
    const back = new Date(t);
    if (doy === 0 && (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)) return null; // 2023-02-30
    return t;
  };
}

/** The time parser of a format: `iso`, `unix`, `unix_ms`, `jd` or a `%` pattern, in `timezone` when the text has no zone. */
export function timeParser(format: string, timezone: string): TimeParser {
  const toUtc = wallClockToUtc(timezone);
  const f = format.trim();
  if (f === '' || f.toLowerCase() === 'iso') {
    return (s) => {
      const ms = parseTstampMs(s);
      return ms === null ? null : HAS_ZONE.test(s) ? ms : toUtc(ms);
    };
  }
  const numeric = (scale: number, offset = 0): TimeParser => (s) => {
    if (!/^[-+]?\d+(\.\d*)?([eE][-+]?\d+)?$/.test(s)) return null;
    const v = Number(s);
    return Number.isFinite(v) ? Math.round((v - offset) * scale) : null;
  };
  if (f === 'unix') return numeric(1000);
  if (f === 'unix_ms') return numeric(1);
  if (f === 'jd') return numeric(86_400_000, 2440587.5);
  const p = patternParser(f);
  return (s) => {
    const ms = p(s);
    return ms === null ? null : toUtc(ms);
  };
}

// --- plans -------------------------------------------------------------------------------------------

/** A configured format → plan (validated here: unknown zone, bad pattern, missing time or name mapping). */
export function configuredPlan(fmt: CsvFormatConfig, file: string): CsvPlan {
  const label = fmt.label || fmt.glob;
  const columns = new Map<string, CsvField>();
  for (const [k, v] of Object.entries(fmt.columns)) columns.set(fmt.header ? headerKey(k) : k.trim(), v);
  const fields = new Set(columns.values());
  if (!fields.has('time') && !(fields.has('date') && fields.has('clock'))) {
    throw new Error(`CSV format "${label}": no column is mapped to "time" (or to "date" and "clock")`);
  }
  if (!fields.has('freq') && !fields.has('mag')) throw new Error(`CSV format "${label}": no column is mapped to "freq" or "mag"`);
  let name: CsvPlan['name'];
  if (fmt.name_source === 'fixed') {
    if (!fmt.name) throw new Error(`CSV format "${label}": name_source = "fixed" needs name = "<photometer>"`);
    name = { kind: 'fixed', value: fmt.name.trim().toLowerCase() };
  } else if (fmt.name_source === 'file') {
    const n = nameFromFile(file, fmt.name_pattern || DEFAULT_NAME_PATTERN);
    if (!n) throw new Error(`CSV format "${label}": name_pattern ${JSON.stringify(fmt.name_pattern)} does not match the file name ${path.basename(file)}`);
    name = { kind: 'fixed', value: n };
  } else {
    if (!fields.has('name')) throw new Error(`CSV format "${label}": name_source = "column" but no column is mapped to "name"`);
    name = { kind: 'column' };
  }
  let time: TimeParser;
  try {
    time = timeParser(fmt.time_format, fmt.timezone);
  } catch (err) {
    throw new Error(`CSV format "${label}": ${(err as Error).message}`);
  }
  return {
    label,
    delimiter: fmt.delimiter,
    skipLines: fmt.skip_lines,
    header: fmt.header,
    comment: fmt.comment,
    decimalComma: fmt.decimal === ',',
    columns,
    time,
    name,
    tstampSource: fmt.tstamp_source,
  };
}

/**
 * The built-in layout of a header line, or a one-line reason why it is none. `file` gives the name when
 * the header has no `name` column.
 */
export function builtinPlan(headerLine: string, file: string): CsvPlan | string {
  const delimiter = detectDelimiter(headerLine);
  if (delimiter === null) return `the first line has no ",", ";" or tab separator (${JSON.stringify(headerLine.slice(0, 60))})`;
  const names = splitLine(headerLine, delimiter).map((s) => headerKey(s));
  const columns = new Map<string, CsvField>();
  for (const n of names) columns.set(n, KNOWN[n] ?? 'ignore');
  const fields = new Set(columns.values());
  if (!fields.has('time') || (!fields.has('freq') && !fields.has('mag'))) {
    return `header ${JSON.stringify(names.join(delimiter).slice(0, 120))} is neither a tessdb export (timestamp, frequency, magnitude, …) nor a tessdb-gaps capture (time,freq,mag,rev,seq,tamb,tsky,wdBm), and no [[csv.formats]] glob matches the file`;
  }
  const gaps = GAPS_COLUMNS.every((c) => names.includes(c));
  let name: CsvPlan['name'];
  if (fields.has('name')) name = { kind: 'column' };
  else {
    const n = nameFromFile(file);
    if (!n) return `no "name" column and no photometer name in the file name ${path.basename(file)}`;
    name = { kind: 'fixed', value: n };
  }
  return {
    label: gaps ? 'tessdb-gaps' : 'tessdb export',
    delimiter,
    skipLines: 0,
    header: true,
    comment: '#',
    decimalComma: false,
    columns,
    time: timeParser('iso', 'UTC'),
    name,
    tstampSource: 'subscriber',
  };
}
