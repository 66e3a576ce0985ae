/**
 * Keeps the MQTT session alive: connects, subscribes (QoS 1) on every connect, reconnects with exponential
 * backoff, and applies topic changes on reload without reconnecting. With `mqtt.shared_group`, subscriptions
 * are MQTT v5 shared subscriptions (`$share/<group>/<topic>`) so several daemons split one stream.
 */
import type { IClientSubscribeOptions, ISubscriptionGrant, MqttClient } from 'mqtt';
import { errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';
import { Backoff } from './backoff.js';
import type { LiveStats } from './stats.js';

const MAX_RECONNECT_MS = 60_000;
const END_TIMEOUT_MS = 1500;
const PING_RESCHEDULE_MS = 1000;

/** What to check when the broker's certificate was refused (node's error codes). */
const TLS_HINTS: [RegExp, string][] = [
  [/^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$/,
    "the broker's certificate is not trusted: check mqtt.ca (the CA that signed it)"],
  [/^ERR_TLS_CERT_ALTNAME_INVALID$/, "the broker's certificate is not issued for the host in mqtt.url"],
  [/^CERT_(HAS_EXPIRED|NOT_YET_VALID)$/, "the broker's certificate is outside its validity period"],
];

export function tlsHint(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return '';
  const hint = TLS_HINTS.find(([re]) => re.test(code));
  return hint ? ` (${hint[1]})` : '';
}

/** The topic filters actually subscribed to. */
export function subscriptionFilters(topics: string[], sharedGroup: string): string[] {
  return topics.map((t) => (sharedGroup ? `$share/${sharedGroup}/${t}` : t));
}

export interface SubscriberOptions {
  topics: string[];
  sharedGroup: string;
  protocolVersion: 4 | 5;
  reconnectMs: number;
  description: string;
  stats: LiveStats;
}

export class Subscriber {
  private readonly client: MqttClient;
  private readonly opts: SubscriberOptions;
  private readonly backoff: Backoff;
  private filters: string[];
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private everConnected = false;
  private lastError = '';
  private firstSubscription: { promise: Promise<void>; resolve: () => void };

  constructor(client: MqttClient, opts: SubscriberOptions) {
    this.client = client;
    this.opts = opts;
    this.backoff = new Backoff(opts.reconnectMs, Math.max(opts.reconnectMs, MAX_RECONNECT_MS));
    this.filters = subscriptionFilters(opts.topics, opts.sharedGroup);
    let resolve = (): void => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstSubscription = { promise, resolve };
  }

  /** Resolves once the first subscription was granted. */
  get subscribed(): Promise<void> {
    return this.firstSubscription.promise;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  start(): void {
    const c = this.client;
    c.on('connect', (connack) => {
      this.opts.stats.connected = true;
      this.opts.stats.connects++;
      this.backoff.reset();
      this.lastError = '';
      if (this.everConnected && !connack.sessionPresent) {
        log.warn(`MQTT broker had no session for this client: messages published while tessdb was disconnected were not kept for it`);
      }
      log.info(`MQTT connected to ${this.opts.description}${connack.sessionPresent ? ' (session resumed)' : ''}`);
      this.everConnected = true;
      this.subscribe(this.filters);
    });
    c.on('close', () => {
      if (this.opts.stats.connected && !this.stopping) log.warn('MQTT connection closed');
      this.opts.stats.connected = false;
      this.scheduleReconnect();
    });
    c.on('error', (err) => {
      // Connection errors repeat on every attempt: say each new one once.
      const msg = `${errorMessage(err)}${tlsHint(err)}`;
      if (msg !== this.lastError) log.warn(`MQTT: ${msg}`);
      this.lastError = msg;
    });
    c.on('disconnect', (packet) => {
      log.warn(`MQTT broker disconnected us (reason code ${packet.reasonCode ?? '?'})`);
    });
    // mqtt.js only counts acknowledgements as signs of life. Under a backlog the broker's PINGRESP queues
    // behind the messages we are still taking in (slowly, on purpose), and the keepalive would drop a
    // healthy connection, making the broker resend everything in flight. A received PUBLISH proves it alive.
    // Rescheduling costs a clearTimeout + setTimeout: once a second is plenty against a 60 s keepalive.
    let rescheduledAt = 0;
    c.on('packetreceive', (packet) => {
      if (packet.cmd !== 'publish') return;
      const now = Date.now();
      if (now - rescheduledAt < PING_RESCHEDULE_MS) return;
      rescheduledAt = now;
      c.reschedulePing();
    });
    c.connect();
  }

  /** Changes the subscribed topics (SIGHUP) without reconnecting. */
  setTopics(topics: string[], sharedGroup: string): void {
    const next = subscriptionFilters(topics, sharedGroup);
    const removed = this.filters.filter((f) => !next.includes(f));
    const added = next.filter((f) => !this.filters.includes(f));
    this.filters = next;
    if (!this.client.connected) return; // the next connect subscribes to the new list
    if (removed.length) {
      this.client.unsubscribe(removed, (err) => {
        if (err) log.warn(`MQTT unsubscribe ${removed.join(', ')} failed: ${errorMessage(err)}`);
        else log.info(`MQTT unsubscribed from ${removed.join(', ')}`);
      });
    }
    if (added.length) this.subscribe(added);
  }

  /** No more reconnects; a clean DISCONNECT (the session stays on the broker), forced after a short wait. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const c = this.client;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => c.end(true, {}, () => resolve()), END_TIMEOUT_MS);
      c.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.opts.stats.connected = false;
  }

  private subscribe(filters: string[]): void {
    // QoS 1; MQTT v5 retain handling 1: retained messages only for a new subscription, not on every resubscribe.
    const options: IClientSubscribeOptions = this.opts.protocolVersion === 5 ? { qos: 1, rh: 1 } : { qos: 1 };
    const request = Object.fromEntries(filters.map((f) => [f, options]));
    this.client.subscribe(request, (err, granted) => {
      if (err) {
        log.error(`MQTT subscribe failed: ${errorMessage(err)}`);
        return;
      }
      const refused = (granted ?? []).filter((g: ISubscriptionGrant) => g.qos >= 128);
      for (const g of refused) log.error(`MQTT broker refused the subscription to ${g.topic} (code ${g.qos})`);
      const ok = (granted ?? []).filter((g: ISubscriptionGrant) => g.qos < 128);
      if (ok.length) log.info(`MQTT subscribed to ${ok.map((g) => `${g.topic} (QoS ${g.qos})`).join(', ')}`);
      if (refused.length === 0) this.firstSubscription.resolve();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer) return;
    const delay = this.backoff.next();
    log.debug(`MQTT reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping) this.client.reconnect();
    }, delay);
  }
}
