/** What the live benchmarks share: MQTT clients, paced publishing, payloads, registrations, RSS probes. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import mqtt from 'mqtt';

export async function connect(url: string, protocolVersion: 4 | 5, clientId: string, clean: boolean): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { clientId, clean, protocolVersion, reconnectPeriod: 0, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

/** A reading of unit `i % units` (names `<prefix><unit>`), time `t`. */
export function readingPayload(prefix: string, i: number, t: number, units: number): string {
  return JSON.stringify({
    seq: i, name: `${prefix}${i % units}`, freq: 12.345, mag: 19.5 + (i % 100) / 100, tamb: 9.5, tsky: -14.2, rev: 1, wdBm: -70,
    tstamp: new Date(t).toISOString().replace('Z', ''),
  });
}

/** Registers units `<prefix>0` … `<prefix><units-1>` (QoS 1). */
export async function registerUnits(c: mqtt.MqttClient, prefix: string, units: number): Promise<void> {
  for (let u = 0; u < units; u++) {
    const mac = `AA:BB:CC:DD:${(u >> 8).toString(16).padStart(2, '0')}:${(u & 255).toString(16).padStart(2, '0')}`;
    await c.publishAsync(`${prefix}/register`, JSON.stringify({ name: `${prefix}${u}`, mac, calib: 20.5, rev: 1 }), { qos: 1 });
  }
}

/** Publish with QoS 1, at most `window` unacknowledged at a time. */
export async function publishMany(c: mqtt.MqttClient, topic: (i: number) => string, body: (i: number) => string, from: number, count: number, window = 500): Promise<void> {
  let inflight: Promise<unknown>[] = [];
  for (let i = from; i < from + count; i++) {
    inflight.push(c.publishAsync(topic(i), body(i), { qos: 1 }));
    if (inflight.length >= window) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
}

/** Resident set size of `pid` now and its peak so far (VmRSS / VmHWM), in MB; zeros once it has exited. */
export function rssOf(pid: number | undefined): { nowMb: number; peakMb: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { nowMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return { nowMb: 0, peakMb: 0 };
  }
}

/** A paced QoS 1 publisher: `send` returns false while it cannot take more (backpressure). */
export interface PacedPublisher {
  kind: string;
  send(topic: string, body: string): boolean;
  /** Resolves once everything sent is acknowledged by the broker. */
  close(): Promise<void>;
}

/**
 * `mosquitto_pub -l` (one message per stdin line, QoS 1) when it is on PATH: C publishers leave the CPU
 * to the daemon under test; `processes` of them, round-robin, because each waits on its own small
 * in-flight window. Their topic is fixed; the readings name their unit in the payload.
 * Else one mqtt.js client with at most `maxInflight` unacknowledged messages.
 */
export async function pacedPublisher(url: string, protocolVersion: 4 | 5, topic: string, clientId: string, processes = 4, maxInflight = 5000): Promise<PacedPublisher> {
  const u = new URL(url);
  const bin = ['/usr/bin/mosquitto_pub', '/usr/local/bin/mosquitto_pub'].find((p) => fs.existsSync(p));
  if (bin && u.protocol === 'mqtt:') {
    const pipes = Array.from({ length: processes }, (_, k) => mosquittoPub(bin, u, protocolVersion, topic, `${clientId}-${k}`));
    let turn = 0;
    return {
      kind: `${processes} × mosquitto_pub -l`,
      send(_topic, body) {
        for (let tries = 0; tries < pipes.length; tries++) {
          const p = pipes[turn++ % pipes.length];
          if (p.send(body)) return true;
        }
        return false;
      },
      async close() {
        await Promise.all(pipes.map((p) => p.close()));
      },
    };
  }
  const c = await connect(url, protocolVersion, clientId, true);
  let inflight = 0;
  return {
    kind: 'mqtt.js',
    send(t, body) {
      if (inflight >= maxInflight) return false;
      inflight++;
      c.publish(t, body, { qos: 1 }, () => inflight--);
      return true;
    },
    async close() {
      while (inflight > 0) await new Promise((r) => setTimeout(r, 50));
      await c.endAsync();
    },
  };
}

function mosquittoPub(bin: string, u: URL, protocolVersion: 4 | 5, topic: string, clientId: string): { send(body: string): boolean; close(): Promise<void> } {
  const child = spawn(bin, ['-h', u.hostname, '-p', u.port || '1883', '-q', '1', '-l', '-t', topic, '-i', clientId, '-V', protocolVersion === 5 ? 'mqttv5' : 'mqttv311'], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let full = false;
  child.stdin.on('drain', () => (full = false));
  return {
    send(body) {
      if (full) return false;
      full = !child.stdin.write(body + '\n');
      return true;
    },
    async close() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`mosquitto_pub exited ${code}`);
    },
  };
}
