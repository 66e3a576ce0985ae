/**
 * fast-check arbitraries of archive lines and the generic path, for the fast-path tests (archive-fast,
 * archive-scan, the live receiver's scan-received), and `spell`: JSON text written the ways JSON allows but
 * JSON.stringify never does.
 */
import fc from 'fast-check';
import { decodeArchiveLine } from '../../src/archive/index.js';
import { encodedFromReading } from '../../src/load/encoded.js';
import { classifyMessage } from '../../src/model/index.js';
import { TESS4C_READING, TESSW_REV1, TESSW_REV2, TESSW_REV3 } from '../model/fixtures.js';

export const BASES: Record<string, unknown>[] = [TESSW_REV1, TESSW_REV2, TESSW_REV3, TESS4C_READING].map((p) => ({ ...(p as object), tstamp: '2026-11-01T20:00:00' }));

const oddValue = fc.oneof(
  fc.double(), fc.integer(), fc.constantFrom(null, 0, -0, 1e400, 3.5e38, 1e-39, 2 ** 31, -32769, '', '17.3', true, 'x', [], {}),
  fc.constantFrom('2026-11-01T20:00:00Z', '2026-11-01 20:00:00.123456+01:00', '2014-12-31T23:59:59', '2026-11-03T20:00:00', '2026-02-29T00:00:00', ' STARS1 ', 'Stars-2_x'),
  fc.constantFrom({ freq: 1.5, mag: 20 }, { freq: 2 }, { mag: 0, zp: 20.1 }, { freq: 0, mag: 0, band: 'R' }, { freq: 1e39, mag: 1 }), // TESS4C channels
);
const field = fc.constantFrom('seq', 'name', 'rev', 'freq', 'mag', 'tamb', 'tsky', 'wdBm', 'az', 'azi', 'alt', 'lat', 'long', 'height', 'tstamp', 'F1', 'F2', 'F4', 'text');
export const payload = fc
  .tuple(fc.constantFrom(...BASES), fc.array(fc.tuple(field, oddValue, fc.boolean()), { maxLength: 3 }))
  .map(([base, edits]) => {
    const p: Record<string, unknown> = structuredClone(base);
    for (const [k, v, remove] of edits) {
      if (remove) delete p[k];
      else p[k] = v;
    }
    return p;
  });
/** Mostly `usual`, sometimes one of `odd`. */
const mostly = <T>(usual: T, ...odd: T[]) => fc.oneof({ weight: 4, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
export const envelope = fc.record({
  rx: mostly<unknown>('2026-11-01T20:00:01.000Z', '2026-11-01T20:00:01.000Z', '2026-11-01T20:00:01Z', '2026-02-30T20:00:01.000Z', '2026-11-01T20:00:01.1x3Z', 5),
  topic: mostly('STARS4ALL/stars1/reading', 'STARS4ALL/register', 'STARS4ALL//reading', 'STARS4ALL/a/b/reading', 'OTHER/stars1/reading'),
  qos: mostly<unknown>(1, 0, 2, 3, undefined, '1'),
  retain: mostly<unknown>(false, true, undefined, 'false'),
  payload,
});


export const PREFIX = 'STARS4ALL';

/** What the generic path (decode → classify → encode) makes of a line: its encoded reading, or null. */
export function generic(line: string) {
  try {
    const c = classifyMessage(decodeArchiveLine(line), { topicPrefix: PREFIX });
    return c.kind === 'reading' ? encodedFromReading(c.reading) : null;
  } catch {
    return null;
  }
}

/** Choices that `spell` draws from, fixed per line by fast-check. */
export type Choices = number[];
/** One of 0…n-1, 0 (the usual spelling) three times out of four. */
const pick = (c: Choices, n: number) => {
  const r = (c.length ? c.shift()! : 0) % (4 * n);
  return r < n ? r : 0;
};

const BLANKS = ['', '', '', ' ', '\t', ' \r\n '];
/** JSON text of `v` with optional blanks, other spellings of numbers and escaped characters. */
export function spell(v: unknown, c: Choices): string {
  const blank = () => BLANKS[pick(c, BLANKS.length)];
  if (typeof v === 'number') return blank() + spellNumber(v, pick(c, 8)) + blank();
  if (typeof v === 'string') return blank() + spellString(v, pick(c, 6)) + blank();
  if (Array.isArray(v)) return `[${v.map((x) => spell(x, c)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    const extra = pick(c, 10);
    const zeroed = extra === 5 ? entries.findIndex(([, x]) => typeof x === 'number') : -1; // a value 0, spelled 0, -0, 0.0…
    if (zeroed >= 0) entries[zeroed][1] = 0;
    const parts = entries.map(([k, x]) => `${blank()}${spellString(k, pick(c, 6))}${blank()}:${spell(x, c)}`);
    if (extra === 1 && entries.length) parts.push(`"${entries[0][0]}":7`); // duplicate key: JSON.parse keeps the last
    if (extra === 2) parts.push('"note":"caf\u00e9 \\"x\\" \\u00e9"');
    if (extra === 3) parts.push('"nested":{"a":[1,2]}');
    if (extra === 4) parts.push('"flag":true,"off":false,"none":null');
    return `{${parts.join(',')}}`;
  }
  return blank() + JSON.stringify(v) + blank();
}

function spellNumber(v: number, how: number): string {
  if (!Number.isFinite(v)) return String(v === Infinity ? '1e400' : v === -Infinity ? '-1e400' : 'NaN');
  switch (how) {
    case 1:
      return Number.isInteger(v) ? `${v}.0` : String(v);
    case 2:
      return v.toExponential();
    case 3:
      return v.toExponential().toUpperCase().replace('E+', 'E');
    case 4:
      return v === 0 ? '-0' : v.toFixed(Math.min(20, Math.max(0, 10 - Math.floor(Math.log10(Math.abs(v) + 1)))));
    case 5:
      return v === Math.trunc(v) && Math.abs(v) < 1e15 ? `0${v}` : String(v); // invalid JSON: leading zero
    default:
      return JSON.stringify(v);
  }
}

function spellString(s: string, how: number): string {
  if (how === 1 && s.length > 0) return JSON.stringify(s).replace(/^"(.)/, (_, ch: string) => `"\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (how === 2 && s.length > 0) return `"${s.slice(0, 1)}\\/${s.slice(1)}"`; // a different string
  return JSON.stringify(s);
}
