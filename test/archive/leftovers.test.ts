import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { finaliseLeftovers } from '../../src/archive/leftovers.js';
import { ArchiveWriter } from '../../src/archive/writer.js';
import { listFiles, makeTmpDir, msg, readArchive, removeDir, seqs } from './helpers.js';

let dir: string;
beforeEach(async () => (dir = await makeTmpDir()));
afterEach(async () => removeDir(dir));

const T15 = Date.UTC(2026, 10, 22, 15, 4, 5, 123);
const day = (...p: string[]): string => path.join(dir, '2026', '11', '22', ...p);

/** Simulates a crash: a writer appends and flushes, then the process "dies" (the .part is copied away). */
async function crashedPart(host: string, n: number, hour = 15): Promise<string> {
  const scratch = await makeTmpDir();
  try {
    const w = new ArchiveWriter({ dir: scratch, host, rotate: 'hourly', now: () => new Date(Date.UTC(2026, 10, 22, hour, 1)), flushMs: 60_000 });
    for (let i = 0; i < n; i++) await w.append(msg(i, new Date(T15)));
    await w.flush();
    const [rel] = listFiles(scratch);
    const dest = path.join(dir, rel);
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.copyFile(path.join(scratch, rel), dest);
    await w.close();
    return dest;
  } finally {
    await removeDir(scratch);
  }
}

describe('finaliseLeftovers', () => {
  it('renames .part files to their final names; the (truncated) content stays readable', async () => {
    const p1 = await crashedPart('h', 50, 15);
    const p2 = await crashedPart('h', 7, 16);
    assert.match(p1, /tessdb_h_20261122T150000Z\.ndjson\.gz\.part$/);
    const done = await finaliseLeftovers(dir);
    assert.deepEqual(done, [day('tessdb_h_20261122T150000Z.ndjson.gz'), day('tessdb_h_20261122T160000Z.ndjson.gz')]);
    assert.equal(fs.existsSync(p1) || fs.existsSync(p2), false);
    const r = await readArchive(done[0]);
    assert.deepEqual(seqs(r.lines), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(r.stats.truncated, true);
    assert.deepEqual(await finaliseLeftovers(dir), [], 'nothing left the second time');
  });

  it('never overwrites an existing final file', async () => {
    const part = await crashedPart('h', 5);
    const final = part.slice(0, -'.part'.length);
    fs.writeFileSync(final, 'existing');
    const rec1 = day('tessdb_h_20261122T150000Z_recovered.ndjson.gz');
    const done = await finaliseLeftovers(dir);
    assert.deepEqual(done, [rec1]);
    assert.equal(fs.readFileSync(final, 'utf8'), 'existing');
    assert.equal((await readArchive(rec1)).lines.length, 5);
    // and again: the _recovered name is taken too
    await fsp.copyFile(rec1, part);
    assert.deepEqual(await finaliseLeftovers(dir), [day('tessdb_h_20261122T150000Z_recovered_2.ndjson.gz')]);
  });

  it('removes empty .part files and a .part that is a leftover hard link of its final file', async () => {
    fs.mkdirSync(day(), { recursive: true });
    fs.writeFileSync(day('tessdb_h_20261122T150000Z.ndjson.gz.part'), '');
    const part = await crashedPart('h', 3, 16);
    const final = part.slice(0, -'.part'.length);
    fs.linkSync(part, final); // crash between link() and unlink() of the no-clobber rename
    assert.deepEqual(await finaliseLeftovers(dir), []);
    assert.deepEqual(listFiles(dir), ['2026/11/22/tessdb_h_20261122T160000Z.ndjson.gz']);
  });

  it('can be limited to one host and ignores other files', async () => {
    await crashedPart('a', 2);
    await crashedPart('b_1', 2);
    fs.writeFileSync(path.join(dir, 'notes.txt.part'), 'x');
    assert.deepEqual(await finaliseLeftovers(dir, { host: 'b_1' }), [day('tessdb_b-1_20261122T150000Z.ndjson.gz')]);
    assert.deepEqual(await finaliseLeftovers(dir), [day('tessdb_a_20261122T150000Z.ndjson.gz')]);
    assert.ok(fs.existsSync(path.join(dir, 'notes.txt.part')));
    assert.deepEqual(await finaliseLeftovers(path.join(dir, 'missing')), []);
  });

  it('a writer started after finalisation continues with the next free name', async () => {
    await crashedPart('h', 2);
    await finaliseLeftovers(dir);
    const w = new ArchiveWriter({ dir, host: 'h', rotate: 'hourly', now: () => new Date(T15) });
    await w.append(msg(1));
    await w.close();
    assert.deepEqual(listFiles(dir), ['2026/11/22/tessdb_h_20261122T150000Z.ndjson.gz', '2026/11/22/tessdb_h_20261122T150000Z_1.ndjson.gz']);
  });
});
