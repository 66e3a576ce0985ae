import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ArchiveWriter, type ArchiveWriterOptions, type ClosedArchive } from '../../src/archive/writer.js';
import { archiveFiles, listFiles, makeTmpDir, msg, readArchive, removeDir, seqs, sleep } from './helpers.js';

let dir: string;
beforeEach(async () => (dir = await makeTmpDir()));
afterEach(async () => removeDir(dir));

const T15 = Date.UTC(2026, 10, 22, 15, 4, 5, 123);

function clock(start: number): { now: () => Date; set(ms: number): void } {
  let t = start;
  return { now: () => new Date(t), set: (ms) => (t = ms) };
}

function writer(opts: Partial<ArchiveWriterOptions> = {}): { w: ArchiveWriter; closed: ClosedArchive[]; errors: Error[] } {
  const w = new ArchiveWriter({ dir, host: 'test-host', rotate: 'hourly', now: () => new Date(T15), ...opts });
  const closed: ClosedArchive[] = [];
  const errors: Error[] = [];
  w.on('closed', (c) => closed.push(c));
  w.on('error', (e) => errors.push(e));
  return { w, closed, errors };
}

const dayDir = (...p: string[]): string => path.join(dir, '2026', '11', '22', ...p);

describe('ArchiveWriter round trip', () => {
  it('archives JSON, text, binary, oversize, empty and multi-line payloads faithfully', async () => {
    const { w, closed } = writer({ maxPayloadBytes: 10_000 });
    const rx = new Date(T15);
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const big = Buffer.alloc(25_000, 0x61);
    big.write('{"huge":"', 0);
    const payloads: Buffer[] = [
      Buffer.from('{"seq":1,"name":"stars1","mag":20.51}'),
      Buffer.from('{\r\n  "seq": 2,\n  "n": 12345678901234567890,\n  "s": "a\\nb"\n}\n'),
      Buffer.from('hello\nworld, not JSON'),
      binary,
      big,
      Buffer.alloc(0),
      Buffer.from('42'),
      Buffer.from('null'),
      Buffer.from('{"seq":3,"t":"ñandú €"}'),
    ];
    for (const [i, payload] of payloads.entries()) {
      await w.append({ rx, topic: i === 8 ? 'STARS4ALL/ñandú/reading' : 'STARS4ALL/stars1/reading', qos: i % 3, retain: i === 2, payload });
    }
    await w.close();
    assert.equal(closed.length, 1);
    const file = closed[0].path;
    assert.equal(file, dayDir('tessdb_test-host_20261122T150000Z.ndjson.gz'));
    assert.deepEqual(listFiles(dir), ['2026/11/22/tessdb_test-host_20261122T150000Z.ndjson.gz']);

    const text = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
    const rawLines = text.split('\n');
    assert.equal(rawLines.pop(), '', 'file ends with a newline');
    assert.equal(rawLines.length, payloads.length, 'one line per message, even for payloads with newlines');
    assert.equal(rawLines[0], '{"rx":"2026-11-22T15:04:05.123Z","topic":"STARS4ALL/stars1/reading","qos":0,"retain":false,"payload":{"seq":1,"name":"stars1","mag":20.51}}');
    assert.ok(rawLines[1].includes('12345678901234567890'), 'JSON with newlines is embedded verbatim (big numbers survive)');

    const r = await readArchive(file);
    assert.equal(r.stats.invalid, 0);
    assert.equal(r.stats.truncated, false);
    const m = r.lines.map((l) => l.message!);
    assert.deepEqual(m[0], { rx, topic: 'STARS4ALL/stars1/reading', qos: 0, retain: false, payload: { seq: 1, name: 'stars1', mag: 20.51 } });
    assert.deepEqual(m[1].payload, JSON.parse(payloads[1].toString()));
    assert.equal(m[1].qos, 1);
    assert.deepEqual([m[2].payload, m[2].raw, m[2].retain, m[2].qos], ['hello\nworld, not JSON', 'utf8', true, 2]);
    assert.deepEqual([m[3].raw, Buffer.from(m[3].payload as string, 'base64')], ['base64', binary]);
    assert.deepEqual([m[4].raw, m[4].oversize], ['base64', 25_000]);
    assert.deepEqual(Buffer.from(m[4].payload as string, 'base64'), big.subarray(0, 4096));
    assert.deepEqual([m[5].payload, m[5].raw], ['', 'utf8']);
    assert.equal(m[6].payload, 42);
    assert.equal(m[7].payload, null);
    assert.equal(m[7].raw, undefined);
    assert.deepEqual(m[8].payload, { seq: 3, t: 'ñandú €' });
    assert.equal(m[8].topic, 'STARS4ALL/ñandú/reading');
  });

  it('produces files that still read correctly when concatenated', async () => {
    const { w: w1, closed: c1 } = writer();
    for (let i = 0; i < 100; i++) await w1.append(msg(i));
    await w1.close();
    const { w: w2, closed: c2 } = writer();
    for (let i = 100; i < 250; i++) await w2.append(msg(i));
    await w2.close();
    assert.match(c2[0].path, /_1\.ndjson\.gz$/, 'a second writer in the same period never reuses a name');
    const cat = path.join(dir, 'cat.ndjson.gz');
    fs.writeFileSync(cat, Buffer.concat([fs.readFileSync(c1[0].path), fs.readFileSync(c2[0].path)]));
    const r = await readArchive(cat);
    assert.deepEqual(seqs(r.lines), Array.from({ length: 250 }, (_, i) => i));
    assert.equal(r.stats.truncated, false);
  });

  it('reports closed files with their counts and sanitises the host', async () => {
    const { w, closed } = writer({ host: 'obs_pc/1 (main)' });
    for (let i = 0; i < 10; i++) await w.append(msg(i));
    await w.close();
    assert.equal(closed.length, 1);
    const c = closed[0];
    assert.equal(path.basename(c.path), 'tessdb_obs-pc-1-main_20261122T150000Z.ndjson.gz');
    assert.equal(c.lines, 10);
    assert.equal(c.bytes, fs.statSync(c.path).size);
    assert.equal(c.uncompressedBytes, zlib.gunzipSync(fs.readFileSync(c.path)).length);
    assert.equal(c.truncated, false);
    await assert.rejects(w.append(msg(11)), /closed/);
    await w.close(); // idempotent
  });

  it('rejects invalid messages without affecting the writer', async () => {
    const { w } = writer();
    await assert.rejects(w.append({ ...msg(1), rx: new Date(NaN) }), TypeError);
    await assert.rejects(w.append({ ...msg(1), payload: 'text' as unknown as Buffer }), TypeError);
    await w.append(msg(2));
    await w.close();
    assert.deepEqual(seqs((await readArchive(archiveFiles(dir)[0])).lines), [2]);
  });
});

describe('ArchiveWriter files on disk', () => {
  it('writes <name>.part while open, readable after a flush, renamed on close', async () => {
    const { w, closed } = writer({ flushMs: 60_000 });
    for (let i = 0; i < 100; i++) await w.append(msg(i));
    await w.flush();
    const part = dayDir('tessdb_test-host_20261122T150000Z.ndjson.gz.part');
    assert.deepEqual(listFiles(dir), ['2026/11/22/tessdb_test-host_20261122T150000Z.ndjson.gz.part']);
    // Crash right after the flush: what is on disk is a readable (truncated) archive with every flushed line.
    const crashed = path.join(dir, 'crash-copy.ndjson.gz');
    await fsp.copyFile(part, crashed);
    let r = await readArchive(crashed);
    assert.deepEqual(seqs(r.lines), Array.from({ length: 100 }, (_, i) => i));
    assert.equal(r.stats.invalid, 0);
    assert.equal(r.stats.truncated, true);
    assert.doesNotMatch(r.stats.truncatedDetail!, /partial/);
    for (let i = 100; i < 150; i++) await w.append(msg(i));
    await w.flush();
    r = await readArchive(part);
    assert.equal(r.lines.length, 150);
    await w.close();
    assert.equal(fs.existsSync(part), false);
    assert.equal(closed[0].path, part.slice(0, -'.part'.length));
    r = await readArchive(closed[0].path);
    assert.deepEqual(r.stats, { lines: 150, blank: 0, invalid: 0, bytesRead: closed[0].bytes, truncated: false });
  });

  it('flushes on the timer', async () => {
    const { w } = writer({ flushMs: 30 });
    for (let i = 0; i < 20; i++) await w.append(msg(i));
    const part = dayDir('tessdb_test-host_20261122T150000Z.ndjson.gz.part');
    await sleep(150);
    const r = await readArchive(part);
    assert.equal(r.lines.length, 20);
    await w.close();
  });

  it('rotates across an hour boundary on append', async () => {
    const c = clock(Date.UTC(2026, 10, 22, 15, 59, 59, 500));
    const { w, closed } = writer({ now: c.now, flushMs: 60_000 });
    for (let i = 0; i < 3; i++) await w.append(msg(i, c.now()));
    c.set(Date.UTC(2026, 10, 22, 16, 0, 0, 200));
    for (let i = 3; i < 5; i++) await w.append(msg(i, c.now()));
    await w.flush(); // also waits for the rotated file
    assert.equal(closed.length, 1);
    assert.equal(path.basename(closed[0].path), 'tessdb_test-host_20261122T150000Z.ndjson.gz');
    assert.deepEqual(listFiles(dir), ['2026/11/22/tessdb_test-host_20261122T150000Z.ndjson.gz', '2026/11/22/tessdb_test-host_20261122T160000Z.ndjson.gz.part']);
    await w.close();
    assert.deepEqual(seqs((await readArchive(closed[0].path)).lines), [0, 1, 2]);
    assert.deepEqual(seqs((await readArchive(closed[1].path)).lines), [3, 4]);
  });

  it('rotates on the flush timer without appends, and across days', async () => {
    const c = clock(Date.UTC(2026, 10, 22, 23, 59, 59, 0));
    const { w, closed } = writer({ now: c.now, flushMs: 20 });
    await w.append(msg(1, c.now()));
    c.set(Date.UTC(2026, 10, 23, 0, 0, 1, 0));
    for (let i = 0; i < 50 && closed.length === 0; i++) await sleep(20);
    assert.equal(closed.length, 1, 'the idle file is closed when its hour is over');
    assert.deepEqual(listFiles(dir), ['2026/11/22/tessdb_test-host_20261122T230000Z.ndjson.gz'], 'no empty file for the new hour');
    await w.append(msg(2, c.now()));
    await w.close();
    assert.deepEqual(listFiles(dir), ['2026/11/22/tessdb_test-host_20261122T230000Z.ndjson.gz', '2026/11/23/tessdb_test-host_20261123T000000Z.ndjson.gz']);
  });

  it('names files by the start of daily and custom periods', async () => {
    const c = clock(Date.UTC(2026, 10, 22, 15, 47, 13));
    const a = writer({ now: c.now, rotate: 'daily', host: 'a' });
    await a.w.append(msg(1));
    await a.w.close();
    const b = writer({ now: c.now, rotate: { seconds: 600 }, host: 'b' });
    await b.w.append(msg(1));
    await b.w.close();
    assert.deepEqual(listFiles(dir), ['2026/11/22/tessdb_a_20261122T000000Z.ndjson.gz', '2026/11/22/tessdb_b_20261122T154000Z.ndjson.gz']);
    assert.throws(() => new ArchiveWriter({ dir, host: 'x', rotate: { seconds: 0 } }), /invalid archive rotation/);
  });

  it('rotates by uncompressed size with _1, _2… successors', async () => {
    const { w, closed } = writer({ maxFileBytes: 4000 });
    for (let i = 0; i < 100; i++) await w.append(msg(i));
    await w.close();
    const names = closed.map((c) => path.basename(c.path));
    assert.ok(names.length >= 4, `several files (${names.length})`);
    assert.equal(names[0], 'tessdb_test-host_20261122T150000Z.ndjson.gz');
    names.slice(1).forEach((n, i) => assert.equal(n, `tessdb_test-host_20261122T150000Z_${i + 1}.ndjson.gz`));
    const all: number[] = [];
    for (const c of closed) {
      const size = zlib.gunzipSync(fs.readFileSync(c.path)).length;
      assert.ok(size <= 4000, `${path.basename(c.path)} has ${size} bytes`);
      assert.equal(size, c.uncompressedBytes);
      all.push(...seqs((await readArchive(c.path)).lines));
    }
    assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
  });

  it('keeps memory bounded while appending 200k messages', async () => {
    const bound = 512 * 1024;
    const { w, closed } = writer({ maxBufferedBytes: bound, gzipLevel: 1 });
    let peak = 0;
    let longest = 0;
    for (let i = 0; i < 200_000; i++) {
      const m = msg(i);
      longest = Math.max(longest, m.payload.length + 200);
      await w.append(m);
      peak = Math.max(peak, w.bufferedBytes);
    }
    await w.close();
    assert.ok(peak <= bound + longest, `peak buffered ${peak} bytes ≤ ${bound} + one line`);
    assert.ok(peak > bound / 4, `the bound was actually exercised (peak ${peak})`);
    assert.equal(w.bufferedBytes, 0);
    const r = await readArchive(closed[0].path);
    assert.equal(r.lines.length, 200_000);
    assert.equal(seqs(r.lines)[199_999], 199_999);
  });
});
