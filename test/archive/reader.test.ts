import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { decodeArchiveLine, openArchive } from '../../src/archive/reader.js';
import { encodeArchiveLine } from '../../src/archive/encode-line.js';
import { archiveSource } from '../../src/ingest/sources/archive-source.js';
import { makeTmpDir, msg, readArchive, removeDir, seqs } from './helpers.js';

let dir: string;
before(async () => (dir = await makeTmpDir()));
after(async () => removeDir(dir));

const linesText = (from: number, to: number): string => {
  let s = '';
  for (let i = from; i < to; i++) s += encodeArchiveLine(msg(i, new Date(Date.UTC(2026, 10, 22, 15, 0, 0, i))));
  return s;
};

function writeGz(name: string, content: string | Buffer, opts: zlib.ZlibOptions = {}): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, zlib.gzipSync(content, opts));
  return p;
}

describe('decodeArchiveLine', () => {
  it('decodes a JSON payload line', () => {
    const m = decodeArchiveLine('{"rx":"2026-11-22T15:04:05.123Z","topic":"STARS4ALL/stars1/reading","qos":1,"retain":false,"payload":{"seq":3}}');
    assert.deepEqual(m, { rx: new Date('2026-11-22T15:04:05.123Z'), topic: 'STARS4ALL/stars1/reading', qos: 1, retain: false, payload: { seq: 3 } });
  });
  it('maps raw, raw_b64 and oversize', () => {
    const base = '"rx":"2026-11-22T15:04:05.123Z","topic":"t","qos":0,"retain":true';
    assert.deepEqual(decodeArchiveLine(`{${base},"raw":"hello"}`), { rx: new Date('2026-11-22T15:04:05.123Z'), topic: 't', qos: 0, retain: true, payload: 'hello', raw: 'utf8' });
    const b = decodeArchiveLine(`{${base},"raw_b64":"/wA="}`);
    assert.equal(b.raw, 'base64');
    assert.equal(b.payload, '/wA=');
    const o = decodeArchiveLine(`{${base},"oversize":300000,"raw_b64":"QUJD"}`);
    assert.equal(o.raw, 'base64');
    assert.equal(o.oversize, 300000);
    assert.equal(o.payload, 'QUJD');
  });
  it('keeps a null payload and defaults qos/retain', () => {
    const m = decodeArchiveLine('{"rx":"2026-11-22T15:04:05Z","topic":"t","payload":null}');
    assert.equal(m.payload, null);
    assert.equal(m.qos, 0);
    assert.equal(m.retain, false);
    assert.equal(m.rx.toISOString(), '2026-11-22T15:04:05.000Z');
  });
  it('rejects lines without rx/topic/payload or with bad fields', () => {
    assert.throws(() => decodeArchiveLine('{"topic":"t","payload":1}'), /missing or non-string "rx"/);
    assert.throws(() => decodeArchiveLine('{"rx":"2026-11-22T15:04:05Z","payload":1}'), /missing or non-string "topic"/);
    assert.throws(() => decodeArchiveLine('{"rx":"yesterday","topic":"t","payload":1}'), /invalid "rx"/);
    assert.throws(() => decodeArchiveLine('{"rx":"2026-11-22T15:04:05Z","topic":"t"}'), /missing "payload", "raw" or "raw_b64"/);
    assert.throws(() => decodeArchiveLine('{"rx":"2026-11-22T15:04:05Z","topic":"t","qos":7,"payload":1}'), /invalid "qos"/);
    assert.throws(() => decodeArchiveLine('[1,2]'), /not a JSON object/);
    assert.throws(() => decodeArchiveLine('{"rx": nope'), { name: 'ArchiveLineError', message: /^invalid JSON: / });
  });
  it('parses rx like new Date does, including the fast path edge cases', () => {
    for (const s of ['2024-02-29T23:59:59.999Z', '2026-02-30T00:00:00.000Z', '0050-01-01T00:00:00.000Z', '2026-11-22T15:04:05+01:00', '2026-11-22 15:04:05.5Z']) {
      const m = decodeArchiveLine(JSON.stringify({ rx: s, topic: 't', payload: 1 }));
      assert.equal(m.rx.getTime(), new Date(s).getTime(), s);
    }
  });
});

describe('openArchive', () => {
  it('reads a plain file in batches with line numbers', async () => {
    const p = writeGz('plain.ndjson.gz', linesText(0, 4500));
    const r = await readArchive(p);
    assert.equal(r.lines.length, 4500);
    assert.equal(r.batches, 3);
    assert.deepEqual(seqs(r.lines), Array.from({ length: 4500 }, (_, i) => i));
    assert.equal(r.lines[4499].lineNo, 4500);
    assert.deepEqual(r.stats, { lines: 4500, blank: 0, invalid: 0, bytesRead: fs.statSync(p).size, truncated: false });
    const small = await readArchive(p, 1000);
    assert.equal(small.batches, 5);
  });

  it('archiveSource skipLines: reads on after lines loaded before, not reading them again (garbage there is not seen)', async () => {
    const p = writeGz('skip.ndjson.gz', 'not json at all\n' + linesText(1, 3000));
    const source = archiveSource(p, { topicPrefix: 'STARS4ALL', batchLines: 1000, skipLines: 1200 });
    const read: number[] = [];
    const reasons = new Set<string>();
    let records = 0;
    const after: (number | undefined)[] = [];
    for await (const batch of source.batches) {
      read.push(batch.lines);
      for (const r of batch.rejects) reasons.add(r.reason);
      records += batch.rejects.length + batch.readings.length + (batch.encoded?.length ?? 0);
      after.push(source.stats().linesRead);
    }
    assert.deepEqual(read, [1000, 800]);
    assert.equal(records, 1800);
    assert.ok(!reasons.has('bad_line'), 'the skipped garbage line was not read');
    assert.deepEqual(after, [2200, 3000]);
    const window = archiveSource(p, { topicPrefix: 'STARS4ALL', batchLines: 1000, skipLines: 1200, untilLine: 2500 });
    const windowed: number[] = [];
    for await (const batch of window.batches) windowed.push(batch.lines);
    assert.deepEqual(windowed, [1000, 300]);
    assert.equal(window.stats().linesRead, 2500);
  });

  it('reads concatenated gzip members (two files cat-ed)', async () => {
    const a = writeGz('a.ndjson.gz', linesText(0, 1000));
    const b = writeGz('b.ndjson.gz', linesText(1000, 1500), { level: 1 });
    const c = path.join(dir, 'ab.ndjson.gz');
    fs.writeFileSync(c, Buffer.concat([fs.readFileSync(a), fs.readFileSync(b)]));
    const r = await readArchive(c);
    assert.deepEqual(seqs(r.lines), Array.from({ length: 1500 }, (_, i) => i));
    assert.equal(r.stats.truncated, false);
    assert.equal(r.stats.invalid, 0);
  });

  it('reads a member boundary that falls inside a line', async () => {
    const text = linesText(0, 10);
    const cut = text.length / 2 + 3;
    const p = path.join(dir, 'split-line.ndjson.gz');
    fs.writeFileSync(p, Buffer.concat([zlib.gzipSync(text.slice(0, cut)), zlib.gzipSync(text.slice(cut))]));
    const r = await readArchive(p);
    assert.deepEqual(seqs(r.lines), Array.from({ length: 10 }, (_, i) => i));
  });

  it('returns the clean prefix of a file truncated at any point, without throwing', async () => {
    const n = 20000;
    const full = zlib.gzipSync(linesText(0, n));
    const cuts = [1, 5, 10, 11, 100, 4096, Math.floor(full.length / 3), Math.floor(full.length / 2) + 7, full.length - 9, full.length - 4, full.length - 1];
    for (const cut of cuts) {
      const p = path.join(dir, `trunc-${cut}.ndjson.gz`);
      fs.writeFileSync(p, full.subarray(0, cut));
      const r = await readArchive(p);
      const got = seqs(r.lines);
      assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i), `prefix at cut ${cut}`);
      assert.equal(r.stats.invalid, 0, `no half lines at cut ${cut}`);
      assert.equal(r.stats.truncated, true, `truncated at cut ${cut}`);
      assert.match(r.stats.truncatedDetail!, new RegExp(`^truncated gzip stream after ${cut} bytes: unexpected end of file`));
      assert.equal(r.stats.bytesRead, cut);
      if (cut >= full.length - 9) assert.equal(got.length, n, 'a cut in the trailer loses nothing');
      if (cut === Math.floor(full.length / 2) + 7) {
        assert.ok(got.length > n / 4 && got.length < n, `about half the lines at the middle cut (${got.length})`);
        assert.match(r.stats.truncatedDetail!, /dropped a partial last line of \d+ bytes$/);
      }
    }
  });

  it('reports truncation of the second member of a concatenated file', async () => {
    const a = zlib.gzipSync(linesText(0, 100));
    const b = zlib.gzipSync(linesText(100, 200));
    const p = path.join(dir, 'trunc-second.ndjson.gz');
    fs.writeFileSync(p, Buffer.concat([a, b.subarray(0, 1)]));
    const r = await readArchive(p);
    assert.equal(r.lines.length, 100);
    assert.equal(r.stats.truncated, true);
  });

  it('treats an empty file as truncated with no lines', async () => {
    const p = path.join(dir, 'empty.ndjson.gz');
    fs.writeFileSync(p, '');
    const r = await readArchive(p);
    assert.equal(r.lines.length, 0);
    assert.equal(r.stats.truncated, true);
    assert.equal(r.stats.truncatedDetail, 'empty file: no gzip data');
  });

  it('reports corrupt compressed data as truncation, keeping what decoded before it', async () => {
    const full = zlib.gzipSync(linesText(0, 20000));
    const bad = Buffer.from(full);
    for (let i = Math.floor(bad.length * 0.6); i < Math.floor(bad.length * 0.6) + 64; i++) bad[i] ^= 0x5a;
    const p = path.join(dir, 'corrupt.ndjson.gz');
    fs.writeFileSync(p, bad);
    const r = await readArchive(p);
    // Corrupt deflate data may decode to some garbage before zlib notices: that comes out as invalid lines.
    const firstBad = r.lines.findIndex((l) => !l.message);
    const good = firstBad === -1 ? r.lines : r.lines.slice(0, firstBad);
    const got = seqs(good);
    assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i));
    assert.ok(got.length > 5000 && got.length < 20000, `kept ${got.length}`);
    assert.equal(r.stats.invalid, r.lines.length - good.length - r.lines.slice(good.length).filter((l) => l.message).length);
    assert.equal(r.stats.truncated, true);
    assert.match(r.stats.truncatedDetail!, /^corrupt gzip data within the first \d+ bytes: (invalid|incorrect)/);
  });

  it('skips and counts blank lines (also whitespace-only and CRLF)', async () => {
    const l = linesText(0, 3).split('\n');
    const p = writeGz('blank.ndjson.gz', `\n${l[0]}\n\n   \n${l[1]}\r\n\r\n${l[2]}\n\n`);
    const r = await readArchive(p);
    assert.deepEqual(seqs(r.lines), [0, 1, 2]);
    assert.deepEqual(r.lines.map((x) => x.lineNo), [2, 5, 7]);
    assert.equal(r.stats.lines, 8);
    assert.equal(r.stats.blank, 5);
    assert.equal(r.stats.invalid, 0);
  });

  it('yields garbage lines with error and raw, and continues', async () => {
    const l = linesText(0, 2).split('\n');
    const long = `{"rx": ${'x'.repeat(5000)}`;
    const p = writeGz('garbage.ndjson.gz', `${l[0]}\nthis is not json\n{"topic":"t","payload":1}\n${long}\n${l[1]}\n\u00ff\u0000binary`);
    const r = await readArchive(p);
    assert.equal(r.lines.length, 6);
    assert.deepEqual(r.lines.filter((x) => x.message).map((x) => x.lineNo), [1, 5]);
    const bad = r.lines.filter((x) => x.error);
    assert.deepEqual(bad.map((x) => x.lineNo), [2, 3, 4, 6]);
    assert.match(bad[0].error!, /^line 2: invalid JSON: /);
    assert.equal(bad[0].raw, 'this is not json');
    assert.equal(bad[1].error, 'line 3: missing or non-string "rx"');
    assert.equal(bad[2].raw!.length, 2000);
    assert.ok(!bad[2].error!.includes('\n') && bad[2].error!.length < 300);
    assert.match(bad[3].error!, /^line 6: invalid JSON/, 'an unterminated last line of a complete file is still a line');
    assert.deepEqual({ lines: r.stats.lines, invalid: r.stats.invalid, blank: r.stats.blank, truncated: r.stats.truncated }, { lines: 6, invalid: 4, blank: 0, truncated: false });
  });

  it('reads a last line without a trailing newline', async () => {
    const p = writeGz('nonl.ndjson.gz', linesText(0, 3).replace(/\n$/, ''));
    const r = await readArchive(p);
    assert.deepEqual(seqs(r.lines), [0, 1, 2]);
  });

  it('handles multi-byte UTF-8 split across decompressed chunks', async () => {
    let text = '';
    for (let i = 0; i < 3000; i++) text += encodeArchiveLine({ ...msg(i), topic: `STARS4ALL/ñandú-€-𝄞-${i}/reading` });
    const p = writeGz('utf8.ndjson.gz', text);
    const r = await readArchive(p);
    assert.equal(r.stats.invalid, 0);
    assert.equal(r.lines[2999].message!.topic, 'STARS4ALL/ñandú-€-𝄞-2999/reading');
  });

  it('rejects a file that is not gzip, naming the path', async () => {
    const p = path.join(dir, 'plain.ndjson');
    fs.writeFileSync(p, linesText(0, 3));
    await assert.rejects(readArchive(p), (e: Error) => e.message.includes(p) && /not a gzip file/.test(e.message));
  });

  it('rejects a file that cannot be opened, naming the path', async () => {
    const p = path.join(dir, 'missing.ndjson.gz');
    await assert.rejects(readArchive(p), (e: Error) => e.message.includes(p) && /ENOENT/.test(e.message));
    await assert.rejects(readArchive(dir), (e: Error) => e.message.includes(dir) && /EISDIR/.test(e.message));
  });

  it('does nothing before iteration, and batches are single use', async () => {
    const { batches } = openArchive(path.join(dir, 'never-opened.ndjson.gz'));
    const p = writeGz('once.ndjson.gz', linesText(0, 3));
    const a = openArchive(p);
    for await (const b of a.batches) assert.equal(b.length, 3);
    assert.throws(() => a.batches[Symbol.asyncIterator](), /single use/);
    void batches;
  });

  it('stops cleanly when the consumer breaks early', async () => {
    const p = writeGz('early.ndjson.gz', linesText(0, 10000));
    const { batches, stats } = openArchive(p, { batchLines: 100 });
    for await (const b of batches) {
      assert.equal(b.length, 100);
      break;
    }
    assert.ok(stats.lines >= 100 && stats.lines < 10000);
  });
});
