/**
 * Writer benchmark: appends N realistic messages (default 500k), awaiting each append as the daemon does,
 * then closes; prints lines/s, the peak of bufferedBytes, and reads the result back.
 *   node --import tsx test/archive/bench-writer.ts [lines] [gzipLevel]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchiveWriter } from '../../src/archive/writer.js';
import { openArchive } from '../../src/archive/reader.js';
import { messageSource } from './bench-data.js';

const n = Number(process.argv[2] ?? 500_000);
const level = Number(process.argv[3] ?? 6);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-wbench-'));
try {
  const next = messageSource();
  const w = new ArchiveWriter({ dir, host: 'bench', rotate: 'daily', gzipLevel: level, now: () => new Date(1795000000000) });
  const closed: string[] = [];
  w.on('closed', (c) => closed.push(c.path));
  w.on('error', (e) => console.error('writer error', e));
  let peak = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const m = next(i);
    await w.append(m);
    const b = w.bufferedBytes;
    if (b > peak) peak = b;
  }
  await w.close();
  const s = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  const size = closed.reduce((a, p) => a + fs.statSync(p).size, 0);
  console.log(`wrote ${n} lines in ${s.toFixed(2)} s = ${Math.round(n / s)} lines/s wall, ${Math.round(n / cpu)} lines per CPU-second (gzip level ${level}, ${(size / 1e6).toFixed(1)} MB, peak buffered ${(peak / 1048576).toFixed(1)} MiB)`);
  let read = 0;
  for (const p of closed) for await (const b of openArchive(p).batches) read += b.length;
  if (read !== n) throw new Error(`read back ${read} lines, expected ${n}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
