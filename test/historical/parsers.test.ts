/** Issue 4: the pure parts of the historical readers (no database): IDA headers, CSV layouts and times, content sniffing, import events. */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import { importEvents, NameTimeline } from '../../src/import/events.js';
import { builtinPlan, detectDelimiter, globMatches, nameFromFile, splitLine, timeParser, wallClockToUtc } from '../../src/ingest/sources/csv-format.js';
import { BAD, numberOrNull, integerOrNull } from '../../src/ingest/sources/fields.js';
import { columnOf, idaFileName, parseIdaHeader, timestampSourceOf } from '../../src/ingest/sources/ida-header.js';
import { openSource } from '../../src/ingest/sources/index.js';
import { isoBytesMs, parseTstampMs } from '../../src/model/timestamp.js';
import fc from 'fast-check';
import { detectKind } from '../../src/inventory/kind.js';
import { foldRegistry } from '../../src/registry/index.js';
import type { SourceMapping, SourceVersion } from '../../src/import/tessdb-sqlite.js';
import { FIXTURES, tempDir } from './helpers.js';
import { buildServerDb } from './tessdb-server-db.js';

let dir: string;
before(() => {
  dir = tempDir('parsers');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const headerOf = (file: string) => fs.readFileSync(path.join(FIXTURES, file), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.startsWith('#'));

test('IDA header: columns by name, declared count cross-checked, identity, calibration, timestamp source', () => {
  const h = parseIdaHeader(headerOf('ida/stars901_2023-05.dat'), 'stars901_2023-05.dat');
  assert.deepEqual(h.columns, ['utc', 'local', 'tamb', 'tsky', 'freq1', 'mag1', 'zp1', 'seq']);
  assert.equal(h.declaredFields, 8);
  assert.deepEqual(h.warnings, []);
  assert.equal(h.name, 'stars901');
  assert.equal(h.mac, '60:01:94:2E:CE:EB');
  assert.deepEqual(h.zeroPoints, [20.44]);
  assert.equal(h.tstampSource, 'subscriber');
  assert.equal(h.lines, 35);

  // The old tessdb-server template declares 6 fields for its 7 columns: the column names win, with a warning.
  const legacy = parseIdaHeader(headerOf('ida/stars902_2019-03.dat'), 'x.dat');
  assert.deepEqual(legacy.columns, ['utc', 'local', 'tamb', 'tsky', 'freq1', 'mag1', 'zp1']);
  assert.match(legacy.warnings[0], /declares 6 fields per line but names 7 columns \(and as many units\)/);

  const fourc = parseIdaHeader(headerOf('ida/stars903_2023-06.dat'), 'x.dat');
  assert.equal(fourc.columns.length, 17);
  assert.deepEqual(fourc.columns.slice(4, 16), ['freq1', 'mag1', 'zp1', 'freq2', 'mag2', 'zp2', 'freq3', 'mag3', 'zp3', 'freq4', 'mag4', 'zp4']);
  assert.deepEqual(fourc.zeroPoints, [20.1, 20.2, 20.3, 20.4]);
  assert.deepEqual(fourc.filters, ['UVIR750', 'UVIR650', 'RGB-R', 'RGB-G']);

  // Without a column-name line, the standard layout of the declared count.
  const bare = ['# Community Standard Skyglow Data Format 1.0', '# Number of fields per line: 7', '# END OF HEADER'];
  assert.deepEqual(parseIdaHeader(bare, 'x.dat').columns, ['utc', 'local', 'tamb', 'tsky', 'freq1', 'mag1', 'zp1']);
  assert.throws(() => parseIdaHeader(['# Number of fields per line: 9', '# END OF HEADER'], 'x.dat'), /x\.dat: cannot tell the data columns/);
  assert.throws(
    () => parseIdaHeader(['# UTC Date & Time, Local Date & Time, Temperature', '# YYYY-MM-DDTHH:mm:ss.fff;YYYY-MM-DDTHH:mm:ss.fff;Celsius', '# END OF HEADER'], 'y.dat'),
    /y\.dat: the header has no "Frequency" column/,
  );
  // MAC changed within the month.
  const moved = parseIdaHeader(['# TESS MAC address: AA:BB:CC:DD:EE:02 (from 2023-05-10T00:00:00)', '# Comment: MAC address was AA:BB:CC:DD:EE:01 (until 2023-05-10T00:00:00)', '# Number of fields per line: 8', '# END OF HEADER'], 'z.dat');
  assert.equal(moved.mac, 'AA:BB:CC:DD:EE:02');
  assert.equal(moved.previousMac, 'AA:BB:CC:DD:EE:01');
  assert.equal(moved.macSince, Date.parse('2023-05-10T00:00:00Z'));
});

test('IDA details: column names, time synchronisation, file names', () => {
  assert.equal(columnOf('Enclosure Temperature'), 'tamb');
  assert.equal(columnOf('Temperature'), 'tamb');
  assert.equal(columnOf('Sky Temperature'), 'tsky');
  assert.equal(columnOf(' MSAS3'), 'mag3');
  assert.equal(columnOf('Counts'), 'ignore');
  assert.equal(timestampSourceOf('timestamp added by MQTT subscriber'), 'subscriber');
  assert.equal(timestampSourceOf('GPS'), 'publisher');
  assert.equal(timestampSourceOf('NTP'), 'publisher');
  assert.equal(timestampSourceOf(null), 'subscriber');
  assert.deepEqual(idaFileName('stars1_2023-05.dat'), { name: 'stars1', monthStart: Date.UTC(2023, 4, 1) });
  assert.deepEqual(idaFileName('stars1_2023-05_3.dat.gz'), { name: 'stars1', monthStart: Date.UTC(2023, 4, 1) });
  assert.deepEqual(idaFileName('notes.dat'), { name: null, monthStart: null });
});

test('IDA data lines: a month file without data registers at the month start; a MAC change mid-month is two events', async () => {
  const file = path.join(dir, 'stars7_2023-05.dat');
  const head = headerOf('ida/stars901_2023-05.dat').map((l) => l.replace('stars901', 'stars7'));
  fs.writeFileSync(file, head.join('\n') + '\n');
  const src = openSource('ida', file, { topicPrefix: 'STARS4ALL', batchLines: 100 });
  const events = [];
  for await (const b of src.batches) events.push(...b.registers);
  assert.deepEqual(events.map((e) => [e.name, e.receivedAt.toISOString(), e.source]), [['stars7', '2023-05-01T00:00:00.000Z', 'ida']]);

  const moved = path.join(dir, 'stars8_2023-05.dat');
  const lines = head
    .map((l) => (l.startsWith('# TESS MAC') ? '# TESS MAC address: AA:BB:CC:DD:EE:02 (from 2023-05-10T00:00:00)' : l.startsWith('# Comment: Previous') ? '# Comment: MAC address was AA:BB:CC:DD:EE:01 (until 2023-05-10T00:00:00)' : l))
    .map((l) => l.replace('stars7', 'stars8'));
  lines.push('2023-05-09T23:59:00.000;x;1;1;1.5;20.1;20.44;1', '2023-05-10T00:00:00.000;x;1;1;1.5;20.1;20.44;2', '2023-05-10T00:01:00.000;x;1;1;1.5;20.1;20.44;3');
  fs.writeFileSync(moved, lines.join('\r\n') + '\r\n');
  const src2 = openSource('ida', moved, { topicPrefix: 'STARS4ALL', batchLines: 100 });
  const ev2 = [];
  let readings = 0;
  for await (const b of src2.batches) {
    ev2.push(...b.registers);
    readings += b.readings.length + (b.encoded?.length ?? 0);
  }
  assert.equal(readings, 3);
  assert.deepEqual(ev2.map((e) => [e.mac, e.receivedAt.toISOString()]), [
    ['AA:BB:CC:DD:EE:01', '2023-05-09T23:59:00.000Z'],
    ['AA:BB:CC:DD:EE:02', '2023-05-10T00:00:00.000Z'],
  ]);
});

test('numbers: None/empty are no value, garbage is refused', () => {
  assert.equal(numberOrNull(''), null);
  assert.equal(numberOrNull('None'), null);
  assert.equal(numberOrNull('-5.25'), -5.25);
  assert.equal(numberOrNull('20,5', true), 20.5);
  assert.equal(numberOrNull('abc'), BAD);
  assert.equal(numberOrNull('12abc'), BAD);
  assert.equal(numberOrNull('Infinity'), BAD);
  assert.equal(integerOrNull('12'), 12);
  assert.equal(integerOrNull('12.5'), BAD);
});

test('CSV: delimiters, quotes, globs, names from file names', () => {
  assert.equal(detectDelimiter('a;b;"c;d",e'), ';');
  assert.equal(detectDelimiter('time,freq,mag'), ',');
  assert.equal(detectDelimiter('a\tb\tc'), '\t');
  assert.equal(detectDelimiter('just text'), null);
  assert.deepEqual(splitLine('1;"a;b";2', ';'), ['1', '"a;b"', '2']);
  assert.ok(globMatches('mylogger-*.csv', '/data/x/mylogger-20230501.csv'));
  assert.ok(globMatches('**/sqm/*.csv', '/data/sqm/a.csv'));
  assert.ok(globMatches('sqm/*.{csv,txt}', '/data/sqm/a.txt'));
  assert.ok(!globMatches('sqm/*.csv', '/data/other/a.csv'));
  assert.ok(!globMatches('*.csv', '/data/a.csv.gz'));
  assert.equal(nameFromFile('/x/stars1_2023-05.csv.gz'), 'stars1');
  assert.equal(nameFromFile('/x/Stars12.csv'), 'stars12');
  const plan = builtinPlan('julian_day;timestamp;sequence_number;site;mac_address;frequency;magnitude;zero_point;filter;sky_temperature;ambient_temperature', '/x/stars9.csv');
  assert.ok(typeof plan !== 'string');
  assert.equal(plan.label, 'tessdb export');
  assert.deepEqual(plan.name, { kind: 'fixed', value: 'stars9' });
  assert.equal(plan.columns.get('timestamp'), 'time');
  assert.equal(plan.columns.get('ambient_temperature'), 'tamb');
  const gaps = builtinPlan('time,freq,mag,rev,seq,tamb,tsky,wdBm', '/x/stars9_gaps.csv');
  assert.ok(typeof gaps !== 'string' && gaps.label === 'tessdb-gaps');
  assert.match(String(builtinPlan('a,b,c', '/x/q.csv')), /neither a tessdb export/);
});

test('CSV times: ISO, epochs, Julian days, patterns, local time zones across DST', () => {
  const iso = timeParser('iso', 'UTC');
  assert.equal(iso('2023-05-01T21:30:00'), Date.parse('2023-05-01T21:30:00Z'));
  assert.equal(iso('2023-05-01 21:30:00.5Z'), Date.parse('2023-05-01T21:30:00.500Z'));
  const madrid = timeParser('iso', 'Europe/Madrid');
  assert.equal(madrid('2023-05-01T23:30:00'), Date.parse('2023-05-01T21:30:00Z'), 'CEST');
  assert.equal(madrid('2023-01-01T00:30:00'), Date.parse('2022-12-31T23:30:00Z'), 'CET');
  assert.equal(madrid('2023-05-01T23:30:00+00:00'), Date.parse('2023-05-01T23:30:00Z'), 'an explicit zone wins');
  assert.equal(timeParser('unix', 'UTC')('1682976600'), Date.parse('2023-05-01T21:30:00Z'));
  assert.equal(timeParser('unix_ms', 'UTC')('1682976600123'), Date.parse('2023-05-01T21:30:00.123Z'));
  assert.equal(timeParser('jd', 'UTC')('2460065.5'), Date.parse('2023-05-01T00:00:00Z'));
  const p = timeParser('%d/%m/%Y %H:%M:%S', '+02:00');
  assert.equal(p('01/05/2023 23:30:00'), Date.parse('2023-05-01T21:30:00Z'));
  assert.equal(p('30/02/2023 23:30:00'), null);
  assert.equal(p('2023-05-01'), null);
  assert.throws(() => timeParser('iso', 'Mars/Olympus'), /unknown time zone "Mars\/Olympus"/);
  assert.throws(() => timeParser('%Q', 'UTC'), /unsupported directive %Q/);
  const ny = wallClockToUtc('America/New_York');
  assert.equal(ny(Date.parse('2023-07-04T12:00:00Z')), Date.parse('2023-07-04T16:00:00Z'));
});

test('inventory sniffing: IDA, CSV, gzip-compressed ones, SQLite databases, and reasons for the rest', () => {
  const kind = (f: string) => detectKind(path.join(FIXTURES, f));
  for (const f of fs.readdirSync(path.join(FIXTURES, 'ida'))) assert.equal(kind(`ida/${f}`).kind, 'ida', f);
  for (const f of fs.readdirSync(path.join(FIXTURES, 'csv'))) assert.equal(kind(`csv/${f}`).kind, 'csv', f);
  assert.match(kind('other/notes.dat').reason!, /"#" header lines but not an IDA file/);
  assert.equal(kind('other/plain.csv').reason, 'not a tessdb archive, IDA, CSV or SQLite file (starts with "just some text")');

  const gzCsv = path.join(dir, 'stars1.csv.gz');
  fs.writeFileSync(gzCsv, zlib.gzipSync(fs.readFileSync(path.join(FIXTURES, 'csv/gaps-capture.csv'))));
  assert.deepEqual(detectKind(gzCsv), { kind: 'csv' });
  const gzText = path.join(dir, 'notes.txt.gz');
  fs.writeFileSync(gzText, zlib.gzipSync('hello\n'));
  assert.match(detectKind(gzText).reason!, /gzip file that is not a tessdb archive, IDA or CSV file/);
  const bin = path.join(dir, 'blob.dat');
  fs.writeFileSync(bin, Buffer.from([1, 2, 0, 3, 4]));
  assert.match(detectKind(bin).reason!, /^binary file/);

  const server = path.join(dir, 'tess.db');
  buildServerDb(server, '04', { days: ['2019-03-01'], perDay: 1 });
  assert.deepEqual(detectKind(server), { kind: 'sqlite' });
  const other = path.join(dir, 'other.sqlite');
  buildOtherSqlite(other);
  assert.match(detectKind(other).reason!, /SQLite database but not a tessdb-server one/);
});

/** A SQLite database with unrelated tables. */
function buildOtherSqlite(file: string): void {
  const db = new Database(file);
  db.exec('CREATE TABLE things (id INTEGER PRIMARY KEY)');
  db.close();
}

const at = (s: string) => Date.parse(`${s}Z`);
const version = (o: Partial<SourceVersion> & { tessId: number; mac: string; since: number }): SourceVersion => ({
  until: Number.POSITIVE_INFINITY, model: 'TESS-W', firmware: '1.0', nchannels: 1, zp: [20.5], filter: ['UVIR'], offset: [0],
  fov: 17, azimuth: 0, altitude: 90, coverOffset: 0, locationId: -1, observerId: -1, authorised: false, registered: 'Automatic', name: null, ...o,
});

test('import events: the fold of the events built from tess_t and name_to_mac_t reproduces them', () => {
  const A = 'AA:00:00:00:00:01';
  const B = 'AA:00:00:00:00:02';
  const versions = [
    version({ tessId: 1, mac: A, since: at('2019-01-01T00:00:00'), until: at('2019-06-01T00:00:00'), zp: [20.5], locationId: 1, authorised: true }),
    version({ tessId: 2, mac: A, since: at('2019-06-01T00:00:00'), zp: [20.6], locationId: 2, authorised: true }),
    version({ tessId: 3, mac: B, since: at('2019-02-01T00:00:00'), zp: [20.4] }),
  ];
  const mappings: SourceMapping[] = [
    { name: 'a', mac: A, since: at('2019-01-01T00:00:00'), until: at('2019-03-01T00:00:00') },
    { name: 'a2', mac: A, since: at('2019-03-01T00:00:00'), until: Number.POSITIVE_INFINITY },
    { name: 'b', mac: B, since: at('2019-02-01T00:00:00'), until: Number.POSITIVE_INFINITY },
  ];
  const { events, unnamed } = importEvents(versions, mappings, new Map([[1, 11], [2, 12]]), new Map());
  assert.deepEqual(unnamed, []);
  const fold = foldRegistry(events);
  assert.deepEqual(
    fold.versions.map((v) => [v.mac, new Date(v.validSince).toISOString(), v.zp1, v.locationId, v.authorised, v.registered, v.validState]),
    [
      [A, '2019-01-01T00:00:00.000Z', 20.5, 11, true, 'Imported', 'Expired'],
      [A, '2019-06-01T00:00:00.000Z', 20.6, 12, true, 'Imported', 'Current'],
      [B, '2019-02-01T00:00:00.000Z', 20.4, -1, false, 'Imported', 'Current'],
    ],
  );
  assert.deepEqual(
    fold.mappings.map((m) => [m.name, m.mac, new Date(m.validSince).toISOString(), m.validState]),
    [
      ['a', A, '2019-01-01T00:00:00.000Z', 'Expired'],
      ['a2', A, '2019-03-01T00:00:00.000Z', 'Current'],
      ['b', B, '2019-02-01T00:00:00.000Z', 'Current'],
    ],
  );
  // Any order of the events folds the same (the registration sorts before the admin op of its instant).
  assert.deepEqual(foldRegistry([...events].reverse()), fold);

  const names = new NameTimeline(mappings, versions);
  assert.equal(names.nameAt(A, at('2019-02-15T00:00:00')), 'a');
  assert.equal(names.nameAt(A, at('2019-07-01T00:00:00')), 'a2');
  assert.equal(names.nameAt(B, at('2019-01-15T00:00:00')), null);
});

test('IDA fast path: times read exactly as the general path reads them', () => {
  fc.assert(
    fc.property(fc.date({ min: new Date('2015-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), fc.boolean(), (d, withMs) => {
      const s = d.toISOString().slice(0, withMs ? 23 : 19);
      return isoBytesMs(Buffer.from(s), 0, s.length) === parseTstampMs(s);
    }),
    { numRuns: 5000 },
  );
  for (const s of ['2023-02-29T00:00:00', '2023-13-01T00:00:00', '2023-05-01 00:00:00', '2023-05-01T00:00:00Z', '2023-05-01T24:00:00', '2023-05-01T00:00:00.12']) {
    assert.ok(Number.isNaN(isoBytesMs(Buffer.from(s), 0, s.length)), s);
  }
  assert.equal(isoBytesMs(Buffer.from('x;2024-02-29T12:00:00.250;y'), 2, 25), Date.parse('2024-02-29T12:00:00.250Z'));
  // The start of the last day seen is reused: runs of times on a few days, valid or not, read as the general path reads them.
  const day = fc.constantFrom('2024-02-28', '2024-02-29', '2023-02-29', '2024-03-01', '2024-3-01');
  const clock = fc.tuple(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 61 }), fc.option(fc.integer({ min: 0, max: 999 })));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  fc.assert(
    fc.property(fc.array(fc.tuple(day, clock), { minLength: 1, maxLength: 30 }), (times) =>
      times.every(([d, [h, m, sec, ms]]) => {
        const s = `${d}T${pad(h)}:${pad(m)}:${pad(sec)}${ms === null ? '' : `.${pad(ms, 3)}`}`;
        const expected = parseTstampMs(s) ?? Number.NaN;
        return Object.is(isoBytesMs(Buffer.from(s), 0, s.length), s.length === 19 || s.length === 23 ? expected : Number.NaN);
      }),
    ),
    { numRuns: 500 },
  );
});
