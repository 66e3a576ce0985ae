/**
 * IDA monthly files (`{name}_{YYYY-MM}[_{location}].dat`, plain or gzip): header → imported register
 * events, `;`-separated data lines → readings (load source "ida"), bad lines → rejects naming the file,
 * the line and the field. Lines are read with the shared line splitter (not readline); CRLF, a BOM,
 * blanks around fields and trailing empty fields are accepted.
 *
 * Registration: the header says which device (MAC), name and calibration the data belongs to. The reader
 * emits an imported register event (source "ida") at the first data line's time, and another one
 * whenever the per-line zero point changes (by ≥ 0.005) or the header says the MAC changed within the
 * month ("… (from T)" + a "MAC address was …" comment). The registry fold decides what they mean (new
 * device, rename, replace, recalibration: history, never an overwrite). See docs/formats.md.
 */
import path from 'node:path';
import { LineSplitter, type SplitLine } from '../../archive/line-splitter.js';
import { MAX_FUTURE_MS, MIN_TSTAMP_MS, parseTstampMs } from '../../model/timestamp.js';
import { NAME_PATTERN } from '../../model/schemas.js';
import type { Reading, RegisterEvent } from '../../model/types.js';
import { interpretPayload } from '../../registry/payload.js';
import { log } from '../../util/log.js';
import { BAD, LineRejects, integerOrNull, numberOrNull, shown, timeProblem, utcDayOf } from './fields.js';
import { idaFileName, parseIdaHeader, type IdaColumn, type IdaHeader } from './ida-header.js';
import { ROLE_INT, ROLE_NUMBER, ROLE_SKIP, ROLE_TIME, scanIdaLine, type IdaColumns } from './ida-scan.js';
import { encodedFromReading } from '../../load/encoded.js';
import { encodeScanned } from '../../load/encode-scanned.js';
import { FREQ, FREQ2, FREQ3, FREQ4, MAG, MAG2, MAG3, MAG4, ScannedValues, SEQ, TAMB, TSKY } from '../../model/scanned-values.js';
import { chunksOf, MAX_TEXT_LINE_BYTES, openText } from './text-input.js';
import type { RecordSource, SourceBatch, SourceOptions } from './types.js';

/** A zero-point change at least this large emits a new register event (the registry's own threshold). */
const ZP_STEP = 0.005 - 1e-9;
const DAY_MS = 86_400_000;
const NL = 0x0a;
const MIN_OK = MIN_TSTAMP_MS;

/** `s` without surrounding blanks (no new string in the usual case of none). */
function trimmed(s: string): string {
  const n = s.length;
  if (n === 0) return s;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(n - 1);
  return a === 32 || a === 9 || b === 32 || b === 9 || b === 13 ? s.trim() : s;
}

interface Layout {
  expected: number;
  utc: number;
  tamb: number;
  tsky: number;
  seq: number;
  freq: number[]; // per channel 1..4, -1 when absent
  mag: number[];
  zp: number[];
  names: string[];
  channels: number;
}

function layoutOf(h: IdaHeader): Layout {
  const at = (c: IdaColumn) => h.columns.indexOf(c);
  const ch = (p: 'freq' | 'mag' | 'zp') => [1, 2, 3, 4].map((i) => at(`${p}${i}` as IdaColumn));
  const freq = ch('freq');
  const tess4c = freq[1] >= 0 || /4c/i.test(h.device ?? '');
  return {
    expected: h.columns.length,
    utc: at('utc'),
    tamb: at('tamb'),
    tsky: at('tsky'),
    seq: at('seq'),
    freq,
    mag: ch('mag'),
    zp: ch('zp'),
    names: h.columnNames,
    channels: tess4c ? 4 : 1,
  };
}

const CHANNEL_SLOTS = [[FREQ, MAG], [FREQ2, MAG2], [FREQ3, MAG3], [FREQ4, MAG4]];

/** The fast path's view of a layout (ida-scan.ts). */
function columnsOf(h: IdaHeader, lay: Layout): IdaColumns | null {
  if (lay.utc < 0) return null;
  const roles = h.columns.map((c, i) =>
    i === lay.utc ? ROLE_TIME : c === 'seq' ? ROLE_INT : c === 'local' || c === 'ignore' || (lay.channels === 1 && /[234]$/.test(c)) ? ROLE_SKIP : ROLE_NUMBER,
  );
  const slots = h.columns.map(() => -1);
  const zpChannel = h.columns.map(() => -1);
  if (lay.tamb >= 0) slots[lay.tamb] = TAMB;
  if (lay.tsky >= 0) slots[lay.tsky] = TSKY;
  if (lay.seq >= 0) slots[lay.seq] = SEQ;
  for (let c = 0; c < lay.channels; c++) {
    if (lay.freq[c] >= 0) slots[lay.freq[c]] = CHANNEL_SLOTS[c][0];
    if (lay.mag[c] >= 0) slots[lay.mag[c]] = CHANNEL_SLOTS[c][1];
    if (lay.zp[c] >= 0) zpChannel[lay.zp[c]] = c;
  }
  return { expected: lay.expected, roles, slots, zpChannel };
}

/** `fastPath: false` reads every line through the general path (tests compare the two). */
export function idaSource(file: string, opts: SourceOptions, { fastPath = true }: { fastPath?: boolean } = {}): RecordSource {
  const input = openText(file);
  const base = path.basename(file);
  const fromName = idaFileName(base);
  const rejects = new LineRejects(file);
  let problem: string | undefined;

  async function* batches(): AsyncGenerator<SourceBatch> {
    const splitter = new LineSplitter(MAX_TEXT_LINE_BYTES);
    const headerLines: string[] = [];
    let header: IdaHeader | null = null;
    let reader: LineReader | null = null;
    let lineNo = 0;
    let batch: SourceBatch = { readings: [], encoded: [], registers: [], rejects: [], lines: 0 };

    const startData = (): LineReader => {
      header = parseIdaHeader(headerLines, base);
      for (const w of header.warnings) log.debug(`${base}: ${w}`);
      return new LineReader(header, fromName, base, rejects);
    };
    const handle = (raw: SplitLine) => {
      lineNo++;
      if (typeof raw !== 'string') {
        reader ??= startData();
        batch.lines++;
        batch.rejects.push(rejects.make('bad_line', lineNo, `line of ${raw.overlong} bytes is too long`, raw.head, reader.name, reader.lastDay));
        return;
      }
      let line = raw;
      if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (reader === null) {
        if (line.startsWith('#')) {
          headerLines.push(line);
          if (/^#\s*END OF HEADER/i.test(line)) reader = startData();
          return;
        }
        if (line.trim() === '') return;
        if (headerLines.length === 0) throw new Error(`${base}: not an IDA file: no "#" header before the first data line`);
        reader = startData(); // a header without "# END OF HEADER"
      }
      reader.line(line, lineNo, batch);
    };

    try {
      for await (const chunk of chunksOf(input)) {
        const group = splitter.pushBytes(chunk);
        if (group === null) continue;
        if (group.carried !== null) handle(group.carried);
        const { buf, to } = group;
        // Data lines take the byte fast path; header lines and anything unusual are decoded for the general one.
        for (let from = group.from; from <= to; ) {
          const nl = buf.indexOf(NL, from);
          if (fastPath && reader !== null && (reader as LineReader).fastBytes(buf, from, nl, batch)) lineNo++;
          else handle(buf.toString('utf8', from, nl));
          from = nl + 1;
          if (batch.lines >= opts.batchLines) {
            yield batch;
            batch = { readings: [], encoded: [], registers: [], rejects: [], lines: 0 };
          }
        }
      }
      const tail = splitter.end();
      if (tail !== null) handle(tail);
      if (reader === null) {
        if (headerLines.length === 0) throw new Error(`${base}: empty file`);
        reader = startData(); // a header and no data
      }
      (reader as LineReader).finish(batch);
      yield batch;
    } finally {
      input.close();
      if (input.truncatedDetail) problem = input.truncatedDetail;
    }
  }

  return {
    batches: batches(),
    stats: () => ({ truncated: Boolean(input.truncatedDetail), problem }),
  };
}

/** Data lines of one file → readings, rejects and the register events the header and the ZP column call for. */
class LineReader {
  readonly name: string;
  lastDay: Date;
  private lastDayMs = Number.NaN;
  /** Readings after this (ms) are "in the future" (a day after the file was opened). */
  private readonly maxOk = Date.now() + MAX_FUTURE_MS;
  private readonly lay: Layout;
  /** What each column is for the fast path; null: no fast path (no UTC column). */
  private readonly columns: IdaColumns | null;
  private readonly tstampSource: Reading['tstampSource'];
  private readonly headerZp: (number | null)[];
  private readonly meta: Record<string, unknown>;
  private emitted = false;
  private lastMac: string | null = null;
  private lastZp: (number | null)[] = [];
  private warnedNoZp = false;

  constructor(
    private readonly h: IdaHeader,
    fromName: { name: string | null; monthStart: number | null },
    private readonly base: string,
    private readonly rejects: LineRejects,
  ) {
    const name = h.name ?? fromName.name;
    if (name === null) throw new Error(`${base}: no "Instrument ID" in the header, and the file name is not {name}_{YYYY-MM}.dat`);
    if (!NAME_PATTERN.test(name)) throw new Error(`${base}: instrument ID ${JSON.stringify(name)} is not a photometer name (a-z, 0-9, _ and -)`);
    this.name = name;
    this.lastDay = new Date(fromName.monthStart ?? 0);
    this.lay = layoutOf(h);
    this.columns = columnsOf(h, this.lay);
    this.tstampSource = h.tstampSource;
    this.headerZp = [0, 1, 2, 3].map((i) => h.zeroPoints[i] ?? (i === 0 ? h.zeroPoints[0] ?? null : null));
    const meta: Record<string, unknown> = {
      device: h.device,
      location: h.location,
      position: h.position,
      timezone: h.timezone,
      supplier: h.supplier,
      fov: h.fov,
      cover_offset: h.coverOffset,
      filters: h.filters.length ? h.filters : null,
      time_sync: h.timeSync,
    };
    for (const k of Object.keys(meta)) if (meta[k] === null || meta[k] === undefined) delete meta[k];
    this.meta = meta;
    this.monthStart = fromName.monthStart;
  }

  private readonly monthStart: number | null;

  // The line being read, for value() and its rejects (no closure per line on the hot path).
  private curFields: string[] = [];
  private curLine = '';
  private curNo = 0;
  private curDayMs = 0;
  private curBatch!: SourceBatch;
  /** Zero points of the current line (reused). */
  private readonly lineZp: (number | null)[] = [null, null, null, null];

  line(line: string, lineNo: number, batch: SourceBatch): void {
    const first = line.charCodeAt(0);
    if (line.length === 0 || first === 35 /* # */) return;
    if ((first === 32 || first === 9) && line.trim() === '') return;
    batch.lines++;
    const lay = this.lay;
    const f = line.split(';');
    let n = f.length;
    while (n > lay.expected && f[n - 1].trim() === '') n--;
    if (n !== lay.expected) {
      batch.rejects.push(
        this.rejects.make('bad_line', lineNo, `${n} fields, the header declares ${lay.expected} (${lay.names.join(', ')})`, line, this.name, this.lastDay),
      );
      return;
    }
    const utcText = trimmed(f[lay.utc]);
    const ms = parseTstampMs(utcText);
    if (ms === null) {
      batch.rejects.push(this.rejects.field('invalid_timestamp', lineNo, lay.names[lay.utc], `unparseable timestamp ${shown(utcText)}`, line, this.name, this.lastDay));
      return;
    }
    if (ms < MIN_OK || ms > this.maxOk) {
      const tp = timeProblem(ms) ?? 'is out of range';
      batch.rejects.push(this.rejects.field('invalid_timestamp', lineNo, lay.names[lay.utc], `${shown(utcText)} ${tp}`, line, this.name, utcDayOf(Math.max(0, ms))));
      return;
    }
    const dayMs = ms - (ms % DAY_MS);
    if (dayMs !== this.lastDayMs) {
      this.lastDayMs = dayMs;
      this.lastDay = new Date(dayMs);
    }
    this.curFields = f;
    this.curLine = line;
    this.curNo = lineNo;
    this.curDayMs = dayMs;
    this.curBatch = batch;
    const tamb = this.value(lay.tamb, false, false);
    if (tamb === undefined) return;
    const tsky = this.value(lay.tsky, false, false);
    if (tsky === undefined) return;
    const freq = this.value(lay.freq[0], true, false);
    if (freq === undefined) return;
    const mag = this.value(lay.mag[0], true, false);
    if (mag === undefined) return;
    const seq = this.value(lay.seq, false, true);
    if (seq === undefined) return;
    let freq2: number | null | undefined = null, mag2: number | null | undefined = null, freq3: number | null | undefined = null;
    let mag3: number | null | undefined = null, freq4: number | null | undefined = null, mag4: number | null | undefined = null;
    if (lay.channels === 4) {
      if ((freq2 = this.value(lay.freq[1], false, false)) === undefined) return;
      if ((mag2 = this.value(lay.mag[1], false, false)) === undefined) return;
      if ((freq3 = this.value(lay.freq[2], false, false)) === undefined) return;
      if ((mag3 = this.value(lay.mag[2], false, false)) === undefined) return;
      if ((freq4 = this.value(lay.freq[3], false, false)) === undefined) return;
      if ((mag4 = this.value(lay.mag[3], false, false)) === undefined) return;
    }
    const zps = this.lineZp;
    for (let c = 0; c < lay.channels; c++) {
      const v = this.value(lay.zp[c], false, false);
      if (v === undefined) return;
      zps[c] = v;
    }
    if (!this.emitted || this.zpOrMacChanged(ms, zps)) this.register(ms, zps, batch);
    batch.encoded!.push(encodedFromReading({
      name: this.name,
      tstamp: new Date(ms),
      tstampSource: this.tstampSource,
      seq,
      freq,
      mag,
      tamb,
      tsky,
      rev: null,
      wdbm: null,
      azimuth: null,
      altitude: null,
      longitude: null,
      latitude: null,
      height: null,
      freq2,
      mag2,
      freq3,
      mag3,
      freq4,
      mag4,
      loadSource: 'ida',
    }));
  }

  /** The current line's values (fast path), reused. */
  private readonly scanned = new ScannedValues();

  /**
   * The line in bytes [from, end) of `b` through the fast path (ida-scan.ts): true when it was read
   * (counted, its row and any register event added), false when nothing was done and the general path
   * must read it.
   */
  fastBytes(b: Buffer, from: number, end: number, batch: SourceBatch): boolean {
    const cols = this.columns;
    if (cols === null) return false;
    if (end > from && b[end - 1] === 13) end--; // CRLF
    const zps = this.lineZp;
    for (let c = 0; c < this.lay.channels; c++) zps[c] = null;
    const ms = scanIdaLine(b, from, end, cols, this.scanned, zps);
    if (ms !== ms || ms < MIN_OK || ms > this.maxOk) return false;
    const row = encodeScanned(b, this.scanned, this.name, ms, this.tstampSource, 'ida');
    if (row === null) return false;
    batch.lines++;
    const dayMs = ms - (ms % DAY_MS);
    if (dayMs !== this.lastDayMs) {
      this.lastDayMs = dayMs;
      this.lastDay = new Date(dayMs);
    }
    if (!this.emitted || this.zpOrMacChanged(ms, zps)) this.register(ms, zps, batch);
    batch.encoded!.push(row);
    return true;
  }

  /** Column `i` of the current line as a number (null: absent or empty); undefined after pushing a reject. */
  private value(i: number, required: boolean, integer: boolean): number | null | undefined {
    if (i < 0) return null;
    const s = trimmed(this.curFields[i]);
    const v = integer ? integerOrNull(s) : numberOrNull(s);
    if (v === BAD || (v === null && required)) {
      const problem = v === BAD ? `${integer ? 'not a whole number' : 'not a number'} (${shown(s)})` : 'missing';
      this.curBatch.rejects.push(this.rejects.field('invalid_payload', this.curNo, this.lay.names[i], problem, this.curLine, this.name, new Date(this.curDayMs)));
      return undefined;
    }
    return v;
  }

  /** Cheap check before {@link register}: did the MAC or a zero point change? */
  private zpOrMacChanged(ms: number, zps: (number | null)[]): boolean {
    const h = this.h;
    if (h.macSince !== null && h.previousMac !== null && (ms < h.macSince ? h.previousMac : h.mac) !== this.lastMac) return true;
    for (let i = 0; i < this.lay.channels; i++) {
      const a = zps[i];
      const b = this.lastZp[i];
      if (a !== null && (b === null || b === undefined || Math.abs(a - b) >= ZP_STEP)) return true;
    }
    return false;
  }

  /** A file with no data line still registers its photometer, at the month's start. */
  finish(batch: SourceBatch): void {
    if (!this.emitted && this.monthStart !== null) this.register(this.monthStart, [null, null, null, null], batch);
  }

  /** Emit a register event at `ms` when this is the first reading, or the MAC or a zero point changed. */
  private register(ms: number, lineZp: (number | null)[], batch: SourceBatch): void {
    const h = this.h;
    const mac = h.macSince !== null && h.previousMac !== null && ms < h.macSince ? h.previousMac : h.mac;
    if (mac === null) return;
    const zp = this.headerZp.slice(0, this.lay.channels).map((z, i) => lineZp[i] ?? (this.emitted ? this.lastZp[i] : z) ?? null); // a copy: lineZp is reused
    if (this.emitted && mac === this.lastMac) {
      let changed = false;
      for (let i = 0; i < zp.length; i++) {
        const a = zp[i];
        const b = this.lastZp[i];
        if (a !== null && (b === null || Math.abs(a - b) >= ZP_STEP)) changed = true;
      }
      if (!changed) return;
    }
    if (this.lay.channels === 1 && zp[0] === null) {
      if (!this.warnedNoZp) log.debug(`${this.base}: no zero point in the header or the data: the photometer is not registered from this file`);
      this.warnedNoZp = true;
      return;
    }
    this.emitted = true;
    this.lastMac = mac;
    this.lastZp = zp;
    batch.registers.push(this.event(ms, mac, zp));
  }

  private event(ms: number, mac: string, zp: (number | null)[]): RegisterEvent {
    const h = this.h;
    const payload: Record<string, unknown> = { name: this.name, mac };
    if (this.lay.channels === 4) {
      for (let i = 0; i < 4; i++) payload[`F${i + 1}`] = { band: h.filters[i] ?? null, calib: zp[i] ?? null };
    } else {
      payload.calib = zp[0];
    }
    if (h.firmware !== null) payload.firmware = h.firmware;
    if (Object.keys(this.meta).length) payload.ida = this.meta;
    const it = interpretPayload('ida', payload);
    if (it.kind !== 'register') throw new Error(`${this.base}: cannot build a register event from the header: ${it.kind === 'invalid' ? it.detail : 'admin payload'}`);
    return {
      name: this.name,
      mac,
      receivedAt: new Date(ms),
      model: it.model,
      rev: null,
      firmware: it.firmware,
      wdbm: null,
      channels: it.channels,
      source: 'ida',
      payload,
    };
  }
}
