/**
 * Reading a stored event payload: a register message (MQTT shape, also used by imports and manual
 * registrations) or an administrative operation (`source: 'manual'`, `{ "op": ... }`).
 * Mirrors src/model/register.ts for the register shape, so the stored log folds like the live events.
 */
import type { ChannelCalibration, RegisterEvent } from '../model/types.js';
import type { EventSource, Model } from './types.js';

export type Interpretation =
  | { kind: 'register'; model: Model; firmware: string | null; channels: ChannelCalibration[] }
  | { kind: 'admin'; op: string; args: Record<string, unknown> }
  | { kind: 'invalid'; detail: string };

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function interpretPayload(source: EventSource, payload: unknown): Interpretation {
  if (!isObject(payload)) return { kind: 'invalid', detail: 'payload is not an object' };
  if (source === 'manual' && payload.op !== undefined) {
    if (typeof payload.op !== 'string') return { kind: 'invalid', detail: 'field "op" is not a string' };
    return { kind: 'admin', op: payload.op, args: payload };
  }
  const firmware = str(payload.firmware);
  if (payload.F1 !== undefined) {
    const channels: ChannelCalibration[] = [];
    for (const key of ['F1', 'F2', 'F3', 'F4']) {
      const f = payload[key];
      if (!isObject(f)) return { kind: 'invalid', detail: `field "${key}" is not an object` };
      channels.push({ zp: num(f.calib), filter: str(f.band), offsetHz: null });
    }
    return { kind: 'register', model: 'TESS4C', firmware, channels };
  }
  const zp = num(payload.calib);
  if (zp === null) return { kind: 'invalid', detail: 'field "calib" is missing or not a number' };
  return { kind: 'register', model: 'TESS-W', firmware, channels: [{ zp, filter: null, offsetHz: num(payload.offsethz) }] };
}

/**
 * Null when the event's own fields (model, firmware, channels) are what its payload says, else a
 * one-line description of the first difference. The registry folds the stored payload only, so an
 * event whose payload does not carry its calibration would silently lose it on rebuild.
 */
export function payloadMismatch(event: RegisterEvent): string | null {
  const it = interpretPayload(event.source, event.payload);
  if (it.kind === 'admin') return null;
  if (it.kind === 'invalid') return it.detail;
  if (it.model !== event.model) return `model ${event.model} but the payload says ${it.model}`;
  if (it.firmware !== event.firmware) return `firmware ${String(event.firmware)} but the payload says ${String(it.firmware)}`;
  if (it.channels.length !== event.channels.length) {
    return `${event.channels.length} channels but the payload has ${it.channels.length}`;
  }
  for (let i = 0; i < it.channels.length; i++) {
    const a = event.channels[i];
    const b = it.channels[i];
    if (a.zp !== b.zp || a.filter !== b.filter || a.offsetHz !== b.offsetHz) {
      return `channel ${i + 1} ${JSON.stringify(a)} but the payload says ${JSON.stringify(b)}`;
    }
  }
  return null;
}
