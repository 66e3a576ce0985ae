/**
 * The IDA byte fast path (src/ingest/sources/ida-scan.ts → src/load/encode-scanned.ts) must read every
 * line exactly as the general path does: the same rows (COPY text), register events, rejects and counts,
 * for generated files mixing usual lines with every unusual spelling the format allows or breaks.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { idaSource } from '../../src/ingest/sources/ida-source.js';
import { colsText } from '../../src/load/encoded.js';
import { FIXTURES, tempDir } from './helpers.js';

const dir = tempDir('ida-fast');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The fixture's header (up to and including `# END OF HEADER`) and its field count. */
function header(fixture: string): { text: string; fields: number } {
  const lines = fs.readFileSync(path.join(FIXTURES, 'ida', fixture), 'utf8').split('\n');
  const end = lines.findIndex((l) => /^#\s*END OF HEADER/i.test(l));
  const data = lines[end + 1].split(';').filter((f) => f.trim() !== '');
  return { text: lines.slice(0, end + 1).join('\n') + '\n', fields: data.length };
}

const HEADERS = [header('stars901_2023-05.dat'), header('stars902_2019-03.dat'), header('stars903_2023-06.dat')];

const usual = fc.oneof(
  fc.integer({ min: -400, max: 400 }).map((n) => String(n / 10)),
  fc.integer({ min: 0, max: 99999 }).map((n) => String(n / 100)),
  fc.constant('0'),
);
const odd = fc.constantFrom('', ' 5', '5 ', '5.0', '19.50', '-0', '0.0', '1e3', '1E-46', '1e39', '1e400', '-1e400', '+5', '.5', '5.', '007', 'None', 'abc', '1234567890123456', '0.0000001', '-12.5');
const value = fc.oneof({ weight: 6, arbitrary: usual }, { weight: 1, arbitrary: odd });
const seq = fc.oneof({ weight: 6, arbitrary: fc.nat(100000).map(String) }, { weight: 1, arbitrary: fc.constantFrom('-3', '5.5', '6.0', '2147483648', '', 'x', '1e2') });

function time(i: number, how: number): string {
  const t = new Date(Date.UTC(2023, 4, 1, 20) + i * 60_000).toISOString();
  switch (how) {
    case 1:
      return t.slice(0, 19);
    case 2:
      return t.slice(0, 19).replace('T', ' ');
    case 3:
      return '2023-02-30T00:00:00.000';
    case 4:
      return ` ${t.slice(0, 23)}`;
    case 5:
      return '2014-01-01T00:00:00.000';
    default:
      return t.slice(0, 23);
  }
}

/** One data line of `fields` fields (the first two are times), sometimes with a field too many or too few, or a CR. */
const line = (fields: number) =>
  fc.tuple(fc.array(value, { minLength: fields, maxLength: fields }), seq, fc.nat(30), fc.nat(40)).map(([vals, s, timeHow, shape]) => {
    const f = vals.slice();
    f[0] = '';
    f[1] = '2023-05-01T22:00:00.000';
    if (fields === 8 || fields === 17) f[fields - 1] = s;
    return { f, timeHow: timeHow < 25 ? 0 : timeHow - 24, shape };
  });

function render(lines: { f: string[]; timeHow: number; shape: number }[]): string {
  return lines
    .map(({ f, timeHow, shape }, i) => {
      const fields = f.slice();
      fields[0] = time(i, timeHow);
      if (shape === 1) fields.pop();
      if (shape === 2) fields.push('');
      if (shape === 3) fields.push('9');
      let text = fields.join(';');
      if (shape === 4) text += '\r';
      if (shape === 5) text = `# a comment`;
      if (shape === 6) text = '';
      return text;
    })
    .join('\n');
}

async function read(file: string, fastPath: boolean) {
  const out: unknown[] = [];
  for await (const b of idaSource(file, { topicPrefix: 'STARS4ALL', batchLines: 50 }, { fastPath }).batches) {
    out.push({
      lines: b.lines,
      rows: (b.encoded ?? []).map((e) => [e.name, e.ms, e.saturated, colsText(e), e.badField]),
      readings: b.readings,
      registers: b.registers.map((r) => JSON.stringify(r)),
      rejects: b.rejects.map((r) => [r.reason, r.detail, r.name, r.day?.toISOString()]),
    });
  }
  return out;
}

test('IDA fast path: generated files read the same through the byte fast path and the general path', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.nat(HEADERS.length - 1).chain((h) => fc.tuple(fc.constant(h), fc.array(line(HEADERS[h].fields), { minLength: 1, maxLength: 80 }))),
      async ([h, lines]) => {
        const file = path.join(dir, `stars90${h + 1}_2023-05.dat`);
        fs.writeFileSync(file, HEADERS[h].text + render(lines) + '\n');
        assert.deepEqual(await read(file, true), await read(file, false));
        n++;
      },
    ),
    { numRuns: 300 },
  );
  assert.equal(n, 300);
});

test('IDA fast path: the fixtures read the same through both paths', async () => {
  for (const f of fs.readdirSync(path.join(FIXTURES, 'ida'))) {
    const file = path.join(FIXTURES, 'ida', f);
    assert.deepEqual(await read(file, true), await read(file, false), f);
  }
});
