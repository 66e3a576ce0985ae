/**
 * The configuration's shape: one JSON Schema (validated by ajv, which also fills defaults) and the
 * matching TypeScript type. `conf/tessdb.example.toml` documents every key; a test keeps them in sync.
 */
import os from 'node:os';
import { MAX_PAYLOAD_BYTES_LIMIT } from '../archive/encode-line.js';

export interface DatabaseConfig {
  url: string;
  host: string;
  port: number;
  user: string;
  dbname: string;
  password_file: string;
  sslmode: '' | 'disable' | 'require' | 'verify-ca' | 'verify-full';
  sslrootcert: string;
  schema: string;
  embedded_dir: string;
  embedded_port: number;
}

export interface ArchiveConfig {
  dir: string;
  rotate: 'hourly' | 'daily';
  max_file_mb: number;
  flush_ms: number;
  max_payload_bytes: number;
  rotate_s: number;
  host_tag: string;
}

export interface MqttConfig {
  url: string;
  client_id: string;
  username: string;
  password_file: string;
  topics: string[];
  topic_prefix: string;
  shared_group: string;
  ca: string;
  cert: string;
  key: string;
  session_expiry_s: number;
  reconnect_ms: number;
  protocol_version: 4 | 5;
}

export interface LiveConfig {
  batch_rows: number;
  batch_ms: number;
  stats_s: number;
  metrics_port: number;
  max_queue_rows: number;
  catch_up_hours: number;
}

export interface IngestConfig {
  jobs: number;
  batch_rows: number;
  /** How long `ingest` waits for a database that went away mid-run before giving up (seconds; 0: give up at once). */
  db_retry_s: number;
  /** Recompute daylight flags only near the ends of what a file added, when nothing else is in its range (sql/006). */
  daylight_edges: boolean;
  /**
   * Whether a file's COMMIT waits for its WAL to be flushed. Off: a database crash may lose the last files'
   * transactions whole (rows and ingest record together); the next run loads them again from the files.
   */
  synchronous_commit: boolean;
}

export interface RegistryConfig {
  require_authorisation: boolean;
}

export interface FilterConfig {
  daylight: 'drop' | 'keep';
}

/** Reading fields a `[[csv.formats]]` column can be mapped to (`ignore`: read and dropped). */
export const CSV_FIELDS = [
  'name', 'time', 'date', 'clock', 'seq', 'freq', 'mag', 'tamb', 'tsky', 'wdbm', 'rev', 'azimuth', 'altitude',
  'longitude', 'latitude', 'height', 'freq2', 'mag2', 'freq3', 'mag3', 'freq4', 'mag4', 'tstamp_src', 'ignore',
] as const;
export type CsvField = (typeof CSV_FIELDS)[number];

/** One generic CSV layout (`[[csv.formats]]`), chosen for files whose path matches `glob`. */
export interface CsvFormatConfig {
  label: string;
  glob: string;
  delimiter: string;
  header: boolean;
  skip_lines: number;
  comment: string;
  decimal: '.' | ',';
  columns: Record<string, CsvField>;
  time_format: string;
  timezone: string;
  name_source: 'column' | 'file' | 'fixed';
  name: string;
  name_pattern: string;
  tstamp_source: 'publisher' | 'subscriber';
}

export interface CsvConfig {
  formats: CsvFormatConfig[];
}

export interface Config {
  host: string;
  data_dirs: string[];
  replica_dirs: string[];
  include: string[];
  exclude: string[];
  database: DatabaseConfig;
  archive: ArchiveConfig;
  mqtt: MqttConfig;
  live: LiveConfig;
  ingest: IngestConfig;
  registry: RegistryConfig;
  csv: CsvConfig;
  filter: FilterConfig;
}

/** Keys whose values are secrets: masked by --dump-config and never logged. */
export const SECRET_KEYS = new Set(['database.url', 'mqtt.url']);

const str = (d: string) => ({ type: 'string', default: d });
const int = (d: number, minimum = 0, maximum = 2 ** 31 - 1) => ({ type: 'integer', default: d, minimum, maximum });
const strList = (d: string[]) => ({ type: 'array', items: { type: 'string' }, default: d });
const section = (properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  properties,
});

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: str(os.hostname()),
    data_dirs: strList([]),
    replica_dirs: strList([]),
    include: strList(['**/*.ndjson.gz', '**/*.dat', '**/*.csv', '**/*.db', '**/*.sqlite']),
    exclude: strList(['**/*.part', '**/.*/**']),
    database: section({
      url: str(''),
      host: str(''),
      port: int(5432, 1, 65535),
      user: str(''),
      dbname: str(''),
      password_file: str(''),
      sslmode: { type: 'string', enum: ['', 'disable', 'require', 'verify-ca', 'verify-full'], default: '' },
      sslrootcert: str(''),
      schema: { type: 'string', default: 'public', minLength: 1, maxLength: 63 },
      embedded_dir: str(''),
      embedded_port: int(5433, 1, 65535),
    }),
    archive: section({
      dir: str('./archive'),
      rotate: { type: 'string', enum: ['hourly', 'daily'], default: 'hourly' },
      max_file_mb: int(256, 1),
      flush_ms: int(1000, 10, 60_000),
      max_payload_bytes: int(262_144, 1024, MAX_PAYLOAD_BYTES_LIMIT),
      rotate_s: int(0, 0, 86_400),
      host_tag: str(''),
    }),
    mqtt: section({
      url: str(''),
      client_id: str(''),
      username: str(''),
      password_file: str(''),
      topics: strList(['STARS4ALL/+/reading', 'STARS4ALL/register']),
      topic_prefix: str('STARS4ALL'),
      shared_group: str(''),
      ca: str(''),
      cert: str(''),
      key: str(''),
      session_expiry_s: int(7 * 24 * 3600),
      reconnect_ms: int(2000, 100),
      protocol_version: { type: 'integer', enum: [4, 5], default: 5 },
    }),
    live: section({
      batch_rows: int(5000, 1),
      batch_ms: int(1000, 10),
      stats_s: int(3600, 1),
      metrics_port: int(0, 0, 65535),
      max_queue_rows: int(100_000, 1000),
      catch_up_hours: int(48, 0, 24 * 366),
    }),
    ingest: section({
      jobs: int(1, 1, 64),
      batch_rows: int(50_000, 100),
      db_retry_s: int(300, 0, 86_400),
      daylight_edges: { type: 'boolean', default: true },
      synchronous_commit: { type: 'boolean', default: false },
    }),
    registry: section({
      require_authorisation: { type: 'boolean', default: false },
    }),
    csv: section({
      formats: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['glob', 'columns'],
          properties: {
            label: str(''),
            glob: { type: 'string', minLength: 1 },
            delimiter: { type: 'string', enum: ['auto', ',', ';', '\t', '|', ' '], default: 'auto' },
            header: { type: 'boolean', default: true },
            skip_lines: int(0, 0, 1000),
            comment: { type: 'string', maxLength: 1, default: '#' },
            decimal: { type: 'string', enum: ['.', ','], default: '.' },
            columns: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', enum: CSV_FIELDS } },
            time_format: str('iso'),
            timezone: str('UTC'),
            name_source: { type: 'string', enum: ['column', 'file', 'fixed'], default: 'column' },
            name: str(''),
            name_pattern: str('^([A-Za-z0-9-]+)'),
            tstamp_source: { type: 'string', enum: ['publisher', 'subscriber'], default: 'subscriber' },
          },
        },
      },
    }),
    filter: section({
      daylight: { type: 'string', enum: ['drop', 'keep'], default: 'drop' },
    }),
  },
} as const;
