/** One paced publisher thread of bench/mqtt.ts startPacedLoad: sends every `threads`-th message, reports progress. */
import { parentPort, workerData } from 'node:worker_threads';
import { connect, readingPayload, type PacedLoad } from './mqtt.js';

const load = workerData as PacedLoad & { k: number; threads: number };
const WINDOW = 2000;
const client = await connect(load.url, load.protocolVersion, `paced-${process.pid}-${load.k}-${Date.now()}`, true);
const started = performance.now();
const total = Math.floor(load.ratePerSecond * load.seconds);
let i = load.first + load.k;
let sent = 0;
let acked = 0;
let inflight = 0;
const report = () => parentPort!.postMessage({ sent, acked });
const timer = setInterval(report, 1000);
while (performance.now() - started < load.seconds * 1000) {
  const due = load.first + Math.min(total, Math.floor(((performance.now() - started) / 1000) * load.ratePerSecond));
  while (i < due && inflight < WINDOW) {
    inflight++;
    sent++;
    const body = readingPayload(load.topicPrefix, i, load.base + Math.floor(i / load.units) * 1000, load.units);
    client.publish(`${load.topicPrefix}/${load.topicPrefix}${i % load.units}/reading`, body, { qos: 1 }, (err) => {
      inflight--;
      if (!err) acked++;
    });
    i += load.threads;
  }
  await new Promise((r) => setTimeout(r, 20));
}
while (inflight > 0) await new Promise((r) => setTimeout(r, 50));
clearInterval(timer);
report();
await client.endAsync();
