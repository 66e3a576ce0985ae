/** Realistic TESS messages for benchmarks and tests. */
import type { ArchiveInput } from '../../src/archive/encode-line.js';

/** A TESS-W reading payload like the firmware's (about 200 bytes). */
export function readingPayload(i: number): Buffer {
  const name = `stars${(i % 1000) + 1}`;
  return Buffer.from(
    JSON.stringify({
      seq: i,
      name,
      freq: Math.round(Math.random() * 100000) / 1000,
      mag: Math.round((18 + Math.random() * 4) * 100) / 100,
      tamb: Math.round((Math.random() * 30 - 5) * 10) / 10,
      tsky: Math.round((Math.random() * 30 - 25) * 10) / 10,
      wdBm: -60 - (i % 30),
      rev: 1,
      tstamp: new Date(1795000000000 + i * 60).toISOString().slice(0, 19),
      hash: 'a3f',
    }),
  );
}

export function readingMessage(i: number, rx = new Date(1795000000000 + i)): ArchiveInput {
  return { rx, topic: `STARS4ALL/stars${(i % 1000) + 1}/reading`, qos: 1, retain: false, payload: readingPayload(i) };
}

/**
 * A cheap stream of distinct-looking messages for throughput runs: payloads cycle through a pool of 4096, so
 * the benchmark measures the writer rather than the generator, and nothing lives long (as in the daemon).
 */
export function messageSource(): (i: number) => ArchiveInput {
  const pool = Array.from({ length: 4096 }, (_, i) => readingPayload(i));
  const t0 = 1795000000000;
  return (i) => ({ rx: new Date(t0 + i), topic: `STARS4ALL/stars${(i % 1000) + 1}/reading`, qos: 1, retain: false, payload: pool[i & 4095] });
}
