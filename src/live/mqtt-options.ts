/**
 * MQTT connection settings of `tessdb live` from the configuration (design.md §5): broker URL, a fixed client
 * id, a persistent session (`clean: false`, MQTT v5 session expiry), credentials from a file or the
 * environment, TLS files. Reconnecting and subscribing are the Subscriber's job.
 */
import fs from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { maskUrl, readPasswordFile, readPrivateFile, type Config } from '../config/index.js';
import { UserError } from '../util/errors.js';

export const NO_BROKER_MESSAGE =
  'no MQTT broker configured: set url under [mqtt] in the configuration file (e.g. url = "mqtt://broker.example.org:1883") ' +
  'or the environment variable TESSDB_MQTT_URL; tessdb live has no default broker';

const noop = (): void => undefined;
const PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:']);
const TLS_PROTOCOLS = new Set(['mqtts:', 'tls:', 'ssl:', 'wss:']);

export interface MqttSettings {
  url: string;
  options: IClientOptions;
  clientId: string;
  /** For log lines: URL with the password masked, and the client id. */
  description: string;
}

/** `tessdb-<host>`: stable across restarts, so the broker keeps the session (and queues messages) meanwhile. */
export function defaultClientId(host: string): string {
  return `tessdb-${host.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
}

function readFileSetting(file: string, key: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UserError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Throws UserError when no broker is configured or a setting is unusable. */
export function mqttSettings(config: Config, env: NodeJS.ProcessEnv = process.env): MqttSettings {
  const m = config.mqtt;
  const url = m.url.trim();
  if (!url) throw new UserError(NO_BROKER_MESSAGE);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`mqtt.url: "${maskUrl(url)}" is not a URL (expected e.g. mqtt://broker:1883 or mqtts://broker:8883)`);
  }
  if (!PROTOCOLS.has(parsed.protocol)) {
    throw new UserError(`mqtt.url: unsupported scheme "${parsed.protocol}" (use mqtt://, mqtts://, ws:// or wss://)`);
  }
  if (m.topics.length === 0) throw new UserError('mqtt.topics is empty: nothing to subscribe to');
  const clientId = m.client_id || defaultClientId(config.host);
  const options: IClientOptions = {
    clientId,
    clean: false,
    protocolVersion: m.protocol_version,
    keepalive: 60,
    connectTimeout: 30_000,
    reconnectPeriod: 0, // the Subscriber reconnects, with backoff
    resubscribe: false, // the Subscriber subscribes on every connect
    manualConnect: true,
    queueQoSZero: false,
  };
  // mqtt.js logs every packet through `debug`, which costs a call and an "enabled?" check each even when off.
  if (!/mqttjs|\*/.test(env.DEBUG ?? '')) options.log = noop;
  if (m.protocol_version === 5) options.properties = { sessionExpiryInterval: m.session_expiry_s };
  if (m.username) options.username = m.username;
  const password = m.password_file ? readPasswordFile(m.password_file, 'mqtt.password_file') : env.TESSDB_MQTT_PASSWORD;
  if (password) options.password = password;
  const tlsFiles = (['ca', 'cert', 'key'] as const).filter((k) => m[k]);
  if (tlsFiles.length && !TLS_PROTOCOLS.has(parsed.protocol)) {
    // Otherwise the files would be ignored and the connection silently unencrypted.
    throw new UserError(`mqtt.${tlsFiles[0]} is set but mqtt.url uses ${parsed.protocol}// (no TLS): use mqtts:// or wss://`);
  }
  if (m.ca) options.ca = readFileSetting(m.ca, 'mqtt.ca');
  if (m.cert) options.cert = readFileSetting(m.cert, 'mqtt.cert');
  if (m.key) options.key = readPrivateFile(m.key, 'mqtt.key');
  if (m.cert && !m.key) throw new UserError('mqtt.cert is set but mqtt.key is not: a client certificate needs its private key');
  // Always verified (mqtt.ca, else the system CAs) and always by host name: there is no setting to turn it off.
  options.rejectUnauthorized = true;
  return { url, options, clientId, description: `${maskUrl(url)} as client "${clientId}"` };
}

/**
 * MQTT v5 Receive Maximum of `tessdb live`: how many QoS 1 messages the broker may send before it waits for
 * PUBACKs. Without it mosquitto keeps only 20 in flight (max_inflight_messages), so a backlog drains in
 * round trips of 20. Memory stays bounded: unread messages wait in TCP buffers.
 * On a reconnect at most this many messages are sent again (the archive and the database take duplicates).
 */
export const RECEIVE_MAXIMUM = 1000;

/** The connect options with the receive window (MQTT v5 only; v3.1.1 has no such property). */
export function withReceiveWindow(options: IClientOptions): IClientOptions {
  if (options.protocolVersion !== 5) return options;
  return { ...options, properties: { ...options.properties, receiveMaximum: RECEIVE_MAXIMUM } };
}
