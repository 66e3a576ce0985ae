/**
 * Size limits on untrusted input. Live: 10 MB MQTT payloads (over archive.max_payload_bytes) are archived as
 * a 4 KiB prefix, counted as payload_too_large and never loaded, the daemon keeps running and loads the next
 * normal message. Files: a 10 MB line in an archive, IDA or CSV file is one counted `bad_line` reject with a
 * one-line message while the other lines load; a line far larger than the process's heap (gzip-compressed on
 * disk) is read under a heap cap, so it is never held whole.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import type { MqttClient } from 'mqtt';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { FIXTURES } from '../historical/helpers.js';
import { readingLines, registerLine } from '../ingest/helpers.js';
import {
  archiveFiles,
  migratedDatabase,
  newSetup,
  publish,
  publisher,
  readArchive,
  readingCount,
  readingPayload,
  registerAll,
  rejectsByReason,
  removeDir,
  spawnDaemon,
  startBroker,
  waitFor,
  writeLiveConfig,
  type TestBroker,
} from '../live/helpers.js';
import { worldDir } from './pg-server.js';

const TEN_MB = 10 * 1024 * 1024;
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

/** VmHWM (peak resident set) of a running process, in MiB. */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

describe('tessdb live and 10 MB MQTT payloads', () => {
  let broker: TestBroker;
  let db: TestDatabase;
  let pub: MqttClient;

  before(async () => {
    [broker, db] = await Promise.all([startBroker(), migratedDatabase('paylim')]);
    pub = await publisher(broker);
  });
  after(async () => {
    await pub?.endAsync(true).catch(() => undefined);
    await broker?.stop();
    await db?.drop();
  });

  it('archives a prefix, counts them, loads nothing of them, keeps running and loads the next message', async () => {
    const s = newSetup(broker, 'paylim');
    dirs.push(s.dir);
    const file = writeLiveConfig(s, { maxPayloadBytes: 262_144 }); // the default
    const d = spawnDaemon(file, db, ['-v']);
    const big = [
      JSON.stringify({ ...readingPayload('stars1', 1, Date.now()), pad: 'x'.repeat(TEN_MB) }),
      Buffer.alloc(TEN_MB, 0xff),
      'not json '.repeat(Math.ceil(TEN_MB / 9)),
    ];
    let peak = 0;
    try {
      await waitFor(() => `the subscription (stderr: ${d.stderr()})`, () => /MQTT subscribed/.test(d.stderr()), 30_000);
      await registerAll(pub, s.prefix, ['stars1']);
      const t0 = Date.now() + 1000;
      const topic = `${s.prefix}/stars1/reading`;
      // A valid reading padded to 10 MB, 10 MB of binary and 10 MB of text: none may be loaded.
      for (const p of big) await publish(pub, topic, p);
      await publish(pub, topic, readingPayload('stars1', 2, t0 + 1000));
      await waitFor('the normal reading', async () => (await readingCount(db.pool)) === 1, 60_000);
      await waitFor('the rejects counted', async () => (await rejectsByReason(db.pool)).payload_too_large === 3, 30_000);
      peak = peakRssMiB(d.child.pid!);
    } finally {
      d.child.kill('SIGTERM');
    }
    const exit = await d.exited;
    assert.equal(exit.code, 0, d.stderr());
    const { rows } = await db.pool.query('SELECT seq FROM readings');
    assert.deepEqual(rows, [{ seq: 2 }]);
    assert.match(d.stderr(), /rejected 3 .*\[payload_too_large 3\]/);
    const stats = await db.pool.query(`SELECT stats FROM live_stats WHERE host = $1 ORDER BY reported_at DESC LIMIT 1`, [s.host]);
    assert.equal(stats.rows[0].stats.rejected.payload_too_large, 3);

    // Archived: every message, the big ones as a 4 KiB prefix and their size.
    const archived = (await readArchive(s.archiveDir)).filter((m) => m.topic.endsWith('/reading'));
    assert.deepEqual(archived.map((m) => m.oversize ?? null), [...big.map((p) => Buffer.byteLength(p)), null]);
    for (const m of archived.slice(0, 3)) assert.equal(Buffer.from(m.payload as string, 'base64').length, 4096);
    const bytes = archiveFiles(s.archiveDir).reduce((n, f) => n + fs.statSync(f).size, 0);
    assert.ok(bytes < 100_000, `archive is ${bytes} bytes`);
    assert.ok(peak < 512, `daemon peak RSS ${peak.toFixed(0)} MiB`);
  });
});

/** Writes gzip-compressed `parts` (strings, or [text, times] repeated) without holding the whole text. */
async function gzipFile(file: string, parts: (string | [string, number])[]): Promise<string> {
  async function* text() {
    for (const p of parts) {
      if (typeof p === 'string') yield p;
      else for (let i = 0; i < p[1]; i++) yield p[0];
    }
  }
  await pipeline(Readable.from(text()), zlib.createGzip({ level: 1 }), fs.createWriteStream(file));
  return file;
}

describe('files with huge lines', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await freshDatabase('linelim');
    const r = await runCli(['setup', '-q'], { env: dbEnv(db.url) });
    assert.equal(r.code, 0, r.stderr);
    dir = worldDir('lines');
    dirs.push(dir);
  });
  after(async () => db?.drop());

  /** `tessdb ingest --file FILE` under a heap cap well below the giant lines' size; the file's reject counts and samples. */
  async function ingest(file: string): Promise<{ code: number; stderr: string; badLines: number; rejects: Record<string, number>; details: string }> {
    const r = await runCli(['ingest', '--file', file], { env: { ...dbEnv(db.url), NODE_OPTIONS: '--max-old-space-size=96' } });
    const { rows } = await db.pool.query<{ reason: string; n: string; details: string }>(
      `SELECT rc.reason, sum(rc.count) AS n, string_agg(rc.detail, E'\\n') AS details FROM reject_counts rc JOIN file_origins o USING (origin_id)
        WHERE o.path = $1 GROUP BY rc.reason`,
      [path.resolve(file)],
    );
    const rejects = Object.fromEntries(rows.map((x) => [x.reason, Number(x.n)]));
    const details = rows.find((x) => x.reason === 'bad_line')?.details ?? '';
    return { code: r.code, stderr: r.stderr, badLines: rejects.bad_line ?? 0, rejects, details };
  }

  const oneLineErrors = (stderr: string) => {
    assert.doesNotMatch(stderr, /heap|out of memory|RangeError/i);
    assert.match(stderr, /bad input line.*\(good rows loaded\)|the rest of the file was not read/);
    assert.ok(stderr.length < 20_000, `stderr is ${stderr.length} characters`);
    for (const l of stderr.split('\n')) assert.ok(l.length < 3000, `a ${l.length}-character log line`);
  };

  it('archive: a 10 MB line and a 256 MB line are counted rejects, the rest loads', async () => {
    const rx = '2026-11-01T00:00:30.000Z';
    const file = await gzipFile(path.join(dir, 'big.ndjson.gz'), [
      JSON.stringify(registerLine('stars1', 'AA:BB:CC:00:00:01', '2026-11-01T00:00:00.000Z')) + '\n',
      `{"rx":"${rx}","topic":"STARS4ALL/stars1/reading","qos":1,"retain":false,"payload":{"name":"stars1","pad":"`, ['x'.repeat(1 << 20), 10], '"}}\n',
      `{"rx":"${rx}","topic":"STARS4ALL/stars1/reading","qos":1,"retain":false,"payload":"`, ['y'.repeat(1 << 20), 256], '"}\n',
      ...readingLines('stars1', '2026-11-01T00:01:00', 2).map((l) => JSON.stringify(l) + '\n'),
    ]);
    const r = await ingest(file);
    assert.equal(r.code, 1, r.stderr); // loaded with errors
    oneLineErrors(r.stderr);
    assert.equal(await readingCount(db.pool), 2);
    assert.equal(r.badLines, 2);
    assert.match(r.stderr, /line 2: line too long \(10485\d{3} bytes\)/);
  });

  it('IDA: a 10 MB data line and a 256 MB one are counted rejects, the rest loads', async () => {
    const ida = fs.readFileSync(path.join(FIXTURES, 'ida', 'stars901_2023-05.dat'), 'utf8').split('\n');
    const end = ida.findIndex((l) => /END OF HEADER/.test(l));
    const dataLines = ida.slice(end + 1).filter((l) => l.trim() !== '');
    const file = await gzipFile(path.join(dir, 'stars901_2023-05.dat.gz'), [
      ida.slice(0, end + 1).join('\n') + '\n',
      dataLines[0] + '\n',
      ['z'.repeat(1 << 20), 10], '\n',
      ['z'.repeat(1 << 20), 256], '\n',
      dataLines.slice(1).join('\n') + '\n',
    ]);
    const before = await readingCount(db.pool);
    const r = await ingest(file);
    assert.equal(r.code, 1, r.stderr); // loaded with errors
    oneLineErrors(r.stderr);
    assert.equal((await readingCount(db.pool)) - before, dataLines.length, JSON.stringify(r.rejects));
    assert.equal(r.badLines, 2);
    assert.match(r.stderr, /line of 10485760 bytes is too long/);
    assert.match(r.stderr, /line of 268435456 bytes is too long/);
  });

  it('CSV: a 10 MB line and a 256 MB one are counted rejects; a runaway quote stops the file with one reject', async () => {
    const csv = fs.readFileSync(path.join(FIXTURES, 'csv', 'gaps-capture.csv'), 'utf8').split('\n').filter((l) => l !== '');
    const file = await gzipFile(path.join(dir, 'gaps-big.csv.gz'), [
      csv[0] + '\n' + csv[1] + '\n',
      'stars901,2023-05-02T02:09:03,2.80,19.80,1,', ['9'.repeat(1 << 20), 10], ',10.5,-10.5,-71\n',
      'stars901,2023-05-02T02:09:04,2.80,19.80,1,', ['8'.repeat(1 << 20), 256], ',10.5,-10.5,-71\n',
      csv.slice(2).join('\n') + '\n',
    ]);
    const before = await readingCount(db.pool);
    const r = await ingest(file);
    assert.equal(r.code, 1, r.stderr); // loaded with errors
    oneLineErrors(r.stderr);
    // stars902 of the fixture was never registered in this database: its rows are counted as unregistered.
    assert.equal((await readingCount(db.pool)) - before + (r.rejects.unregistered ?? 0), csv.length - 1, JSON.stringify(r.rejects));
    assert.equal(r.badLines, 2);
    assert.match(r.stderr, /line 3: line of 10485\d{3} bytes is too long/);
    assert.match(r.stderr, /line 4: line of 268435\d{3} bytes is too long/);

    // An opening quote that never closes would swallow the rest of the file into one record.
    const runaway = await gzipFile(path.join(dir, 'gaps-runaway.csv.gz'), [
      csv[0] + '\n' + csv[1] + '\n',
      'stars901,"2023-05-02T03:00:00,2.80,19.80,1,1,10.5,-10.5,-71\n',
      ['stars901,2023-05-02T03:00:01,2.80,19.80,1,2,10.5,-10.5,-71\n'.repeat(1000), 40], // 2.3 MB after the quote
    ]);
    const q = await ingest(runaway);
    assert.equal(q.code, 1, q.stderr); // loaded with errors
    oneLineErrors(q.stderr);
    assert.equal(q.badLines, 1);
    assert.match(q.details, /a record reaching this line is over 1048576 bytes \(an unclosed quote\?\); the rest of the file was not read/);
  });
});
