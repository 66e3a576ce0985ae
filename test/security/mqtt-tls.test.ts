/**
 * TLS to the broker: a broker (mosquitto, else aedes over node's tls) with a certificate from a throwaway
 * CA (SAN DNS:localhost, IP:127.0.0.1). `tessdb live` with mqtt.ca connects, archives and loads; with a
 * wrong CA, or none (the system CAs do not know ours), it refuses and says why; a broker that requires
 * client certificates accepts tessdb's mqtt.cert/mqtt.key.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { loadConfig } from '../../src/config/index.js';
import { mqttSettings } from '../../src/live/index.js';
import type { TestDatabase } from '../helpers/db.js';
import {
  migratedDatabase,
  newSetup,
  publish,
  readArchive,
  readingCount,
  readingPayload,
  registerAll,
  removeDir,
  spawnDaemon,
  waitFor,
  writeLiveConfig,
  type DaemonProcess,
  type LiveSetup,
  type TestBroker,
} from '../live/helpers.js';
import { connectClient, startSecureBroker, type SecureBroker } from './brokers.js';
import { makeCa, makeServerCert, type CertFiles } from './certs.js';
import { worldDir } from './pg-server.js';

let certDir: string;
let ca: CertFiles;
let wrongCa: CertFiles;
let broker: SecureBroker;
let db: TestDatabase;
const dirs: string[] = [];

before(async () => {
  certDir = worldDir('mqtt-certs');
  ca = makeCa(certDir, 'ca');
  wrongCa = makeCa(certDir, 'wrong-ca');
  broker = await startSecureBroker({ tls: makeServerCert(certDir, ca, 'broker', ['DNS:localhost', 'IP:127.0.0.1']) });
  db = await migratedDatabase('mqtls');
});

after(async () => {
  await broker?.stop();
  await db?.drop();
  dirs.forEach(removeDir);
  if (certDir) removeDir(certDir);
});

/** A live setup whose config has these extra [mqtt] lines. */
function tlsSetup(label: string, mqttLines: string[]): { s: LiveSetup; file: string } {
  const s = newSetup(broker as unknown as TestBroker, label);
  dirs.push(s.dir);
  const file = writeLiveConfig(s);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('[mqtt]\n', `[mqtt]\n${mqttLines.join('\n')}\n`));
  return { s, file };
}

async function stop(d: DaemonProcess): Promise<number | null> {
  d.child.kill('SIGTERM');
  return (await d.exited).code;
}

describe('tessdb live over TLS', () => {
  it('with mqtt.ca it connects, archives and loads', async () => {
    const { s, file } = tlsSetup('tls-ok', [`ca = ${JSON.stringify(ca.cert)}`]);
    assert.match(broker.url, /^mqtts:\/\/localhost:/);
    const d = spawnDaemon(file, db);
    try {
      await waitFor(() => `the subscription (stderr: ${d.stderr()})`, () => /MQTT subscribed/.test(d.stderr()), 30_000);
      const pub = await connectClient(broker, { ca: fs.readFileSync(ca.cert) });
      await registerAll(pub, s.prefix, ['stars1']);
      await publish(pub, `${s.prefix}/stars1/reading`, readingPayload('stars1', 1, Date.now() + 1000));
      pub.end();
      await waitFor('the reading in the database', async () => (await readingCount(db.pool)) === 1, 30_000);
    } finally {
      assert.equal(await stop(d), 0, d.stderr());
    }
    const archived = await readArchive(s.archiveDir);
    assert.deepEqual(archived.map((m) => m.topic).sort(), [`${s.prefix}/register`, `${s.prefix}/stars1/reading`]);
    assert.match(d.stderr(), /MQTT connected to mqtts:\/\/localhost:\d+/);
  });

  it('with a CA that did not sign the broker’s certificate it refuses, says why, and receives nothing', async () => {
    const { s, file } = tlsSetup('tls-wrong', [`ca = ${JSON.stringify(wrongCa.cert)}`]);
    const before = await readingCount(db.pool);
    const d = spawnDaemon(file, db);
    try {
      await waitFor(() => `a TLS error (stderr: ${d.stderr()})`, () => /MQTT: .*certificate/.test(d.stderr()), 30_000);
      const pub = await connectClient(broker, { ca: fs.readFileSync(ca.cert) });
      await registerAll(pub, s.prefix, ['stars2']);
      pub.end();
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      assert.equal(await stop(d), 0, d.stderr());
    }
    const err = d.stderr();
    assert.match(err, /self[- ]signed certificate in certificate chain|unable to (verify the first|get local issuer) certificate/);
    assert.match(err, /certificate is not trusted: check mqtt\.ca/);
    assert.doesNotMatch(err, /MQTT connected/);
    assert.equal(await readingCount(db.pool), before);
    assert.deepEqual(await readArchive(s.archiveDir), []);
  });
});

describe('mqtt TLS settings (in-process, the options tessdb live uses)', () => {
  function connectWith(toml: string): Promise<string> {
    const dir = worldDir('mqtt-cfg');
    dirs.push(dir);
    const file = path.join(dir, 'c.toml');
    fs.writeFileSync(file, toml);
    const settings = mqttSettings(loadConfig({ files: [file], env: {} }).config, {});
    const c = mqtt.connect(settings.url, { ...settings.options, manualConnect: false, reconnectPeriod: 0, connectTimeout: 5000, clean: true });
    return new Promise((resolve) => {
      c.once('connect', () => (c.end(true), resolve('connected')));
      c.once('error', (err) => (c.end(true), resolve(err.message)));
      c.once('close', () => (c.end(true), resolve('closed')));
    });
  }

  it('without mqtt.ca the system CAs are used, and they do not trust a private CA', async () => {
    assert.match(await connectWith(`[mqtt]\nurl = ${JSON.stringify(broker.url)}\nprotocol_version = ${broker.protocolVersion}\n`), /self[- ]signed|unable to/);
  });

  it('a broker requiring client certificates accepts mqtt.cert + mqtt.key and refuses a client without them', async () => {
    const client = makeServerCert(certDir, ca, 'tessdb-client', [], 'clientAuth');
    const strict = await startSecureBroker({ tls: makeServerCert(certDir, ca, 'broker2', ['DNS:localhost']), clientCa: ca.cert });
    try {
      const base = `[mqtt]\nurl = ${JSON.stringify(strict.url)}\nprotocol_version = ${strict.protocolVersion}\nca = ${JSON.stringify(ca.cert)}\n`;
      assert.equal(await connectWith(`${base}cert = ${JSON.stringify(client.cert)}\nkey = ${JSON.stringify(client.key)}\n`), 'connected');
      assert.notEqual(await connectWith(base), 'connected');
    } finally {
      await strict.stop();
    }
  });
});
