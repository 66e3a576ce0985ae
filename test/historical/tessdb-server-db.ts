/**
 * Builds tessdb-server SQLite databases with their real schemas (better-sqlite3), for the import tests:
 *
 * - "legacy": tessdb-server 2.x (Python 2 era): tess_t with zero_point/filter/channel, location_t with
 *   site/location/province/state, tess_units_t, name_to_mac_t, date_t/time_t, tess_readings_t with
 *   ambient_temperature/height/signal_strength/hash (the data model of the 2.x releases, as in
 *   tessdb-server's own CREATE TABLE statements);
 * - "04": tessdb-server's schema.sql at database version 03 plus the 04 update (tess_t offset1..4):
 *   config_t, observer_t, tess_t with nchannels/zp1..4/filter1..4/offset1..4/observer_id, location_t
 *   with place/town/sub_region/region, tess_readings_t with box_temperature/elevation/observer_id,
 *   tess_readings4c_t.
 */
import Database from 'better-sqlite3';

export type ServerSchema = 'legacy' | '04';

const LEGACY = `
CREATE TABLE IF NOT EXISTS config_t (section TEXT NOT NULL, property TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(section, property));
CREATE TABLE IF NOT EXISTS date_t (
    date_id INTEGER PRIMARY KEY, sql_date TEXT, date TEXT, day INTEGER, day_year INTEGER, julian_day REAL,
    weekday TEXT, weekday_abbr TEXT, weekday_num INTEGER, month_num INTEGER, month TEXT, month_abbr TEXT, year INTEGER);
CREATE TABLE IF NOT EXISTS time_t (time_id INTEGER PRIMARY KEY, time TEXT, hour INTEGER, minute INTEGER, second INTEGER, day_fraction REAL);
CREATE TABLE IF NOT EXISTS location_t (
    location_id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT, longitude REAL, latitude REAL, elevation REAL, zipcode TEXT,
    location TEXT, province TEXT, state TEXT, country TEXT, timezone TEXT DEFAULT 'Etc/UTC',
    contact_name TEXT, contact_email TEXT, organization TEXT);
CREATE TABLE IF NOT EXISTS tess_units_t (units_id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp_source TEXT, reading_source TEXT);
CREATE TABLE IF NOT EXISTS tess_t (
    tess_id INTEGER PRIMARY KEY AUTOINCREMENT, mac_address TEXT, zero_point REAL, filter TEXT DEFAULT 'UV/IR-cut',
    valid_since TEXT, valid_until TEXT, valid_state TEXT,
    location_id INTEGER NOT NULL DEFAULT -1 REFERENCES location_t(location_id),
    model TEXT DEFAULT 'TESS-W', firmware TEXT DEFAULT '1.0', channel INTEGER DEFAULT 0, cover_offset REAL DEFAULT 0.0,
    fov REAL DEFAULT 17.0, azimuth REAL DEFAULT 0.0, altitude REAL DEFAULT 90.0, authorised INTEGER DEFAULT 0,
    registered TEXT DEFAULT 'Unknown');
CREATE INDEX IF NOT EXISTS tess_mac_i ON tess_t(mac_address);
CREATE TABLE IF NOT EXISTS name_to_mac_t (
    name TEXT NOT NULL, mac_address TEXT NOT NULL REFERENCES tess_t(mac_adddres),
    valid_since TEXT NOT NULL, valid_until TEXT NOT NULL, valid_state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mac_to_name_i ON name_to_mac_t(mac_address);
CREATE INDEX IF NOT EXISTS name_to_mac_i ON name_to_mac_t(name);
CREATE TABLE tess_readings_t (
    date_id INTEGER NOT NULL REFERENCES date_t(date_id), time_id INTEGER NOT NULL REFERENCES time_t(time_id),
    tess_id INTEGER NOT NULL REFERENCES tess_t(tess_id), location_id INTEGER NOT NULL REFERENCES location_t(location_id),
    units_id INTEGER NOT NULL REFERENCES tess_units_t(units_id), sequence_number INTEGER, frequency REAL, magnitude REAL,
    ambient_temperature REAL, sky_temperature REAL, azimuth REAL, altitude REAL, longitude REAL, latitude REAL,
    height REAL, signal_strength INTEGER, hash TEXT,
    PRIMARY KEY (date_id, time_id, tess_id));
`;

const V04 = `
CREATE TABLE IF NOT EXISTS config_t (section TEXT NOT NULL, property TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(section, property));
INSERT OR REPLACE INTO config_t(section, property, value) VALUES ('database', 'version', '04');
CREATE TABLE IF NOT EXISTS date_t (
    date_id INTEGER NOT NULL, sql_date TEXT NOT NULL, date TEXT NOT NULL, day INTEGER NOT NULL, day_year INTEGER NOT NULL,
    julian_day REAL NOT NULL, weekday TEXT NOT NULL, weekday_abbr TEXT NOT NULL, weekday_num INTEGER NOT NULL,
    month_num INTEGER NOT NULL, month TEXT NOT NULL, month_abbr TEXT NOT NULL, year INTEGER NOT NULL, PRIMARY KEY(date_id));
CREATE TABLE IF NOT EXISTS time_t (
    time_id INTEGER NOT NULL, time TEXT NOT NULL, hour INTEGER NOT NULL, minute INTEGER NOT NULL, second INTEGER NOT NULL,
    day_fraction REAL NOT NULL, PRIMARY KEY(time_id));
CREATE TABLE IF NOT EXISTS location_t (
    location_id INTEGER NOT NULL, longitude REAL, latitude REAL, elevation REAL, place TEXT NOT NULL, town TEXT NOT NULL,
    sub_region TEXT NOT NULL, region TEXT NOT NULL, country TEXT NOT NULL, timezone TEXT NOT NULL,
    contact_name TEXT, contact_email TEXT, organization TEXT, UNIQUE(longitude, latitude), PRIMARY KEY(location_id));
INSERT OR IGNORE INTO location_t (location_id,longitude,latitude,elevation,place,town,sub_region,region,country,timezone)
VALUES (-1,NULL,NULL,NULL,'Unknown','Unknown','Unknown','Unknown','Unknown','Etc/UTC');
CREATE TABLE IF NOT EXISTS observer_t (
    observer_id INTEGER NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, affiliation TEXT, acronym TEXT, website_url TEXT,
    email TEXT, valid_since TIMESTAMP NOT NULL, valid_until TIMESTAMP NOT NULL, valid_state TEXT NOT NULL,
    UNIQUE(name,valid_since,valid_until), PRIMARY KEY(observer_id));
INSERT OR IGNORE INTO observer_t (observer_id, name, type, valid_since, valid_until, valid_state)
VALUES (-1, 'Unknown', 'Organization', '2000-01-01 00:00:00.000', '2999-12-31 23:59:59.000', 'Current');
CREATE TABLE IF NOT EXISTS tess_units_t (units_id INTEGER NOT NULL, timestamp_source TEXT NOT NULL, reading_source TEXT NOT NULL, PRIMARY KEY(units_id));
INSERT OR IGNORE INTO tess_units_t (units_id, timestamp_source, reading_source) VALUES (0, 'Subscriber', 'Direct');
INSERT OR IGNORE INTO tess_units_t (units_id, timestamp_source, reading_source) VALUES (1, 'Publisher',  'Direct');
INSERT OR IGNORE INTO tess_units_t (units_id, timestamp_source, reading_source) VALUES (2, 'Subscriber', 'Imported');
INSERT OR IGNORE INTO tess_units_t (units_id, timestamp_source, reading_source) VALUES (3, 'Publisher',  'Imported');
CREATE TABLE IF NOT EXISTS tess_t (
    tess_id INTEGER, mac_address TEXT NOT NULL, valid_since TIMESTAMP NOT NULL, valid_until TIMESTAMP NOT NULL,
    valid_state TEXT NOT NULL, model TEXT NOT NULL, firmware TEXT NOT NULL, authorised INTEGER NOT NULL, registered TEXT NOT NULL,
    cover_offset REAL NOT NULL DEFAULT 0.0, fov REAL NOT NULL DEFAULT 17.0, azimuth REAL NOT NULL DEFAULT 0.0,
    altitude REAL NOT NULL DEFAULT 90.0, nchannels INTEGER NOT NULL,
    zp1 REAL NOT NULL, filter1 TEXT NOT NULL, offset1 REAL NOT NULL DEFAULT 0.0,
    zp2 REAL, filter2 TEXT, offset2 REAL NOT NULL DEFAULT 0.0,
    zp3 REAL, filter3 TEXT, offset3 REAL NOT NULL DEFAULT 0.0,
    zp4 REAL, filter4 TEXT, offset4 REAL NOT NULL DEFAULT 0.0,
    location_id INTEGER NOT NULL DEFAULT -1, observer_id INTEGER NOT NULL DEFAULT -1,
    PRIMARY KEY(tess_id), FOREIGN KEY(location_id) REFERENCES location_t(location_id), FOREIGN KEY(observer_id) REFERENCES observer_t(observer_id));
CREATE INDEX IF NOT EXISTS tess_mac_i ON tess_t(mac_address);
CREATE TABLE IF NOT EXISTS name_to_mac_t (
    name TEXT NOT NULL, mac_address TEXT NOT NULL REFERENCES tess_t(mac_adddres),
    valid_since TIMESTAMP NOT NULL, valid_until TIMESTAMP NOT NULL, valid_state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mac_to_name_i ON name_to_mac_t(mac_address);
CREATE INDEX IF NOT EXISTS name_to_mac_i ON name_to_mac_t(name);
CREATE TABLE tess_readings_t (
    date_id INTEGER NOT NULL, time_id INTEGER NOT NULL, tess_id INTEGER NOT NULL, location_id INTEGER NOT NULL DEFAULT -1,
    observer_id INTEGER NOT NULL DEFAULT -1, units_id INTEGER NOT NULL, sequence_number INTEGER NOT NULL,
    frequency REAL NOT NULL, magnitude REAL NOT NULL, box_temperature REAL NOT NULL, sky_temperature REAL NOT NULL,
    azimuth REAL, altitude REAL, longitude REAL, latitude REAL, elevation REAL, signal_strength INTEGER NOT NULL, hash TEXT,
    PRIMARY KEY(date_id, time_id, tess_id),
    FOREIGN KEY(date_id) REFERENCES date_t(date_id), FOREIGN KEY(time_id) REFERENCES time_t(time_id),
    FOREIGN KEY(tess_id) REFERENCES tess_t(tess_id), FOREIGN KEY(location_id) REFERENCES location_t(location_id),
    FOREIGN KEY(observer_id) REFERENCES observer_t(observer_id), FOREIGN KEY(units_id) REFERENCES tess_units_t(units_id));
CREATE INDEX IF NOT EXISTS tess_readings_i ON tess_readings_t(tess_id, date_id, time_id, location_id);
CREATE TABLE tess_readings4c_t (
    date_id INTEGER NOT NULL, time_id INTEGER NOT NULL, tess_id INTEGER NOT NULL, location_id INTEGER NOT NULL DEFAULT -1,
    observer_id INTEGER NOT NULL DEFAULT -1, units_id INTEGER NOT NULL, sequence_number INTEGER NOT NULL,
    freq1 REAL NOT NULL, mag1 REAL NOT NULL, freq2 REAL NOT NULL, mag2 REAL NOT NULL, freq3 REAL NOT NULL, mag3 REAL NOT NULL,
    freq4 REAL NOT NULL, mag4 REAL NOT NULL, box_temperature REAL NOT NULL, sky_temperature REAL NOT NULL,
    azimuth REAL, altitude REAL, longitude REAL, latitude REAL, elevation REAL, signal_strength INTEGER NOT NULL, hash TEXT,
    PRIMARY KEY(date_id, time_id, tess_id),
    FOREIGN KEY(date_id) REFERENCES date_t(date_id), FOREIGN KEY(time_id) REFERENCES time_t(time_id),
    FOREIGN KEY(tess_id) REFERENCES tess_t(tess_id), FOREIGN KEY(location_id) REFERENCES location_t(location_id),
    FOREIGN KEY(observer_id) REFERENCES observer_t(observer_id), FOREIGN KEY(units_id) REFERENCES tess_units_t(units_id));
CREATE INDEX IF NOT EXISTS tess_id_readings4c_i ON tess_readings4c_t(tess_id, date_id, time_id, location_id);
`;

const FOREVER = '2999-12-31T23:59:59';
export const MAC = { A: '60:01:94:2E:CE:EB', B: '5C:CF:7F:76:65:BA', C: 'AC:67:B2:1B:21:01', D: 'AC:67:B2:1B:21:02', E: 'AC:67:B2:1B:21:03' };

export interface ServerVersion {
  tessId: number;
  mac: string;
  since: string;
  until: string;
  zp: number[];
  filters: string[];
  locationId: number;
  observerId: number;
  authorised: 0 | 1;
  model: 'TESS-W' | 'TESS4C';
}

export interface ServerMapping {
  name: string;
  mac: string;
  since: string;
  until: string;
}

/** The photometers of the fixture database: a recalibration with a move, a rename, a replacement, a TESS4C (04 only). */
export function fixtureVersions(schema: ServerSchema): ServerVersion[] {
  const v: ServerVersion[] = [
    { tessId: 1, mac: '60:1:94:2E:CE:EB', since: '2019-01-01T00:00:00', until: '2019-06-01T00:00:00', zp: [20.5], filters: ['UVIR'], locationId: 1, observerId: 1, authorised: 1, model: 'TESS-W' },
    { tessId: 2, mac: '60:1:94:2E:CE:EB', since: '2019-06-01T00:00:00', until: FOREVER, zp: [20.6], filters: ['UVIR'], locationId: 2, observerId: 1, authorised: 1, model: 'TESS-W' },
    { tessId: 3, mac: MAC.B, since: '2019-01-01T00:00:00', until: FOREVER, zp: [20.4], filters: ['UVIR+BG39'], locationId: 2, observerId: 2, authorised: 0, model: 'TESS-W' },
    { tessId: 4, mac: MAC.C, since: '2019-01-01T00:00:00', until: FOREVER, zp: [20.3], filters: ['UVIR'], locationId: 3, observerId: -1, authorised: 1, model: 'TESS-W' },
    { tessId: 5, mac: MAC.D, since: '2019-09-01T00:00:00', until: FOREVER, zp: [20.45], filters: ['UVIR'], locationId: 1, observerId: 2, authorised: 1, model: 'TESS-W' },
  ];
  if (schema === '04') {
    v.push({ tessId: 6, mac: MAC.E, since: '2019-01-01T00:00:00', until: FOREVER, zp: [20.1, 20.2, 20.3, 20.4], filters: ['UVIR750', 'UVIR650', 'RGB-R', 'RGB-G'], locationId: 1, observerId: 1, authorised: 1, model: 'TESS4C' });
  }
  return v;
}

export function fixtureMappings(schema: ServerSchema): ServerMapping[] {
  const m: ServerMapping[] = [
    { name: 'stars1', mac: '60:1:94:2E:CE:EB', since: '2019-01-01T00:00:00', until: FOREVER },
    { name: 'stars2', mac: MAC.B, since: '2019-01-01T00:00:00', until: '2019-08-01T00:00:00' },
    { name: 'stars2b', mac: MAC.B, since: '2019-08-01T00:00:00', until: FOREVER },
    { name: 'stars3', mac: MAC.C, since: '2019-01-01T00:00:00', until: '2019-09-01T00:00:00' },
    { name: 'stars3', mac: MAC.D, since: '2019-09-01T00:00:00', until: FOREVER },
  ];
  if (schema === '04') m.push({ name: 'stars4', mac: MAC.E, since: '2019-01-01T00:00:00', until: FOREVER });
  return m;
}

export const LOCATIONS = [
  { id: 1, site: 'Observatorio UCM', town: 'Madrid', province: 'Madrid', country: 'Spain', lon: -3.726065, lat: 40.450941, elev: 650, tz: 'Europe/Madrid' },
  { id: 2, site: 'Casa de Juan', town: 'Segovia', province: 'Segovia', country: 'Spain', lon: -4.1184, lat: 40.9429, elev: 1000, tz: 'Europe/Madrid' },
  { id: 3, site: 'Refugio', town: 'Soria', province: 'Soria', country: 'Spain', lon: -2.4667, lat: 41.7667, elev: 1063, tz: 'Europe/Madrid' },
];

export const OBSERVERS = [
  { id: 1, name: 'Jaime Zamorano', type: 'Individual', affiliation: 'UCM' },
  { id: 2, name: 'Asociación Astronómica', type: 'Organization', affiliation: null },
];

export interface BuildOptions {
  /** Days with readings (UTC dates) and readings per device per day (one a minute from 00:00:00). */
  days?: string[];
  perDay?: number;
  /** Also a reading of the replaced device after its name moved (no name then: not loadable). */
  orphan?: boolean;
}

export interface BuildResult {
  /** Readings in the database, per table. */
  readings: Record<string, number>;
  /** Of them, those that have a name at their time (loadable). */
  loadable: number;
}

/** Create `file` as a tessdb-server database of `schema`, with the fixture dimensions and readings. */
export function buildServerDb(file: string, schema: ServerSchema, o: BuildOptions = {}): BuildResult {
  const days = o.days ?? ['2019-03-01', '2019-07-01', '2019-10-01'];
  const perDay = o.perDay ?? 30;
  const db = new Database(file);
  db.pragma('journal_mode = DELETE');
  db.pragma('foreign_keys = OFF'); // as tessdb-server runs (Python's sqlite3 default); its name_to_mac_t references tess_t(mac_adddres)
  db.exec(schema === 'legacy' ? LEGACY : V04);
  const versions = fixtureVersions(schema);
  const mappings = fixtureMappings(schema);
  const result: BuildResult = { readings: {}, loadable: 0 };
  db.transaction(() => {
    if (schema === 'legacy') {
      const ins = db.prepare('INSERT INTO tess_units_t (units_id, timestamp_source, reading_source) VALUES (?, ?, ?)');
      ins.run(0, 'Subscriber', 'Direct');
      ins.run(1, 'Publisher', 'Direct');
      db.prepare(`INSERT INTO location_t (location_id, site) VALUES (-1, 'Unknown')`).run();
      const loc = db.prepare('INSERT INTO location_t (location_id, site, longitude, latitude, elevation, location, province, country, timezone, contact_name, organization) VALUES (?,?,?,?,?,?,?,?,?,?,?)');
      for (const l of LOCATIONS) loc.run(l.id, l.site, l.lon, l.lat, l.elev, l.town, l.province, l.country, l.tz, 'Jaime', 'UCM');
      const t = db.prepare('INSERT INTO tess_t (tess_id, mac_address, zero_point, filter, valid_since, valid_until, valid_state, location_id, model, firmware, authorised, registered) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
      for (const v of versions) t.run(v.tessId, v.mac, v.zp[0], v.filters[0], v.since, v.until, v.until === FOREVER ? 'Current' : 'Expired', v.locationId, v.model, '1.0', v.authorised, 'Automatic');
    } else {
      const loc = db.prepare('INSERT INTO location_t (location_id, longitude, latitude, elevation, place, town, sub_region, region, country, timezone) VALUES (?,?,?,?,?,?,?,?,?,?)');
      for (const l of LOCATIONS) loc.run(l.id, l.lon, l.lat, l.elev, l.site, l.town, l.province, 'Region', l.country, l.tz);
      const obs = db.prepare('INSERT INTO observer_t (observer_id, type, name, affiliation, valid_since, valid_until, valid_state) VALUES (?,?,?,?,?,?,?)');
      for (const ob of OBSERVERS) obs.run(ob.id, ob.type, ob.name, ob.affiliation, '2019-01-01 00:00:00.000', '2999-12-31 23:59:59.000', 'Current');
      const t = db.prepare(`INSERT INTO tess_t (tess_id, mac_address, valid_since, valid_until, valid_state, model, firmware, authorised, registered,
                              nchannels, zp1, filter1, zp2, filter2, zp3, filter3, zp4, filter4, location_id, observer_id)
                            VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
      for (const v of versions) {
        t.run(v.tessId, v.mac, v.since, v.until, v.until === FOREVER ? 'Current' : 'Expired', v.model, 'Sep 21 2022', v.authorised, 'Automatic',
          v.zp.length, v.zp[0], v.filters[0], v.zp[1] ?? null, v.filters[1] ?? null, v.zp[2] ?? null, v.filters[2] ?? null, v.zp[3] ?? null, v.filters[3] ?? null, v.locationId, v.observerId);
      }
    }
    const nm = db.prepare('INSERT INTO name_to_mac_t (name, mac_address, valid_since, valid_until, valid_state) VALUES (?,?,?,?,?)');
    for (const m of mappings) nm.run(m.name, m.mac, m.since, m.until, m.until === FOREVER ? 'Current' : 'Expired');

    // Date and time dimensions (the days used; every second of the day).
    const dt = db.prepare('INSERT INTO date_t VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)');
    for (const d of days) {
      const date = new Date(`${d}T00:00:00Z`);
      const id = Number(d.replace(/-/g, ''));
      dt.run(id, d, d, date.getUTCDate(), 1, date.getTime() / 86400000 + 2440587.5, 'Day', 'Dy', date.getUTCDay() || 7, date.getUTCMonth() + 1, 'Month', 'Mon', date.getUTCFullYear());
    }
    const tt = db.prepare('INSERT INTO time_t VALUES (?,?,?,?,?,?)');
    for (let s = 0; s < 86400; s += 1) {
      const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
      tt.run(h * 10000 + m * 100 + sec, `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`, h, m, sec, s / 86400);
    }

    // Readings: per day, per device with a name that day (and the version valid then), one a minute.
    const w = schema === 'legacy'
      ? db.prepare(`INSERT INTO tess_readings_t (date_id, time_id, tess_id, location_id, units_id, sequence_number, frequency, magnitude,
                      ambient_temperature, sky_temperature, signal_strength) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
      : db.prepare(`INSERT INTO tess_readings_t (date_id, time_id, tess_id, location_id, observer_id, units_id, sequence_number, frequency, magnitude,
                      box_temperature, sky_temperature, signal_strength) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`);
    const w4 = schema === '04'
      ? db.prepare(`INSERT INTO tess_readings4c_t (date_id, time_id, tess_id, location_id, observer_id, units_id, sequence_number,
                      freq1, mag1, freq2, mag2, freq3, mag3, freq4, mag4, box_temperature, sky_temperature, signal_strength)
                    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
      : null;
    let n = 0;
    let n4 = 0;
    for (const d of days) {
      const dateId = Number(d.replace(/-/g, ''));
      const dayStart = Date.parse(`${d}T00:00:00Z`);
      for (const v of versions) {
        if (Date.parse(`${v.since}Z`) > dayStart || Date.parse(`${v.until}Z`) <= dayStart) continue;
        const named = mappings.some((m) => m.mac === v.mac && Date.parse(`${m.since}Z`) <= dayStart && dayStart < Date.parse(`${m.until}Z`));
        if (!named) continue;
        for (let i = 0; i < perDay; i++) {
          const secs = i * 60 + v.tessId; // a few seconds apart per device
          const timeId = Math.floor(secs / 3600) * 10000 + (Math.floor(secs / 60) % 60) * 100 + (secs % 60);
          const freq = Math.round((1 + v.tessId + i / 100) * 100) / 100;
          const mag = Math.round((19 + i / 100) * 100) / 100;
          const units = i % 2;
          if (v.model === 'TESS4C') {
            w4!.run(dateId, timeId, v.tessId, v.locationId, v.observerId, units, i + 1, freq, mag, freq + 1, mag - 0.5, freq + 2, mag - 1, freq + 3, mag - 1.5, 12.5, -7.5, -70);
            n4++;
          } else if (schema === 'legacy') {
            w.run(dateId, timeId, v.tessId, v.locationId, units, i + 1, freq, mag, 12.5, -7.5, -70);
            n++;
          } else {
            w.run(dateId, timeId, v.tessId, v.locationId, v.observerId, units, i + 1, freq, mag, 12.5, -7.5, -70);
            n++;
          }
        }
      }
    }
    result.loadable = n + n4;
    if (o.orphan) {
      // The replaced device C still sending after its name moved to D: tessdb-server stored it, but it has no name.
      const dateId = Number(days[days.length - 1].replace(/-/g, ''));
      if (schema === 'legacy') w.run(dateId, 235959, 4, 3, 0, 999, 5.5, 18.5, 12.5, -7.5, -70);
      else w.run(dateId, 235959, 4, 3, -1, 0, 999, 5.5, 18.5, 12.5, -7.5, -70);
      n++;
    }
    result.readings.tess_readings_t = n;
    if (schema === '04') result.readings.tess_readings4c_t = n4;
  })();
  db.close();
  return result;
}
