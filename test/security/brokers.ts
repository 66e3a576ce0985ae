/**
 * A broker with a TLS listener and/or password authentication for the security tests: mosquitto from
 * PATH with a temporary configuration, else aedes in-process (over node's tls.createServer for TLS;
 * MQTT 3.1.1 only). Plain brokers come from test/helpers/broker.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { freePort } from '../helpers/broker.js';
import type { CertFiles } from './certs.js';

export interface SecureBrokerOptions {
  /** Serve TLS with this certificate. */
  tls?: CertFiles;
  /** Require a client certificate signed by this CA (PEM file). */
  clientCa?: string;
  /** Require one of these username/password pairs. */
  users?: Record<string, string>;
}

export interface SecureBroker {
  url: string;
  kind: 'mosquitto' | 'aedes';
  protocolVersion: 4 | 5;
  /** What mosquitto wrote to stderr (empty for aedes). */
  log(): string;
  stop(): Promise<void>;
}

function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

async function waitForPort(port: number, alive: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error('broker exited during start-up');
    if (Date.now() > until) throw new Error(`broker did not listen on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startMosquitto(bin: string, o: SecureBrokerOptions): Promise<SecureBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-sec-mosquitto-'));
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning'];
  if (process.getuid?.() === 0) lines.push(`user ${os.userInfo().username}`);
  if (o.tls) lines.push(`certfile ${o.tls.cert}`, `keyfile ${o.tls.key}`);
  if (o.tls && o.clientCa) lines.push(`cafile ${o.clientCa}`, 'require_certificate true');
  if (o.users) {
    const file = path.join(dir, 'passwd');
    for (const [i, [user, password]] of Object.entries(o.users).entries()) {
      execFileSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', file, user, password], { stdio: 'ignore' });
    }
    fs.chmodSync(file, 0o600);
    lines.push('allow_anonymous false', `password_file ${file}`);
  } else {
    lines.push('allow_anonymous true');
  }
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  let log = '';
  const child: ChildProcess = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d) => (log += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await waitForPort(port, () => !exited);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    url: `${o.tls ? 'mqtts' : 'mqtt'}://${o.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    kind: 'mosquitto',
    protocolVersion: 5,
    log: () => log,
    async stop() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startAedes(o: SecureBrokerOptions): Promise<SecureBroker> {
  const { Aedes } = await import('aedes');
  const users = o.users;
  const broker = await Aedes.createBroker(
    users
      ? {
          authenticate: (_client, username, password, done) => {
            const ok = username !== undefined && users[username] !== undefined && String(password ?? '') === users[username];
            if (ok) return done(null, true);
            const err = Object.assign(new Error('bad username or password'), { returnCode: 4 });
            done(err as never, false);
          },
        }
      : {},
  );
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  const onSocket = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    broker.handle(s);
  };
  const server: net.Server = o.tls
    ? tls.createServer(
        {
          cert: fs.readFileSync(o.tls.cert),
          key: fs.readFileSync(o.tls.key),
          ...(o.clientCa ? { ca: fs.readFileSync(o.clientCa), requestCert: true, rejectUnauthorized: true } : {}),
        },
        onSocket,
      )
    : net.createServer(onSocket);
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `${o.tls ? 'mqtts' : 'mqtt'}://${o.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    kind: 'aedes',
    protocolVersion: 4,
    log: () => '',
    async stop() {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

export async function startSecureBroker(o: SecureBrokerOptions): Promise<SecureBroker> {
  const bin = process.env.TESSDB_TEST_MQTT_URL ? null : onPath('mosquitto');
  return bin ? startMosquitto(bin, o) : startAedes(o);
}

/** A connected test client (publisher) with these options; rejects on the first error. */
export async function connectClient(broker: SecureBroker, opts: IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(broker.url, { protocolVersion: broker.protocolVersion, reconnectPeriod: 0, clean: true, connectTimeout: 5000, ...opts });
  try {
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
      c.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
  } catch (err) {
    c.end(true);
    throw err;
  }
  c.on('error', () => undefined);
  return c;
}
