/** Baseline for the writer benchmark: the same lines through a bare zlib gzip stream in 64 KB writes. */
import zlib from 'node:zlib';
import { encodeArchiveLine } from '../../src/archive/encode-line.js';
import { readingMessage } from './bench-data.js';

const n = Number(process.argv[2] ?? 500_000);
const lines = Array.from({ length: n }, (_, i) => encodeArchiveLine(readingMessage(i)));
const t0 = performance.now();
const c0 = process.cpuUsage();
const gz = zlib.createGzip({ level: 6 });
let out = 0;
gz.on('data', (c: Buffer) => (out += c.length));
const done = new Promise((r) => gz.on('end', r));
let buf: string[] = [];
let bytes = 0;
for (const l of lines) {
  buf.push(l);
  bytes += l.length;
  if (bytes >= 65536) {
    if (!gz.write(Buffer.from(buf.join('')))) await new Promise((r) => gz.once('drain', r));
    buf = [];
    bytes = 0;
  }
}
gz.end(Buffer.from(buf.join('')));
await done;
const s = (performance.now() - t0) / 1000;
const cu = process.cpuUsage(c0);
const cpu = (cu.user + cu.system) / 1e6;
console.log(`baseline gzip (pre-encoded lines, 64 KB writes): ${Math.round(n / s)} lines/s wall, ${Math.round(n / cpu)} lines per CPU-second, ${(out / 1e6).toFixed(1)} MB`);
