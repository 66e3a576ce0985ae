/** Register payload → `RegisterEvent`. */
import { normaliseMac } from './mac.js';
import { makeReject } from './reject.js';
import type { ChannelRegisterPayload, RegisterPayload } from './schemas.js';
import type { ChannelCalibration, RegisterEvent, Reject } from './types.js';
import { checkRegisterPayload, isRegisterPayload, showValue } from './validate.js';

/**
 * Turn a register payload received at `rx` into a `RegisterEvent`, or an `invalid_payload` reject.
 * A payload with an `F1` key is a TESS4C (four channels: `{zp: calib, filter: band, offsetHz: null}`),
 * otherwise a TESS-W (one channel: `{zp: calib, filter: null, offsetHz: offsethz ?? null}`).
 * The zero point is passed through as sent; judging it (e.g. a zero point below 10 is a known
 * firmware fault) is the registry's business. `payload` is kept verbatim (same object).
 */
export function parseRegister(payload: unknown, rx: Date): { event: RegisterEvent } | { reject: Reject } {
  const r = registerOrReject(payload, rx);
  return 'reason' in r ? { reject: r } : { event: r };
}

/** Hot-path form of {@link parseRegister}: the RegisterEvent itself, or a Reject (has `reason`). */
export function registerOrReject(payload: unknown, rx: Date): RegisterEvent | Reject {
  if (!isRegisterPayload(payload)) {
    const problem = checkRegisterPayload(payload)!;
    return makeReject('invalid_payload', payload, rx, null, problem.detail, undefined, false);
  }
  const p: RegisterPayload = payload;
  const mac = normaliseMac(p.mac);
  if (mac === null) {
    return makeReject(
      'invalid_payload',
      payload,
      rx,
      null,
      `field "mac": not a MAC address (got ${showValue(p.mac)})`,
      undefined,
      false,
    );
  }
  let model: RegisterEvent['model'];
  let channels: ChannelCalibration[];
  if (p.F1 !== undefined) {
    model = 'TESS4C';
    channels = [channel4c(p.F1), channel4c(p.F2!), channel4c(p.F3!), channel4c(p.F4!)];
  } else {
    model = 'TESS-W';
    channels = [{ zp: p.calib!, filter: null, offsetHz: p.offsethz ?? null }];
  }
  return {
    name: p.name.trim().toLowerCase(),
    mac,
    receivedAt: rx,
    model,
    rev: p.rev,
    firmware: p.firmware ?? null,
    wdbm: p.wdBm ?? null,
    channels,
    source: 'mqtt',
    payload,
  };
}

function channel4c(f: ChannelRegisterPayload): ChannelCalibration {
  return { zp: f.calib ?? null, filter: f.band ?? null, offsetHz: null };
}
