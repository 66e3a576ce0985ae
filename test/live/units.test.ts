/** The pure parts of `tessdb live`: connect options, topic filters, message decoding, queue and file bookkeeping. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeArchiveLine, encodeArchiveLine } from '../../src/archive/index.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { batchNote, FileTracker } from '../../src/live/file-records.js';
import { mqttSettings, NO_BROKER_MESSAGE, subscriptionFilters, toArchiveMessage } from '../../src/live/index.js';
import { LiveQueue, SeqRanges } from '../../src/live/queue.js';
import { classifyMessage } from '../../src/model/classify.js';
import type { ClassifiedMessage } from '../../src/model/types.js';
import { runCli } from '../helpers/cli.js';
import { removeDir, tempDir as makeTempDir } from './helpers.js';

const dirs: string[] = [];
function tempDir(label: string): string {
  const d = makeTempDir(label);
  dirs.push(d);
  return d;
}
after(() => dirs.forEach(removeDir));

function config(toml: string, env: NodeJS.ProcessEnv = {}): Config {
  const dir = tempDir('cfg');
  const file = path.join(dir, 'c.toml');
  fs.writeFileSync(file, toml);
  return loadConfig({ files: [file], env }).config;
}

describe('mqtt connect options', () => {
  it('refuse to start without a broker, saying how to configure one', () => {
    assert.throws(() => mqttSettings(config('')), { message: NO_BROKER_MESSAGE });
    assert.match(NO_BROKER_MESSAGE, /\[mqtt\]/);
    assert.match(NO_BROKER_MESSAGE, /TESSDB_MQTT_URL/);
  });

  it('use a fixed client id, a persistent v5 session and QoS-1-friendly defaults', () => {
    const s = mqttSettings(config('host = "pi4"\n[mqtt]\nurl = "mqtt://broker:1883"\nsession_expiry_s = 600\n'));
    assert.equal(s.clientId, 'tessdb-pi4');
    assert.equal(s.options.clientId, 'tessdb-pi4');
    assert.equal(s.options.clean, false);
    assert.equal(s.options.protocolVersion, 5);
    assert.deepEqual(s.options.properties, { sessionExpiryInterval: 600 });
    assert.equal(s.options.resubscribe, false);
    assert.equal(s.options.reconnectPeriod, 0);
  });

  it('take the password from a private file or TESSDB_MQTT_PASSWORD, never the command line', () => {
    const dir = tempDir('pw');
    const pw = path.join(dir, 'pw');
    fs.writeFileSync(pw, 's3cret\n', { mode: 0o600 });
    const fromFile = mqttSettings(config(`[mqtt]\nurl = "mqtts://b:8883"\nusername = "u"\npassword_file = ${JSON.stringify(pw)}\n`));
    assert.equal(fromFile.options.username, 'u');
    assert.equal(fromFile.options.password, 's3cret');
    const fromEnv = mqttSettings(config('[mqtt]\nurl = "mqtt://b"\n'), { TESSDB_MQTT_PASSWORD: 'envpw' });
    assert.equal(fromEnv.options.password, 'envpw');
    fs.chmodSync(pw, 0o644);
    assert.throws(() => mqttSettings(config(`[mqtt]\nurl = "mqtt://b"\npassword_file = ${JSON.stringify(pw)}\n`)), /readable by group or others/);
  });

  it('read TLS files and speak MQTT 3.1.1 when asked', () => {
    const dir = tempDir('tls');
    for (const f of ['ca.pem', 'c.pem', 'k.pem']) fs.writeFileSync(path.join(dir, f), `-----${f}-----\n`);
    fs.chmodSync(path.join(dir, 'k.pem'), 0o600);
    const s = mqttSettings(
      config(`[mqtt]\nurl = "mqtts://b:8883"\nprotocol_version = 4\nca = "${dir}/ca.pem"\ncert = "${dir}/c.pem"\nkey = "${dir}/k.pem"\n`),
    );
    assert.equal(String(s.options.ca), '-----ca.pem-----\n');
    assert.equal(String(s.options.cert), '-----c.pem-----\n');
    assert.equal(String(s.options.key), '-----k.pem-----\n');
    assert.equal(s.options.protocolVersion, 4);
    assert.equal(s.options.properties, undefined);
    assert.throws(() => mqttSettings(config(`[mqtt]\nurl = "mqtts://b"\nca = "${dir}/missing.pem"\n`)), /mqtt\.ca: cannot read/);
  });

  it('refuse TLS files with a plain mqtt:// URL, and a client key others can read', () => {
    const dir = tempDir('tls-refuse');
    for (const f of ['ca.pem', 'c.pem', 'k.pem']) fs.writeFileSync(path.join(dir, f), `-----${f}-----\n`);
    assert.throws(() => mqttSettings(config(`[mqtt]\nurl = "mqtt://b"\nca = "${dir}/ca.pem"\n`)), /mqtt\.ca is set but mqtt\.url uses mqtt:\/\/ \(no TLS\)/);
    fs.chmodSync(path.join(dir, 'k.pem'), 0o640);
    assert.throws(
      () => mqttSettings(config(`[mqtt]\nurl = "mqtts://b"\ncert = "${dir}/c.pem"\nkey = "${dir}/k.pem"\n`)),
      /mqtt\.key: private key file .*k\.pem is readable by group or others \(chmod 600/,
    );
  });

  it('prefix topics for MQTT v5 shared subscriptions', () => {
    assert.deepEqual(subscriptionFilters(['S/+/reading', 'S/register'], ''), ['S/+/reading', 'S/register']);
    assert.deepEqual(subscriptionFilters(['S/+/reading'], 'tessdb'), ['$share/tessdb/S/+/reading']);
  });

  it('the CLI prints one line and exits 1 without a broker', async () => {
    const r = await runCli(['live', 'database.url=postgres://nowhere.invalid/x']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /no MQTT broker configured/);
  });
});

describe('received message → record', () => {
  const rx = new Date('2026-11-22T15:04:05.123Z');
  const cases: [string, Buffer][] = [
    ['json', Buffer.from('{"name":"stars1","seq":1,"freq":1,"mag":2,"tamb":3,"tsky":4,"rev":2}')],
    ['json with CR/LF', Buffer.from('{"name":"stars1",\r\n"seq":1}')],
    ['not json', Buffer.from('hello {')],
    ['not utf-8', Buffer.from([0xff, 0xfe, 0x00, 0x41])],
    ['oversize', Buffer.from('{"x":"' + 'y'.repeat(5000) + '"}')],
    ['json null', Buffer.from('null')],
    ['big number', Buffer.from('{"seq":12345678901234567890}')],
  ];
  for (const [label, payload] of cases) {
    it(`is what the archive line decodes to: ${label}`, () => {
      for (const retain of [false, true]) {
        const input = { rx, topic: 'STARS4ALL/stars1/reading', qos: 1, retain, payload };
        const direct = toArchiveMessage(input, 1024);
        const replayed = decodeArchiveLine(encodeArchiveLine(input, 1024).trimEnd());
        assert.deepEqual(direct, replayed);
        assert.deepEqual(classifyMessage(direct), classifyMessage(replayed));
      }
    });
  }
});

describe('queue and file bookkeeping', () => {
  it('SeqRanges merges, overlaps and prunes', () => {
    const r = new SeqRanges();
    r.add(5, 7);
    r.add(8, 8);
    r.add(1, 2);
    assert.equal(r.size, 6);
    assert.ok(r.overlaps(2, 4) && r.overlaps(8, 20) && !r.overlaps(3, 4));
    assert.equal(r.countIn(2, 7), 4);
    assert.equal(r.countIn(9, 20), 0);
    assert.equal(r.firstAtOrAfter(0), 1);
    assert.equal(r.firstAtOrAfter(3), 5);
    assert.equal(r.firstAtOrAfter(6), 6);
    assert.equal(r.firstAtOrAfter(9), undefined);
    assert.equal(r.last, 8);
    assert.equal(new SeqRanges().last, undefined);
    r.prune(6);
    assert.ok(!r.overlaps(1, 6) && r.overlaps(7, 7));
  });

  it('a batch note keeps a stream of numbers as ranges, however many messages (bounded memory)', () => {
    const reading = { kind: 'reading' } as unknown as ClassifiedMessage;
    const retained = { kind: 'reject', reject: { reason: 'retained', name: null, day: new Date(0), detail: 'retained', sample: '' } } as const;
    const entries = Array.from({ length: 200_000 }, (_, i) => ({ seq: i + 1, rec: (i + 1) % 100_000 === 0 ? retained : reading }));
    const note = batchNote(entries, { inserted: 199_998, duplicates: 0, loaderRejected: 0 });
    assert.equal(note.readingCount, 199_998);
    assert.equal(note.readings.countIn(1, 200_000), 199_998);
    assert.equal(note.readings.countIn(100_000, 100_000), 0);
    assert.equal(note.rejects.length, 1);
    assert.equal(note.rejects[0].seqs.size, 2);
    assert.equal(note.readings.rangeCount, 2);
  });

  it('LiveQueue keeps what it holds on overflow and counts later messages as dropped until resumed', () => {
    const q = new LiveQueue(3);
    const rec = { kind: 'reject', reject: { reason: 'retained', name: null, day: new Date(0), detail: '', sample: '' } } as const;
    for (let seq = 1; seq <= 3; seq++) assert.ok(q.push({ seq, rec }));
    assert.equal(q.handledThrough, 0);
    assert.equal(q.push({ seq: 4, rec }), false);
    assert.equal(q.length, 3);
    assert.ok(q.dropping);
    q.remove(2);
    assert.equal(q.push({ seq: 5, rec }), false, 'still dropping while queued messages wait');
    assert.equal(q.handledThrough, 2);
    q.remove(1);
    assert.equal(q.handledThrough, 5);
    assert.ok(!q.dropped.overlaps(1, 3) && q.dropped.overlaps(4, 5) && q.dropped.size === 2);
    q.resume();
    assert.ok(q.push({ seq: 6, rec }));
    assert.equal(q.handledThrough, 5);
    q.remove(1);
    assert.equal(q.handledThrough, 6);
  });

  it('LiveQueue entries keep their own age: what is left after a batch is as old as it is', () => {
    const q = new LiveQueue(10);
    const rec = { kind: 'reject', reject: { reason: 'retained', name: null, day: new Date(0), detail: '', sample: '' } } as const;
    q.push({ seq: 1, rec, at: 100 });
    q.push({ seq: 2, rec, at: 200 });
    assert.equal(q.oldestAt, 100);
    q.remove(1);
    assert.equal(q.oldestAt, 200);
    q.remove(1);
    assert.equal(q.oldestAt, 0);
  });

  it('FileTracker maps closed files onto message numbers: recorded when loaded live, caught up when not', () => {
    const t = new FileTracker();
    const dropped = new SeqRanges();
    const closed = (name: string, lines: number) => ({ path: `/a/tessdb_h_${name}.ndjson.gz`, lines, bytes: 1, uncompressedBytes: 1, truncated: false });
    t.onClosed(closed('20261122T150000Z', 4)); // messages 1-4
    t.onClosed(closed('20261122T160000Z', 3)); // 5-7
    t.onClosed(closed('20261122T170000Z', 2)); // 8-9
    assert.equal(t.openFileFirstSeq, 10);
    const reading = { kind: 'reading' } as unknown as ClassifiedMessage;
    const bad = { kind: 'reject', reject: { reason: 'invalid_json', name: null, day: new Date(0), detail: 'payload is not JSON', sample: '' } } as const;
    const entries = [1, 2, 3, 4, 5, 6].map((seq) => ({ seq, rec: seq === 4 ? bad : reading }));
    t.noteBatch(batchNote(entries, { inserted: 5, duplicates: 0, loaderRejected: 0 }));
    assert.deepEqual(t.takeDue(3, dropped), []); // file 1 not yet fully handled
    const due = t.takeDue(6, dropped);
    assert.equal(due.length, 1);
    assert.equal(due[0].action, 'record');
    if (due[0].action === 'record') {
      assert.equal(due[0].record.lines, 4);
      assert.equal(due[0].record.inserted, 3);
      assert.equal(due[0].record.rejected, 1);
      assert.equal(due[0].record.inputErrors, 1);
      assert.equal(due[0].record.startedAt.toISOString(), '2026-11-22T15:00:00.000Z');
    }
    dropped.add(7, 7);
    const rest = t.takeDue(9, dropped);
    assert.deepEqual(rest.map((d) => d.action), ['catch-up', 'record']);
    t.distrust('disk full');
    assert.equal(t.openFileFirstSeq, undefined);
    t.onClosed(closed('20261122T180000Z', 1));
    assert.equal(t.takeDue(10, dropped)[0].action, 'catch-up');
  });
});
