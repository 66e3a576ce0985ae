/**
 * Sends the PUBACKs of one event-loop turn in one socket write. mqtt.js writes every PUBACK on its own (a
 * `writev` system call each: the largest single cost of draining a backlog); corking the socket from the
 * first PUBLISH handled in a turn until the end of that turn (setImmediate) coalesces them. No acknowledgement
 * waits beyond the turn in which the receiver released it.
 */
import type { MqttClient } from 'mqtt';

interface Corkable {
  cork(): void;
  uncork(): void;
}

function corkable(stream: unknown): Corkable | undefined {
  const s = stream as Partial<Corkable> | undefined;
  return typeof s?.cork === 'function' && typeof s.uncork === 'function' ? (s as Corkable) : undefined;
}

export function batchAcksPerTurn(client: MqttClient): void {
  let corked: Corkable | undefined;
  const uncork = (): void => {
    const s = corked;
    corked = undefined;
    s?.uncork();
  };
  client.on('packetreceive', (packet) => {
    if (packet.cmd !== 'publish' || corked) return;
    const s = corkable(client.stream);
    if (!s) return;
    s.cork();
    corked = s;
    setImmediate(uncork);
  });
}
