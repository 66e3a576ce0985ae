import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ArchiveWriter, type ArchiveFileHandle, type ArchiveFs, type ClosedArchive } from '../../src/archive/writer.js';
import { archiveFiles, listFiles, makeTmpDir, msg, readArchive, removeDir, seqs, sleep } from './helpers.js';

let dir: string;
beforeEach(async () => (dir = await makeTmpDir()));
afterEach(async () => removeDir(dir));

const T15 = Date.UTC(2026, 10, 22, 15, 4, 5, 123);

const errnoError = (code: string, syscall: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, syscall });

/**
 * A disk that can fill up: while `full`, a write stores half of its bytes (a short write) and the next one
 * fails with ENOSPC, like a real file system running out of space; `eio` makes fdatasync/fsync fail;
 * `glitch` makes the next write fail with ENOSPC ('fail') or store half of its bytes first ('short'), and
 * then space is back at once.
 */
function faultyDisk(): { fs: ArchiveFs; state: { full: boolean; eio: boolean; glitch: 'short' | 'fail' | null; failures: number } } {
  const state = { full: false, eio: false, glitch: null as 'short' | 'fail' | null, failures: 0 };
  const fs: ArchiveFs = {
    async open(p, flags) {
      const fh = await fsp.open(p, flags);
      let shortDone = false;
      const handle: ArchiveFileHandle = {
        async write(buf, offset, length, position) {
          if (state.glitch === 'short' && length > 1) {
            state.glitch = 'fail';
            return fh.write(buf, offset, Math.floor(length / 2), position);
          }
          if (state.glitch) {
            state.glitch = null;
            state.failures++;
            throw errnoError('ENOSPC', 'write');
          }
          if (!state.full) return fh.write(buf, offset, length, position);
          state.failures++;
          if (!shortDone && length > 1) {
            shortDone = true;
            return fh.write(buf, offset, Math.floor(length / 2), position);
          }
          throw errnoError('ENOSPC', 'write');
        },
        datasync: () => (state.eio ? (state.failures++, Promise.reject(errnoError('EIO', 'fdatasync'))) : fh.datasync()),
        sync: () => (state.eio ? (state.failures++, Promise.reject(errnoError('EIO', 'fsync'))) : fh.sync()),
        truncate: (len) => fh.truncate(len),
        close: () => fh.close(),
      };
      return handle;
    },
  };
  return { fs, state };
}

async function appendAll(w: ArchiveWriter, from: number, to: number): Promise<{ accepted: number[]; rejected: number[] }> {
  const accepted: number[] = [];
  const rejected: number[] = [];
  for (let i = from; i < to; i++) {
    try {
      await w.append(msg(i, new Date(T15), ',"pad":"' + 'x'.repeat(200) + '"'));
      accepted.push(i);
    } catch {
      rejected.push(i);
    }
  }
  return { accepted, rejected };
}

async function allSeqs(): Promise<{ seqs: number[]; truncatedFiles: number }> {
  const out: number[] = [];
  let truncatedFiles = 0;
  for (const f of archiveFiles(dir)) {
    const r = await readArchive(f);
    assert.equal(r.stats.invalid, 0, `${f} has no broken lines`);
    if (r.stats.truncated) truncatedFiles++;
    out.push(...seqs(r.lines));
  }
  return { seqs: out.sort((a, b) => a - b), truncatedFiles };
}

describe('ArchiveWriter disk errors', () => {
  it('ENOSPC: rejects and emits, keeps accepted lines, recovers when space is back — no loss, no duplicate', async () => {
    const disk = faultyDisk();
    const w = new ArchiveWriter({ dir, host: 'h', rotate: 'hourly', now: () => new Date(T15), fs: disk.fs, flushMs: 60_000, retryMs: 150 });
    const errors: NodeJS.ErrnoException[] = [];
    const closed: ClosedArchive[] = [];
    const recovered: number[] = [];
    w.on('error', (e) => errors.push(e));
    w.on('closed', (c) => closed.push(c));
    w.on('recovered', (r) => recovered.push(r.lines));

    const a = await appendAll(w, 0, 1000);
    assert.equal(a.rejected.length, 0);
    await w.flush();

    disk.state.full = true;
    const b = await appendAll(w, 1000, 2000); // ships to gzip → the write fails part-way through
    await assert.rejects(w.flush(), { code: 'ENOSPC' });
    await sleep(0);
    assert.ok(errors.length >= 1 && errors[0].code === 'ENOSPC', 'error event emitted');
    assert.ok(w.lastError);
    await assert.rejects(w.append(msg(5000)), { code: 'ENOSPC' }, 'append rejects while in the error state');

    await sleep(200); // retry due, but the disk is still full: the attempt fails again
    await assert.rejects(w.append(msg(5001)), { code: 'ENOSPC' });

    disk.state.full = false;
    await sleep(200);
    const c = await appendAll(w, 2000, 2100);
    assert.equal(c.rejected.length, 0, 'appends work again once space is back');
    assert.equal(recovered.length, 1);
    assert.equal(w.lastError, undefined);
    await w.close();

    assert.deepEqual(listFiles(dir).filter((f) => f.endsWith('.part')), [], 'no .part left');
    const accepted = [...a.accepted, ...b.accepted, ...c.accepted].sort((x, y) => x - y);
    const got = await allSeqs();
    assert.deepEqual(got.seqs, accepted, 'every accepted message exactly once; rejected ones absent');
    assert.ok(b.accepted.length > 0, 'some appends were accepted while the disk was full (buffered)');
    assert.ok(closed.some((f) => f.truncated), 'the failed file was cut back and closed as truncated');
    assert.equal(got.truncatedFiles, closed.filter((f) => f.truncated).length);
  });

  it('EIO on fdatasync: flush rejects, lines are rewritten into the next file', async () => {
    const disk = faultyDisk();
    const w = new ArchiveWriter({ dir, host: 'h', rotate: 'hourly', now: () => new Date(T15), fs: disk.fs, flushMs: 60_000, retryMs: 50 });
    const errors: Error[] = [];
    w.on('error', (e) => errors.push(e));
    const a = await appendAll(w, 0, 300);
    await w.flush();
    disk.state.eio = true;
    const b = await appendAll(w, 300, 600);
    await assert.rejects(w.flush(), { code: 'EIO' });
    disk.state.eio = false;
    await sleep(80);
    await w.flush(); // the retry: carried lines go to a fresh file
    const c = await appendAll(w, 600, 700);
    await w.close();
    await sleep(0);
    assert.equal(errors.length, 1);
    assert.deepEqual((await allSeqs()).seqs, [...a.accepted, ...b.accepted, ...c.accepted]);
    assert.equal(b.accepted.length, 300);
  });

  for (const glitch of ['fail', 'short'] as const) it(`a file cut back after a disk error (${glitch} write) is closed as a complete gzip stream when the disk takes its end`, async () => {
    const disk = faultyDisk();
    const w = new ArchiveWriter({ dir, host: 'h', rotate: 'hourly', now: () => new Date(T15), fs: disk.fs, flushMs: 60_000, retryMs: 50 });
    const closed: ClosedArchive[] = [];
    w.on('error', () => undefined);
    w.on('closed', (c) => closed.push(c));
    const a = await appendAll(w, 0, 600);
    await w.flush();
    disk.state.glitch = glitch; // the next write fails part-way through the stream; space is back right after
    const b = await appendAll(w, 600, 1200);
    await assert.rejects(w.flush(), { code: 'ENOSPC' });
    await sleep(80);
    await w.flush(); // the retry rewrites the kept lines into a fresh file
    const c = await appendAll(w, 1200, 1300);
    await w.close();
    const cut = closed.filter((f) => f.lines === a.accepted.length);
    assert.equal(cut.length, 1, 'the failed file was closed at its sync point');
    assert.equal(cut[0].truncated, false, 'its gzip stream was ended');
    for (const f of archiveFiles(dir)) {
      const text = zlib.gunzipSync(fs.readFileSync(f)).toString('utf8'); // a complete gzip member, CRC and length checked
      assert.ok(text.endsWith('\n'));
    }
    const got = await allSeqs();
    assert.equal(got.truncatedFiles, 0);
    assert.deepEqual(got.seqs, [...a.accepted, ...b.accepted, ...c.accepted]);
  });

  it('appends made while a recovery attempt runs wait for it, and reject when the disk is still full', async () => {
    const disk = faultyDisk();
    let slowOpen = false;
    const fs: ArchiveFs = {
      async open(p, flags) {
        if (slowOpen) await sleep(100); // the recovery attempt is under way meanwhile
        return disk.fs.open(p, flags);
      },
    };
    const w = new ArchiveWriter({ dir, host: 'h', rotate: 'hourly', now: () => new Date(T15), fs, flushMs: 60_000, retryMs: 20 });
    w.on('error', () => undefined);
    const a = await appendAll(w, 0, 300);
    await w.flush();
    disk.state.full = true;
    const b = await appendAll(w, 300, 600);
    await assert.rejects(w.flush(), { code: 'ENOSPC' });
    slowOpen = true;
    await sleep(40);
    const attempt = w.flush(); // starts the recovery attempt (due): a fresh file, opened slowly, then its sync fails
    attempt.catch(() => undefined);
    await sleep(30); // the attempt is opening its file
    await assert.rejects(w.append(msg(5000)), { code: 'ENOSPC' }, 'not accepted while the attempt may still fail');
    await assert.rejects(attempt, { code: 'ENOSPC' });
    disk.state.full = false;
    await sleep(40);
    await w.append(msg(5001)); // this attempt succeeds; the append goes in after it
    await w.close();
    assert.deepEqual((await allSeqs()).seqs, [...a.accepted, ...b.accepted, 5001]);
  });

  it('close() reports lines it could not persist', async () => {
    const disk = faultyDisk();
    const w = new ArchiveWriter({ dir, host: 'h', rotate: 'hourly', now: () => new Date(T15), fs: disk.fs, flushMs: 60_000 });
    w.on('error', () => undefined);
    await appendAll(w, 0, 10);
    disk.state.eio = true;
    await assert.rejects(w.close(), /closed with 10 lines not persisted: EIO/);
  });

  it('recovers from a failure to create the file (e.g. read-only directory) on the timer', async () => {
    let deny = true;
    const fs: ArchiveFs = {
      open: (p, flags) => (deny ? Promise.reject(errnoError('EROFS', 'open')) : fsp.open(p, flags)),
    };
    const w = new ArchiveWriter({ dir, host: 'h', rotate: 'hourly', now: () => new Date(T15), fs, flushMs: 20, retryMs: 20 });
    const errors: Error[] = [];
    w.on('error', (e) => errors.push(e));
    await w.append(msg(1));
    await assert.rejects(w.flush(), { code: 'EROFS' });
    deny = false;
    for (let i = 0; i < 100 && w.lastError; i++) await sleep(20); // the timer retries and writes the kept line
    assert.equal(w.lastError, undefined);
    await w.append(msg(2));
    await w.close();
    assert.ok(errors.length >= 1);
    assert.deepEqual((await allSeqs()).seqs, [1, 2]);
  });
});
