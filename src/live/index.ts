/** `tessdb live`: the MQTT daemon (design.md §5). */
export { startLive, archiveTag, rotationPolicy } from './daemon.js';
export type { LiveHandle, LiveOptions, LiveExit } from './daemon.js';
export { mqttSettings, defaultClientId, NO_BROKER_MESSAGE } from './mqtt-options.js';
export type { MqttSettings } from './mqtt-options.js';
export { subscriptionFilters } from './subscriber.js';
export { toArchiveMessage } from './message.js';
export { formatStats } from './stats.js';
export type { StatsSnapshot } from './stats.js';
