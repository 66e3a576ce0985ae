import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { archiveFileName, archivePath, parseArchiveName, recoveredPath, sanitiseHost } from '../../src/archive/naming.js';
import { periodStartMs, rotationSeconds } from '../../src/archive/rotation.js';
import { isoUtc, putIsoUtc } from '../../src/util/iso-time.js';

describe('naming', () => {
  it('sanitises host names for file names', () => {
    assert.equal(sanitiseHost('aoc.stars4all.eu'), 'aoc.stars4all.eu');
    assert.equal(sanitiseHost('obs_pc/1 (main)'), 'obs-pc-1-main');
    assert.equal(sanitiseHost('../../etc'), 'etc');
    assert.equal(sanitiseHost('ñ'), 'unknown');
    assert.equal(sanitiseHost(''), 'unknown');
    assert.equal(sanitiseHost('x'.repeat(100)).length, 64);
  });

  it('builds and parses names', () => {
    const start = Date.UTC(2026, 10, 22, 15);
    assert.equal(archiveFileName('h', start), 'tessdb_h_20261122T150000Z.ndjson.gz');
    assert.equal(archiveFileName('h', start, 2), 'tessdb_h_20261122T150000Z_2.ndjson.gz');
    assert.equal(archivePath('/a', 'h', start), '/a/2026/11/22/tessdb_h_20261122T150000Z.ndjson.gz');
    assert.equal(recoveredPath('/a/x.ndjson.gz', 1), '/a/x_recovered.ndjson.gz');
    assert.equal(recoveredPath('/a/x.ndjson.gz', 3), '/a/x_recovered_3.ndjson.gz');
    assert.deepEqual(parseArchiveName('/a/2026/11/22/tessdb_aoc.x-1_20261122T150000Z_2_recovered_3.ndjson.gz.part'), {
      host: 'aoc.x-1',
      start: new Date(start),
      seq: 2,
      recovered: 3,
      part: true,
    });
    assert.deepEqual(parseArchiveName('tessdb_h_20261122T150000Z.ndjson.gz'), { host: 'h', start: new Date(start), seq: 0, recovered: 0, part: false });
    assert.equal(parseArchiveName('tessdb_h_20261122T150000Z_recovered.ndjson.gz')?.recovered, 1);
    assert.equal(parseArchiveName('tessdb_h_20261322T150000Z.ndjson.gz'), null);
    assert.equal(parseArchiveName('other.ndjson.gz'), null);
  });

  it('computes rotation periods', () => {
    assert.equal(rotationSeconds('hourly'), 3600);
    assert.equal(rotationSeconds('daily'), 86400);
    assert.equal(rotationSeconds({ seconds: 900 }), 900);
    assert.throws(() => rotationSeconds({ seconds: 1.5 }), RangeError);
    assert.throws(() => rotationSeconds('weekly' as 'daily'), RangeError);
    const t = Date.UTC(2026, 10, 22, 15, 47, 13, 999);
    assert.equal(periodStartMs(t, 3600), Date.UTC(2026, 10, 22, 15));
    assert.equal(periodStartMs(t, 86400), Date.UTC(2026, 10, 22));
    assert.equal(periodStartMs(t, 600), Date.UTC(2026, 10, 22, 15, 40));
  });
});

describe('isoUtc', () => {
  it('formats exactly like Date.toISOString', () => {
    const samples = [0, 1, 59_999, 60_000, 951_782_400_000, Date.UTC(2026, 10, 22, 15, 4, 5, 123), 253_402_300_799_999, 253_402_300_800_000, -1, -62_198_755_200_000];
    for (let i = 0; i < 20_000; i++) samples.push(Math.floor(Math.random() * 4_102_444_800_000));
    let t = Date.UTC(2026, 10, 22, 15, 59, 58, 990);
    for (let i = 0; i < 3000; i++) samples.push((t += 7)); // consecutive times sharing minutes
    samples.push(1.5, -86_400_001, 86_399_999.25); // fractional and negative times
    for (const ms of samples) assert.equal(isoUtc(ms), new Date(ms).toISOString(), String(ms));
    // putIsoUtc writes the same characters as bytes, in the middle of a buffer.
    const b = Buffer.alloc(64, 0x78);
    for (const ms of samples) {
      const end = putIsoUtc(b, 5, ms);
      assert.equal(b.toString('latin1', 5, end), new Date(ms).toISOString(), String(ms));
      assert.equal(b[4], 0x78);
    }
  });
});
