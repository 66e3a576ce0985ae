/**
 * A reading already encoded as COPY text (everything but its `name_id`, which the loader knows), with
 * just what the loader still needs to look at: name, time and whether it is saturated. Fast sources
 * (src/archive/archive-fast.ts) build these straight from the input line; any Reading can be turned
 * into one with `encodedFromReading`.
 */
import { decodeArchiveLine } from '../archive/decode-line.js';
import { readingOrReject } from '../model/reading.js';
import type { Reading } from '../model/types.js';
import { encodeColumns } from './encode.js';

export interface EncodedReading {
  name: string;
  /** The reading's time, epoch ms. */
  ms: number;
  /** mag === 0 (input of the tentative daylight flags). */
  saturated: boolean;
  /** COPY columns after name_id, each preceded by a tab, no newline; null when `badField` is set. */
  cols: string | null;
  /** The first field that does not fit its column (the reading is then rejected by the loader). */
  badField: string | null;
  /** The Reading itself, or what it was encoded from (decoded again only for a reject sample). */
  origin: ReadingOrigin;
}

/** An archive line, or an input line with the function that reads it again as a Reading. */
export type ReadingOrigin = Reading | string | { line: string; reread(line: string): Reading };

/**
 * The same string, flattened. A row built by concatenation is a rope of some twenty pieces; kept with
 * a pending row through a few scavenges, those pieces made garbage collection most of the ingest CPU.
 * Reading a character makes V8 flatten it in place.
 */
export function flat(s: string): string {
  flatProbe ^= s.charCodeAt(0);
  return s;
}
let flatProbe = 0;

export function encodedFromReading(r: Reading): EncodedReading {
  const cols = encodeColumns(r);
  const ok = typeof cols === 'string';
  return { name: r.name, ms: r.tstamp.getTime(), saturated: r.mag === 0, cols: ok ? flat(cols) : null, badField: ok ? null : cols.badField, origin: r };
}

/** The Reading an encoded row stands for (cold path: reject samples). */
export function readingOf(e: EncodedReading): Reading {
  if (typeof e.origin !== 'string') return 'reread' in e.origin ? e.origin.reread(e.origin.line) : e.origin;
  const msg = decodeArchiveLine(e.origin);
  return readingOrReject(msg.payload, msg.rx, null) as Reading;
}
