/**
 * An MQTT broker for the live tests:
 * - TESSDB_TEST_MQTT_URL set: that broker (TESSDB_TEST_MQTT_PROTOCOL 4 or 5, default 5); it cannot be
 *   restarted by the tests, and tests must use unique topic prefixes and client ids (uniqueId()).
 * - else `mosquitto` from PATH on a free port with a temporary configuration, persistence on (so persistent
 *   sessions survive a broker restart);
 * - else an in-process aedes broker on a free port (MQTT 3.1.1 only: tests then use protocol_version 4).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestBroker {
  url: string;
  kind: 'external' | 'mosquitto' | 'aedes';
  /** Highest MQTT protocol version it speaks (aedes: 4). */
  protocolVersion: 4 | 5;
  canRestart: boolean;
  /** Stops the broker, waits `downMs`, starts it again on the same port with the same persistent state. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function uniqueId(label = 't'): string {
  return `${label}${crypto.randomBytes(4).toString('hex')}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error('broker exited during start-up');
    if (Date.now() > until) throw new Error(`broker did not listen on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startMosquitto(bin: string): Promise<TestBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-mosquitto-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'max_queued_messages 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
  ];
  // Started as root, mosquitto would switch to the "mosquitto" user, which cannot write our temp dir.
  if (process.getuid?.() === 0) lines.push(`user ${os.userInfo().username}`);
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  let child: ChildProcess | undefined;
  let log = '';
  const launch = async (): Promise<void> => {
    const c = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d) => (log += d));
    let exited = false;
    c.on('exit', () => (exited = true));
    child = c;
    try {
      await waitForPort(port, 5000, () => !exited);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${log}`);
    }
  };
  const halt = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM'); // mosquitto saves its persistence file on SIGTERM
    await exited;
  };
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'mosquitto',
    protocolVersion: 5,
    canRestart: true,
    async restart(downMs = 0) {
      await halt();
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async stop() {
      await halt();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startAedes(): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  // The first broker's in-memory persistence, handed to its successors, keeps sessions across restarts.
  let persistence: unknown;
  const port = await freePort();
  let current: { broker: InstanceType<typeof Aedes>; server: net.Server; sockets: Set<net.Socket> } | undefined;
  const launch = async (): Promise<void> => {
    const broker = await Aedes.createBroker(persistence ? { persistence } : {});
    persistence ??= (broker as unknown as { persistence: unknown }).persistence;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      broker.handle(s);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    current = { broker, server, sockets };
  };
  const halt = async (): Promise<void> => {
    const c = current;
    current = undefined;
    if (!c) return;
    const closed = new Promise((r) => c.server.close(r));
    for (const s of c.sockets) s.destroy();
    await closed;
    await new Promise<void>((r) => c.broker.close(() => r()));
  };
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'aedes',
    protocolVersion: 4,
    canRestart: true,
    async restart(downMs = 0) {
      await halt();
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    stop: halt,
  };
}

export async function startBroker(): Promise<TestBroker> {
  const external = process.env.TESSDB_TEST_MQTT_URL;
  if (external) {
    return {
      url: external,
      kind: 'external',
      protocolVersion: process.env.TESSDB_TEST_MQTT_PROTOCOL === '4' ? 4 : 5,
      canRestart: false,
      async restart() {
        throw new Error('an external broker (TESSDB_TEST_MQTT_URL) cannot be restarted by the tests');
      },
      async stop() {},
    };
  }
  const bin = onPath('mosquitto');
  if (bin) return startMosquitto(bin);
  return startAedes();
}
