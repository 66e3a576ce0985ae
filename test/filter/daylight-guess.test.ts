/**
 * The tentative flags carried across the batches of a transaction (src/filter/daylight-guess.ts):
 * a guess only, but the right one for a series that continues saturated from file to file.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DaylightGuess } from '../../src/filter/daylight-guess.js';
import { daylightFlags } from '../../src/filter/daylight.js';

type Row = { name: string; ms: number; saturated: boolean };
const rowsOf = (name: string, pattern: string, from = 0): Row[] => [...pattern].map((c, i) => ({ name, ms: (from + i) * 60_000, saturated: c === 's' }));
const show = (rows: Row[], flags: Uint8Array | null) => rows.map((r, i) => (flags?.[i] ? 'D' : r.saturated ? 's' : '.')).join('');

test('saturated neighbours assumed before the first batch and between batches, none after the last', () => {
  const guess = new DaylightGuess();
  const first = rowsOf('a', 'ssssssss');
  const second = rowsOf('a', 'ssss.sssssss', 8);
  assert.equal(show(first, guess.flags(first, false)), 'DDDDDDDD');
  assert.equal(show(second, guess.flags(second, true)), 'Dsss.sssDsss');
});

test('names are guessed apart; a batch without saturated rows flags nothing', () => {
  const guess = new DaylightGuess();
  const rows = [...rowsOf('a', '.......'), ...rowsOf('b', 'sss')];
  assert.equal(guess.flags(rows, true), null);
  const next = [...rowsOf('a', 'sssssss', 7), ...rowsOf('b', 'sss', 3)];
  // a: 0 saturated rows carried before; b: 3 carried, none after the last batch
  assert.equal(show(next, guess.flags(next, true)), 'sssDsss' + 'sss');
});

test('one batch, last: interior flags agree with the reference; the first 3 follow the saturated-start assumption', () => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { maxLength: 40 }), (sat) => {
      const rows = sat.map((s, i) => ({ name: 'a', ms: i, saturated: s }));
      const flags = new DaylightGuess().flags([...rows].reverse(), true);
      const got = [...rows].reverse().map((_, i) => flags?.[i] === 1).reverse();
      const expected = daylightFlags([0, 0, 0, ...sat.map((s) => (s ? 0 : 1))]).slice(3);
      assert.deepEqual(got, expected);
    }),
  );
});

test('a flag that assumed saturated rows after its batch is reported when the next batch disproves it', () => {
  const guess = new DaylightGuess();
  const first = rowsOf('a', 'sssssss');
  assert.equal(show(first, guess.flags(first, false)), 'DDDDDDD'); // the last 3 rely on 3 saturated rows to come
  const right = rowsOf('a', 'sss.', 7);
  guess.flags(right, false);
  assert.deepEqual([...guess.wrong], [], 'three saturated rows did follow');
  const other = new DaylightGuess();
  other.flags(first, false);
  other.flags(rowsOf('a', 'ss.ssss', 7), true); // the last row of the first batch assumed 3, only 2 came
  assert.deepEqual([...other.wrong], ['a']);
  const unflagged = new DaylightGuess();
  unflagged.flags(rowsOf('a', 'sssssss.'), false); // the end of the batch is not flagged: nothing assumed
  unflagged.flags(rowsOf('a', '.', 8), true);
  assert.deepEqual([...unflagged.wrong], []);
});
