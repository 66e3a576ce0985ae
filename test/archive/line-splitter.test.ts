import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter, type SplitLine } from '../../src/archive/line-splitter.js';

function splitAll(chunks: Buffer[], max?: number): { lines: SplitLine[]; tail: SplitLine | null } {
  const s = new LineSplitter(max);
  const lines: SplitLine[] = [];
  for (const c of chunks) lines.push(...s.push(c));
  return { lines, tail: s.end() };
}

describe('LineSplitter', () => {
  it('splits at every possible chunk boundary, including inside multi-byte characters', () => {
    const text = 'a€b\n\nñandú 𝄞\nlast';
    const buf = Buffer.from(text);
    for (let i = 0; i <= buf.length; i++) {
      for (let j = i; j <= buf.length; j++) {
        const { lines, tail } = splitAll([buf.subarray(0, i), buf.subarray(i, j), buf.subarray(j)]);
        assert.deepEqual(lines, ['a€b', '', 'ñandú 𝄞'], `cut at ${i},${j}`);
        assert.equal(tail, 'last');
      }
    }
  });

  it('returns no tail when the input ends with a newline', () => {
    assert.deepEqual(splitAll([Buffer.from('x\ny\n')]), { lines: ['x', 'y'], tail: null });
  });

  it('turns overlong lines into a marker and keeps going', () => {
    const { lines, tail } = splitAll([Buffer.from('ok\n' + 'x'.repeat(30)), Buffer.from('y'.repeat(30)), Buffer.from('z\nnext\n' + 'w'.repeat(50))], 40);
    assert.deepEqual(lines[0], 'ok');
    assert.deepEqual(lines[1], { overlong: 61, head: 'x'.repeat(30) + 'y'.repeat(30) });
    assert.equal(lines[2], 'next');
    assert.deepEqual(tail, { overlong: 50, head: 'w'.repeat(50) });
  });
});
