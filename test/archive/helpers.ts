/** Shared helpers for the archive tests: temp dirs, reading whole archives, listing files. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openArchive, type ArchiveLine, type ArchiveReadStats } from '../../src/archive/reader.js';

export async function makeTmpDir(prefix = 'tessdb-archive-test-'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
}

export interface ReadResult {
  lines: ArchiveLine[];
  stats: ArchiveReadStats;
  batches: number;
}

/** Reads a whole archive into memory (tests only). */
export async function readArchive(file: string, batchLines?: number): Promise<ReadResult> {
  const { batches, stats } = openArchive(file, { batchLines });
  const lines: ArchiveLine[] = [];
  let n = 0;
  for await (const b of batches) {
    n++;
    lines.push(...b);
  }
  return { lines, stats, batches: n };
}

/** All files under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => fs.statSync(path.join(dir, p)).isFile())
    .sort();
}

/** Absolute paths of the final (non-.part) archive files under `dir`. */
export function archiveFiles(dir: string): string[] {
  return listFiles(dir)
    .filter((p) => p.endsWith('.ndjson.gz'))
    .map((p) => path.join(dir, p));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An MQTT-like message with a JSON payload carrying `seq`. */
export function msg(seq: number, rx = new Date(Date.UTC(2026, 10, 22, 15, 4, 5, 123)), extra = '') {
  return {
    rx,
    topic: `STARS4ALL/stars${seq % 7}/reading`,
    qos: 1,
    retain: false,
    payload: Buffer.from(`{"seq":${seq},"name":"stars${seq % 7}","mag":20.5,"freq":12.3${extra}}`),
  };
}

/** `seq` values of the decoded JSON payloads. */
export function seqs(lines: ArchiveLine[]): number[] {
  return lines.map((l) => (l.message!.payload as { seq: number }).seq);
}
