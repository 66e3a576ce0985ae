/**
 * Writes realistic tessdb archives (design.md §2) for examples, tests and benchmarks:
 * N photometers × D days at one reading a minute, register events at boot (sent three times, as the
 * firmware does), a rename, a zero-point change, retained repeats after each reconnect, a few invalid
 * lines, and TESS4C units. Deterministic for a given seed.
 *
 *   npx tsx scripts/generate-archive.ts --out DIR [--photometers 10] [--days 1] [--start 2026-11-01] [--seed 1]
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export interface GenerateOptions {
  out: string;
  photometers: number;
  days: number;
  start: Date; // UTC midnight
  seed: number;
  invalidLines: boolean;
  /** Also write the expected readings as COPY text rows of the readings table (name_id = order of first appearance), for baselines. */
  copyRows?: string;
  gzipLevel?: number;
}

export interface GenerateResult {
  files: string[];
  readings: number; // valid, non-retained readings of registered units
  registers: number;
  retained: number;
  invalid: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const mac = (i: number) => `AA:BB:CC:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`.toUpperCase();
const iso = (t: number) => new Date(t).toISOString();
const hourName = (t: number) => iso(t).replace(/[-:]/g, '').slice(0, 11) + '0000Z';

export function generateArchive(o: GenerateOptions): GenerateResult {
  const random = rng(o.seed);
  const result: GenerateResult = { files: [], readings: 0, registers: 0, retained: 0, invalid: 0 };
  const units = Array.from({ length: o.photometers }, (_, i) => ({
    name: `stars${i + 1}`,
    mac: mac(i + 1),
    tess4c: i % 10 === 9,
    zp: Math.round(2040 + random() * 50) / 100,
    seq: 0,
    offsetS: Math.floor(random() * 60),
  }));
  const copyOut = o.copyRows ? fs.openSync(o.copyRows, 'w') : null;
  const nameIds = new Map<string, number>();
  let copyBuffer: string[] = [];
  const startMs = o.start.getTime();
  const hours = o.days * 24;
  const renameAt = Math.floor(hours / 2);
  for (let h = 0; h < hours; h++) {
    const hourStart = startMs + h * 3600_000;
    const lines: string[] = [];
    const push = (rx: number, topic: string, payload: unknown, retain = false) =>
      lines.push(JSON.stringify({ rx: iso(rx), topic, qos: 1, retain, payload }));
    if (h === 0 || h === renameAt) {
      for (const u of units) {
        if (h === renameAt && u === units[0]) u.name = `${u.name}r`; // a rename: same MAC, new name
        if (h === renameAt && u === units[1]) u.zp = Math.round((u.zp + 0.05) * 100) / 100; // a recalibration
        if (h === renameAt && u !== units[0] && u !== units[1]) continue;
        for (let k = 0; k < 3; k++) {
          push(hourStart + k * 1000, 'STARS4ALL/register', registerPayload(u));
          result.registers++;
        }
        u.seq = 0;
      }
    }
    if (h % 24 === 0 && h > 0) {
      // A reconnect: the broker replays every unit's retained last reading.
      for (const u of units) {
        push(hourStart + 500, `STARS4ALL/${u.name}/reading`, readingPayload(u, hourStart - 60_000, random), true);
        result.retained++;
      }
    }
    for (let m = 0; m < 60; m++) {
      for (const u of units) {
        const t = hourStart + m * 60_000 + u.offsetS * 1000 + 5000;
        u.seq++;
        const p = readingPayload(u, t, random);
        push(t + 150, `STARS4ALL/${u.name}/reading`, p);
        result.readings++;
        if (copyOut !== null) copyBuffer.push(copyRow(nameIds, u.name, t, p));
      }
    }
    if (o.invalidLines && h % 6 === 3) {
      lines.push('{"rx":"not a line of json"');
      lines.push(JSON.stringify({ rx: iso(hourStart + 30_000), topic: 'STARS4ALL/stars1/reading', qos: 1, retain: false, raw: 'garbled payload <0xff>' }));
      result.invalid += 2;
    }
    const file = path.join(o.out, iso(hourStart).slice(0, 10).replace(/-/g, '/'), `tessdb_gen_${hourName(hourStart)}.ndjson.gz`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n', { level: o.gzipLevel ?? 6 }));
    result.files.push(file);
    if (copyOut !== null) {
      fs.writeSync(copyOut, copyBuffer.join(''));
      copyBuffer = [];
    }
  }
  if (copyOut !== null) fs.closeSync(copyOut);
  return result;
}

/** One readings-table row in COPY text format, columns as src/load/encode.ts READING_COLUMNS. */
function copyRow(nameIds: Map<string, number>, name: string, t: number, p: Record<string, any>): string {
  if (!nameIds.has(name)) nameIds.set(name, nameIds.size + 1);
  const c = (k: string) => (p.F1 ? p[k]?.freq : undefined);
  const m = (k: string) => (p.F1 ? p[k]?.mag : undefined);
  const v = (x: unknown) => (x === undefined || x === null ? '\\N' : String(x));
  const cols = [
    nameIds.get(name), iso(t), 'publisher', 'mqtt', p.seq, p.freq ?? c('F1'), p.mag ?? m('F1'), p.tamb, p.tsky, p.wdBm, p.rev,
    null, null, null, null, null, c('F2'), m('F2'), c('F3'), m('F3'), c('F4'), m('F4'),
  ];
  return cols.map(v).join('\t') + '\n';
}

function registerPayload(u: { name: string; mac: string; tess4c: boolean; zp: number }) {
  if (u.tess4c) {
    const band = ['clear', 'red', 'green', 'blue'];
    return { name: u.name, mac: u.mac, rev: 1, F1: { band: band[0], calib: u.zp }, F2: { band: band[1], calib: u.zp }, F3: { band: band[2], calib: u.zp }, F4: { band: band[3], calib: u.zp } };
  }
  return { name: u.name, mac: u.mac, calib: u.zp, rev: 1, chan: 'STARS4ALL', firmware: 'Sep 21 2022' };
}

function readingPayload(u: { name: string; tess4c: boolean; seq: number }, t: number, random: () => number): Record<string, any> {
  const hour = new Date(t).getUTCHours();
  const day = hour >= 7 && hour < 18;
  const mag = day ? 0 : Math.round((18 + random() * 3) * 100) / 100;
  const freq = day ? 50000 : Math.round(random() * 30_000) / 1000;
  const base = { seq: u.seq, name: u.name, tamb: Math.round((5 + random() * 10) * 10) / 10, tsky: Math.round((-20 + random() * 10) * 10) / 10, wdBm: -60 - Math.floor(random() * 20), rev: 1, tstamp: iso(t).slice(0, 19) };
  if (u.tess4c) {
    const ch = () => ({ freq, mag, zp: 20.5 });
    return { ...base, F1: ch(), F2: ch(), F3: ch(), F4: ch() };
  }
  return { ...base, freq, mag };
}

function argValue(args: string[], flag: string, fallback: string): string {
  const i = args.indexOf(flag);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const args = process.argv.slice(2);
  const out = argValue(args, '--out', '');
  if (!out) {
    console.error('usage: generate-archive.ts --out DIR [--photometers N] [--days D] [--start YYYY-MM-DD] [--seed S] [--copy-rows FILE] [--no-invalid]');
    process.exit(2);
  }
  const r = generateArchive({
    out,
    photometers: Number(argValue(args, '--photometers', '10')),
    days: Number(argValue(args, '--days', '1')),
    start: new Date(`${argValue(args, '--start', '2026-11-01')}T00:00:00Z`),
    seed: Number(argValue(args, '--seed', '1')),
    invalidLines: !args.includes('--no-invalid'),
    copyRows: argValue(args, '--copy-rows', '') || undefined,
  });
  console.log(`${r.files.length} files, ${r.readings} readings, ${r.registers} register messages, ${r.retained} retained, ${r.invalid} invalid lines`);
}
