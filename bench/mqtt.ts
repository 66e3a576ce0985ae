/** What the live benchmarks share: MQTT clients, paced publishing, payloads, registrations, RSS probes. */
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
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

/** What a paced publisher reports: messages sent, and the ones the broker acknowledged (PUBACK). */
export interface PublishProgress {
  sent: number;
  acked: number;
}

export interface PacedLoad {
  url: string;
  protocolVersion: 4 | 5;
  /** Topic of message i. */
  topicPrefix: string;
  units: number;
  /** First message number; the body of i is readingPayload(prefix, i, base + ⌊i/units⌋ s). */
  first: number;
  base: number;
  ratePerSecond: number;
  seconds: number;
}

/**
 * `threads` worker threads, each an mqtt.js QoS 1 publisher for every `threads`-th message, paced to its
 * share of the rate (at most 2,000 unacknowledged each). Counting PUBACKs tells what the broker took:
 * the reference for "lost", whatever a publisher could not send in time.
 */
export function startPacedLoad(load: PacedLoad, threads = 2): { progress(): PublishProgress; done: Promise<PublishProgress> } {
  const parts = Array.from({ length: threads }, () => ({ sent: 0, acked: 0 }));
  const workers = parts.map((part, k) => {
    const w = new Worker(new URL('./publisher-worker.mjs', import.meta.url), { workerData: { ...load, k, threads } });
    w.on('message', (p: PublishProgress) => Object.assign(part, p));
    return new Promise<void>((resolve, reject) => {
      w.once('error', reject);
      w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher thread exited ${code}`))));
    });
  });
  const progress = () => parts.reduce((a, p) => ({ sent: a.sent + p.sent, acked: a.acked + p.acked }), { sent: 0, acked: 0 });
  return { progress, done: Promise.all(workers).then(progress) };
}
