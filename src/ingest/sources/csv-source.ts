/**
 * CSV files (plain or gzip) through csv-parse, streaming: the file is never read whole. The layout
 * (a configured `[[csv.formats]]` entry, a tessdb-gaps capture or a tessdb export) is chosen from the
 * file's path and header line (csv-format.ts); rows become readings with load source "csv", bad rows
 * rejects naming the file, the line and the field.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { parse, type Parser } from 'csv-parse';
import type { CsvField } from '../../config/schema.js';
import { NAME_PATTERN } from '../../model/schemas.js';
import type { Reading, TimestampSource } from '../../model/types.js';
import { BAD, LineRejects, emptyReading, integerOrNull, numberOrNull, shown, timeProblem, utcDayOf } from './fields.js';
import { builtinPlan, configuredPlan, contentLines, detectDelimiter, globMatches, headerKey, type CsvPlan } from './csv-format.js';
import { guardLines } from './line-guard.js';
import { chunksOf, headText, MAX_TEXT_LINE_BYTES, openText } from './text-input.js';
import type { RecordSource, SourceBatch, SourceOptions } from './types.js';

/** Numeric reading fields and whether they must be whole numbers. */
const NUMERIC: [CsvField & keyof Reading, boolean][] = [
  ['seq', true], ['freq', false], ['mag', false], ['tamb', false], ['tsky', false], ['wdbm', true], ['rev', true],
  ['azimuth', false], ['altitude', false], ['longitude', false], ['latitude', false], ['height', false],
  ['freq2', false], ['mag2', false], ['freq3', false], ['mag3', false], ['freq4', false], ['mag4', false],
];

/** Choose the layout of `file` (configured formats first). Throws with the reason when there is none. */
export function planFor(file: string, opts: SourceOptions): CsvPlan {
  const base = path.basename(file);
  const head = headText(file);
  const fmt = opts.csvFormats?.find((f) => globMatches(f.glob, file));
  if (fmt) {
    const plan = configuredPlan(fmt, file);
    if (plan.delimiter === 'auto') {
      const first = contentLines(head, 1, plan.comment, plan.skipLines)[0];
      plan.delimiter = (first !== undefined ? detectDelimiter(first) : null) ?? ',';
    }
    return plan;
  }
  const first = contentLines(head, 1)[0];
  if (first === undefined) throw new Error(`${base}: no CSV header line`);
  const plan = builtinPlan(first, file);
  if (typeof plan === 'string') throw new Error(`${base}: ${plan}`);
  return plan;
}

interface Binding {
  time: number;
  date: number;
  clock: number;
  name: number;
  tstampSrc: number;
  numeric: [keyof Reading, number, boolean][];
  width: number;
  labels: string[];
}

function bind(plan: CsvPlan, header: string[] | null, width: number, base: string): Binding {
  const labels = header ?? Array.from({ length: width }, (_, i) => String(i + 1));
  const keys = header ? header.map((h) => headerKey(h)) : labels;
  const index = new Map<CsvField, number>();
  for (const [key, field] of plan.columns) {
    const i = keys.indexOf(key);
    if (i < 0) throw new Error(`${base}: ${plan.label}: column "${key}" is not in the file (columns: ${labels.join(', ')})`);
    if (field !== 'ignore' && !index.has(field)) index.set(field, i);
  }
  const at = (f: CsvField) => index.get(f) ?? -1;
  return {
    time: at('time'),
    date: at('date'),
    clock: at('clock'),
    name: at('name'),
    tstampSrc: at('tstamp_src'),
    numeric: NUMERIC.filter(([f]) => index.has(f)).map(([f, integer]) => [f, index.get(f)!, integer]),
    width: labels.length,
    labels,
  };
}

export function csvSource(file: string, opts: SourceOptions): RecordSource {
  const base = path.basename(file);
  const rejects = new LineRejects(file);
  const input = openText(file);
  let problem: string | undefined;

  async function* batches(): AsyncGenerator<SourceBatch> {
    let plan: CsvPlan;
    try {
      plan = planFor(file, opts);
    } catch (err) {
      input.close();
      throw err;
    }
    const skipped: { lineNo: number | string; message: string; raw: string }[] = [];
    // A quoted field that never closes swallows the lines after it: past the bound, the rest of the file is not read.
    let runaway = false;
    const parser: Parser = parse({
      delimiter: plan.delimiter,
      bom: true,
      trim: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      info: true,
      raw: true,
      comment: plan.comment || undefined,
      comment_no_infix: plan.comment ? true : undefined,
      from_line: plan.skipLines + 1,
      skip_records_with_error: true,
      max_record_size: MAX_TEXT_LINE_BYTES,
      on_skip: (err, raw) => {
        const e = err as (Error & { lines?: number; code?: string }) | undefined;
        if (runaway) return undefined;
        if (e?.code === 'CSV_MAX_RECORD_SIZE') {
          runaway = true;
          const message = `a record reaching this line is over ${MAX_TEXT_LINE_BYTES} bytes (an unclosed quote?); the rest of the file was not read`;
          problem = `line ${e.lines ?? '?'}: ${message}`;
          skipped.push({ lineNo: e.lines ?? '?', message, raw: (raw ?? '').slice(0, 2000) });
          setImmediate(() => {
            source.unpipe(parser);
            source.destroy();
            parser.end();
          });
          return undefined;
        }
        skipped.push({ lineNo: e?.lines ?? '?', message: e?.message ?? 'unreadable record', raw: raw ?? '' });
        return undefined;
      },
    });
    // Lines over the bound never reach csv-parse (it would buffer them whole): each is one bad_line reject.
    const guarded = guardLines(chunksOf(input), MAX_TEXT_LINE_BYTES, (o) =>
      skipped.push({ lineNo: o.lineNo, message: `line of ${o.bytes} bytes is too long`, raw: o.head }),
    );
    const source = Readable.from(guarded);
    source.on('error', (e) => parser.destroy(e)).pipe(parser);

    const fixedName = plan.name.kind === 'fixed' ? plan.name.value : null;
    if (fixedName !== null && !NAME_PATTERN.test(fixedName)) throw new Error(`${base}: ${JSON.stringify(fixedName)} is not a photometer name (a-z, 0-9, _ and -)`);
    let binding: Binding | null = null;
    let lastDay = new Date(0);
    let batch: SourceBatch = { readings: [], registers: [], rejects: [], lines: 0 };
    const tstampSource: TimestampSource = plan.tstampSource;

    const row = (cells: string[], lineNo: number, raw: string): void => {
      const b = binding!;
      batch.lines++;
      let n = cells.length;
      while (n > b.width && cells[n - 1] === '') n--;
      const name = fixedName ?? (cells[b.name] ?? '').toLowerCase();
      const reportName = fixedName ?? (NAME_PATTERN.test(name) ? name : null);
      if (n !== b.width) {
        batch.rejects.push(rejects.make('bad_line', lineNo, `${n} fields, the header has ${b.width} (${b.labels.join(', ')})`, raw, reportName, lastDay));
        return;
      }
      if (fixedName === null && !NAME_PATTERN.test(name)) {
        batch.rejects.push(rejects.field('invalid_payload', lineNo, b.labels[b.name], `not a photometer name (${shown(cells[b.name])})`, raw, null, lastDay));
        return;
      }
      const timeText = b.time >= 0 ? cells[b.time] : `${cells[b.date]} ${cells[b.clock]}`;
      const timeLabel = b.time >= 0 ? b.labels[b.time] : `${b.labels[b.date]} + ${b.labels[b.clock]}`;
      const ms = plan.time(timeText);
      if (ms === null) {
        batch.rejects.push(rejects.field('invalid_timestamp', lineNo, timeLabel, `unparseable time ${shown(timeText)}`, raw, name, lastDay));
        return;
      }
      const tp = timeProblem(ms);
      if (tp !== null) {
        batch.rejects.push(rejects.field('invalid_timestamp', lineNo, timeLabel, `${shown(timeText)} ${tp}`, raw, name, utcDayOf(Math.max(0, ms))));
        return;
      }
      const day = utcDayOf(ms);
      lastDay = day;
      let src = tstampSource;
      if (b.tstampSrc >= 0 && cells[b.tstampSrc] !== '') {
        const s = cells[b.tstampSrc].toLowerCase();
        if (s !== 'publisher' && s !== 'subscriber') {
          batch.rejects.push(rejects.field('invalid_payload', lineNo, b.labels[b.tstampSrc], `must be publisher or subscriber (${shown(cells[b.tstampSrc])})`, raw, name, day));
          return;
        }
        src = s;
      }
      const r = emptyReading(name, new Date(ms), src, 'csv') as unknown as Record<string, unknown>;
      for (const [field, i, integer] of b.numeric) {
        const v = integer ? integerOrNull(cells[i]) : numberOrNull(cells[i], plan.decimalComma);
        if (v === BAD) {
          batch.rejects.push(rejects.field('invalid_payload', lineNo, b.labels[i], `${integer ? 'not a whole number' : 'not a number'} (${shown(cells[i])})`, raw, name, day));
          return;
        }
        r[field] = v;
      }
      const reading = r as unknown as Reading;
      if (reading.freq === null && reading.mag === null) {
        batch.rejects.push(rejects.make('invalid_payload', lineNo, 'neither a frequency nor a magnitude', raw, name, day));
        return;
      }
      batch.readings.push(reading);
    };

    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
        for (const s of skipped.splice(0)) {
          batch.lines++;
          batch.rejects.push(rejects.make('bad_line', Number(s.lineNo) || 0, s.message, s.raw.trimEnd(), fixedName, lastDay));
        }
        const raw = item.raw.replace(/\r?\n$/, '');
        if (binding === null) {
          binding = bind(plan, plan.header ? item.record : null, item.record.length, base);
          if (plan.header) continue;
        }
        row(item.record, item.info.lines, raw);
        if (batch.lines >= opts.batchLines) {
          yield batch;
          batch = { readings: [], registers: [], rejects: [], lines: 0 };
        }
      }
      for (const s of skipped.splice(0)) {
        batch.lines++;
        batch.rejects.push(rejects.make('bad_line', Number(s.lineNo) || 0, s.message, s.raw.trimEnd(), fixedName, lastDay));
      }
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
