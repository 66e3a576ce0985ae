/**
 * Optional Prometheus endpoint (`live.metrics_port`, 127.0.0.1 only): GET /metrics serves the daemon's
 * counters (the same as the statistics reports) plus the process metrics of prom-client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import type { StatsSnapshot } from './stats.js';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

type NumericKey = { [K in keyof StatsSnapshot]: StatsSnapshot[K] extends number ? K : never }[keyof StatsSnapshot];

const COUNTERS: [string, NumericKey, string][] = [
  ['tessdb_live_messages_received_total', 'received', 'MQTT messages received'],
  ['tessdb_live_messages_archived_total', 'archived', 'messages written to the archive'],
  ['tessdb_live_readings_total', 'readings', 'messages that are valid readings'],
  ['tessdb_live_registers_total', 'registers', 'messages that are valid registrations'],
  ['tessdb_live_rows_loaded_total', 'loaded', 'readings inserted into the database'],
  ['tessdb_live_rows_duplicate_total', 'duplicates', 'readings already in the database'],
  ['tessdb_live_dropped_total', 'dropped', 'queued copies dropped on overflow (loaded later from the archive)'],
  ['tessdb_live_catch_up_files_total', 'catch_up_files', 'archive files loaded by catch-up'],
  ['tessdb_live_batches_total', 'batches', 'database batches committed'],
  ['tessdb_live_db_errors_total', 'db_errors', 'failed database operations'],
  ['tessdb_live_connects_total', 'connects', 'MQTT connections made'],
  ['tessdb_live_archive_errors_total', 'archive_errors', 'archive disk errors'],
];

const GAUGES: [string, (s: StatsSnapshot) => number, string][] = [
  ['tessdb_live_queue_rows', (s) => s.queue, 'messages waiting for a database batch'],
  ['tessdb_live_lag_seconds', (s) => s.lag_s ?? NaN, 'now minus the newest reading time loaded'],
  ['tessdb_live_batch_last_seconds', (s) => s.batch_ms_last / 1000, 'duration of the last database batch'],
  ['tessdb_live_batch_max_seconds', (s) => s.batch_ms_max / 1000, 'longest database batch'],
  ['tessdb_live_connected', (s) => Number(s.connected), '1 while connected to the broker'],
  ['tessdb_live_db_available', (s) => Number(s.db_available), '1 while the database accepts writes'],
  ['tessdb_live_paused', (s) => Number(s.paused), '1 while database writes are paused (SIGUSR1)'],
];

export function metricsRegistry(snapshot: () => StatsSnapshot): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  for (const [name, key, help] of COUNTERS) {
    new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(snapshot()[key]);
      },
    });
  }
  new client.Counter({
    name: 'tessdb_live_rejected_total',
    help: 'messages or readings not loaded, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(snapshot().rejected)) this.inc({ reason }, n);
    },
  });
  for (const [name, get, help] of GAUGES) {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(get(snapshot()));
      },
    });
  }
  return registry;
}

/** Serves /metrics on 127.0.0.1:`port` (0: any free port). */
export async function startMetricsServer(port: number, snapshot: () => StatsSnapshot): Promise<MetricsServer> {
  const registry = metricsRegistry(snapshot);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
