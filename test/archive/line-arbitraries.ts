/** fast-check arbitraries of archive lines and the generic path, for the fast-path tests (archive-fast, archive-scan). */
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
