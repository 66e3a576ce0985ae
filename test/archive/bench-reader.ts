/**
 * Reader benchmark. Generates a realistic archive (N lines, default 500k) in a temp dir, then reads it in a
 * fresh child process (so generation garbage does not distort the read) three times and prints lines/s.
 *   node --import tsx test/archive/bench-reader.ts [lines]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { encodeArchiveLine } from '../../src/archive/encode-line.js';
import { openArchive } from '../../src/archive/reader.js';
import { readingMessage } from './bench-data.js';

async function generate(file: string, n: number): Promise<void> {
  async function* gen() {
    let buf: string[] = [];
    for (let i = 0; i < n; i++) {
      buf.push(encodeArchiveLine(readingMessage(i)));
      if (buf.length === 1000) {
        yield buf.join('');
        buf = [];
      }
    }
    if (buf.length) yield buf.join('');
  }
  await pipeline(Readable.from(gen()), zlib.createGzip({ level: 6 }), fs.createWriteStream(file));
}

async function readOnce(file: string): Promise<void> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { batches, stats } = openArchive(file);
  let n = 0;
  let check = 0;
  for await (const b of batches) {
    n += b.length;
    check += b[b.length - 1].message!.qos;
  }
  const s = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  const mb = fs.statSync(file).size / 1e6;
  console.log(
    `read ${n} lines in ${s.toFixed(2)} s = ${Math.round(n / s)} lines/s wall, ${Math.round(n / cpu)} lines per CPU-second ` +
      `(${mb.toFixed(1)} MB gz${check > 0 ? '' : ', ?'}; truncated=${stats.truncated}, invalid=${stats.invalid})`,
  );
}

if (process.argv[2] === '--read') {
  for (let run = 0; run < 3; run++) await readOnce(process.argv[3]);
} else {
  const n = Number(process.argv[2] ?? 500_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-bench-'));
  const file = path.join(dir, 'bench.ndjson.gz');
  try {
    await generate(file, n);
    const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    execFileSync(process.execPath, [...flags, '--import', 'tsx', fileURLToPath(import.meta.url), '--read', file], { stdio: 'inherit' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
