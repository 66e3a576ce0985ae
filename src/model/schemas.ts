/**
 * JSON Schemas (draft-07) of the two MQTT payloads tessdb loads. The same objects are published as
 * `docs/schemas/reading.schema.json` and `docs/schemas/register.schema.json` (a test keeps them equal)
 * and explained field by field in `docs/payload-schemas.md`.
 *
 * Rules shared by both schemas:
 * - Unknown keys are allowed and ignored (no `additionalProperties`).
 * - Numbers must be JSON numbers: the TESS firmware prints bare numbers (`String(float)`), never quoted
 *   ones, and tessdb-server never accepted strings, so `"17.3"` is rejected. Integers written as
 *   `20` where a float is expected (e.g. `calib`) are fine. NaN/Infinity (e.g. `1e400`) are rejected.
 * - `null` on an optional field means "absent".
 * - Fields tessdb does not store (`hash`, `ain`, `text`, `hrel`, `pres`, `chan`, TESS4C `zp`, …) are
 *   documented but never type-checked, so a bad value there never costs a reading.
 * - Every accepted value fits its database column (sql/001_schema.sql), so one bad payload can never
 *   make a whole COPY fail: `seq` fits `integer`; `rev`, `wdBm` fit `smallint`; values stored as
 *   `real` (freq, mag, temperatures, angles, height, zero points, offsets) must be 0 or have a
 *   magnitude between FLT_MIN (1.1754943508222875e-38) and FLT_MAX (3.4028234663852886e38).
 */

/** Accepted spelling of a photometer name before normalisation (any case, surrounding blanks). */
export const NAME_INPUT_PATTERN = '^\\s*[A-Za-z0-9_-]{1,64}\\s*$';
/** A normalised (trimmed, lower-cased) photometer name. */
export const NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;

/** Largest `seq` accepted: PostgreSQL `integer` (the firmware counter is uint32 but, at one message a minute, needs 4,000 years to get there). */
export const SEQ_MAX = 2147483647;
/** Largest magnitude of a value stored as PostgreSQL `real`. */
export const FLOAT4_MAX = 3.4028234663852886e38;
/** Smallest non-zero magnitude accepted for a value stored as `real` (FLT_MIN; PostgreSQL rejects values that round to 0). */
export const FLOAT4_MIN = 1.1754943508222875e-38;
export const SMALLINT_MIN = -32768;
export const SMALLINT_MAX = 32767;

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

const nameProperty = {
  type: 'string',
  pattern: NAME_INPUT_PATTERN,
  description:
    'Photometer name, e.g. "stars1234". Any case; surrounding blanks are trimmed and the name is lower-cased. After that it must be 1-64 characters of a-z, 0-9, "_" or "-".',
} as const;

const revProperty = {
  type: 'integer',
  minimum: 0,
  maximum: SMALLINT_MAX,
  description: 'Payload format revision (1, 2 or 3 in the field).',
} as const;

const wdBmProperty = {
  type: ['integer', 'null'],
  minimum: SMALLINT_MIN,
  maximum: SMALLINT_MAX,
  description: 'WiFi received signal strength, dBm (integer). Optional.',
} as const;

/** A number that fits PostgreSQL `real`: 0, or FLOAT4_MIN ≤ |x| ≤ FLOAT4_MAX. */
const float4 = {
  minimum: -FLOAT4_MAX,
  maximum: FLOAT4_MAX,
  not: { type: 'number', exclusiveMinimum: -FLOAT4_MIN, exclusiveMaximum: FLOAT4_MIN, not: { const: 0 } },
} as const;

const notStored = (what: string) => ({ description: `${what} Not stored by tessdb and never validated.` });

export const readingSchema = {
  $schema: DRAFT_07,
  $id: 'urn:tessdb:schema:reading',
  title: 'TESS reading payload',
  description:
    'JSON payload published by a TESS-W or TESS4C photometer on STARS4ALL/<name>/reading. A payload with an "F1" key is a TESS4C (four-channel) reading and then needs F1..F4 instead of freq/mag; otherwise it is a TESS-W reading and needs freq, mag, tamb and tsky. Unknown keys are ignored.',
  type: 'object',
  required: ['seq', 'name', 'rev'],
  properties: {
    seq: {
      type: 'integer',
      minimum: 0,
      maximum: SEQ_MAX,
      description: 'Sequence number; restarts at every reboot. At most 2147483647 (stored as a PostgreSQL integer).',
    },
    name: nameProperty,
    rev: revProperty,
    freq: {
      type: ['number', 'null'],
      ...float4,
      description: 'TESS-W: raw sensor frequency, Hz (mandatory for TESS-W, ignored for TESS4C).',
    },
    mag: {
      type: ['number', 'null'],
      ...float4,
      description: 'TESS-W: sky brightness, mag/arcsec²; 0 means saturated (daylight). Mandatory for TESS-W, ignored for TESS4C.',
    },
    tamb: {
      type: ['number', 'null'],
      ...float4,
      description: 'Ambient (enclosure) temperature, °C. Mandatory for TESS-W, optional for TESS4C.',
    },
    tsky: {
      type: ['number', 'null'],
      ...float4,
      description: 'Sky (infrared thermopile) temperature, °C. Mandatory for TESS-W, optional for TESS4C.',
    },
    wdBm: wdBmProperty,
    az: {
      type: ['number', 'null'],
      ...float4,
      description: 'Azimuth of the optical axis, degrees (units with accelerometer/magnetometer). Optional; wins over "azi".',
    },
    azi: {
      type: ['number', 'null'],
      ...float4,
      description: 'Azimuth as spelled by TESS-W firmware 2.x/3.x, degrees. Optional; used when "az" is absent.',
    },
    alt: { type: ['number', 'null'], ...float4, description: 'Altitude of the optical axis, degrees. Optional.' },
    lat: { type: ['number', 'null'], description: 'Latitude, degrees (units with GPS). Optional.' },
    long: { type: ['number', 'null'], description: 'Longitude, degrees, west negative (units with GPS). Optional.' },
    height: { type: ['number', 'null'], ...float4, description: 'Height above sea level, metres (units with GPS). Optional.' },
    tstamp: {
      type: ['string', 'null'],
      description:
        'Time of the reading, "YYYY-MM-DDTHH:MM:SS" or with a space instead of "T", optional fraction, optional "Z" or ±HH:MM / ±HHMM offset; no zone means UTC. Optional: without it the time of receipt is used.',
    },
    hash: notStored('Last 3 hex digits of the MAC (string).'),
    ain: notStored('Firmware rev 2: analogue input A0 (integer).'),
    text: notStored('Firmware rev 2: external (BME280) temperature, °C.'),
    hrel: notStored('Firmware rev 2: relative humidity, %.'),
    pres: notStored('Firmware rev 2: atmospheric pressure, hPa.'),
    F1: { $ref: '#/definitions/channelReading' },
    F2: { $ref: '#/definitions/channelReading' },
    F3: { $ref: '#/definitions/channelReading' },
    F4: { $ref: '#/definitions/channelReading' },
  },
  if: { required: ['F1'] },
  then: { required: ['F2', 'F3', 'F4'] },
  else: {
    required: ['freq', 'mag', 'tamb', 'tsky'],
    properties: {
      freq: { type: 'number' },
      mag: { type: 'number' },
      tamb: { type: 'number' },
      tsky: { type: 'number' },
    },
  },
  definitions: {
    channelReading: {
      type: 'object',
      description: 'One TESS4C channel: F1 is stored as freq/mag, F2..F4 as freq2/mag2 .. freq4/mag4.',
      required: ['freq', 'mag'],
      properties: {
        freq: { type: 'number', ...float4, description: 'Raw frequency of this channel, Hz.' },
        mag: { type: 'number', ...float4, description: 'Sky brightness of this channel, mag/arcsec²; 0 = saturated.' },
        zp: notStored('Zero point used by the photometer for this channel.'),
      },
    },
  },
} as const;

export const registerSchema = {
  $schema: DRAFT_07,
  $id: 'urn:tessdb:schema:register',
  title: 'TESS register payload',
  description:
    'JSON payload published on STARS4ALL/register when a photometer boots (three times). A payload with an "F1" key is a TESS4C registration and needs F1..F4 (band and zero point per channel); otherwise it is a TESS-W registration and needs calib. Unknown keys are ignored.',
  type: 'object',
  required: ['name', 'mac', 'rev'],
  properties: {
    name: nameProperty,
    mac: {
      type: 'string',
      description:
        'MAC address: six groups of 1-2 hex digits separated by ":" or "-" (firmware sends "60:1:94:2E:CE:EB"), or 12 bare hex digits. Normalised to zero-padded upper case with colons ("60:01:94:2E:CE:EB").',
    },
    rev: revProperty,
    calib: {
      type: ['number', 'null'],
      ...float4,
      description: 'TESS-W: zero point, mag/arcsec² (mandatory for TESS-W, ignored for TESS4C).',
    },
    chan: notStored('Channel name the unit publishes on (always "pruebas" in the field).'),
    firmware: { type: ['string', 'null'], description: 'Firmware version string. Optional.' },
    offsethz: {
      type: ['number', 'null'],
      ...float4,
      description: 'TESS-W: frequency offset (dark frequency), Hz. Optional.',
    },
    wdBm: wdBmProperty,
    F1: { $ref: '#/definitions/channelRegister' },
    F2: { $ref: '#/definitions/channelRegister' },
    F3: { $ref: '#/definitions/channelRegister' },
    F4: { $ref: '#/definitions/channelRegister' },
  },
  if: { required: ['F1'] },
  then: { required: ['F2', 'F3', 'F4'] },
  else: { required: ['calib'], properties: { calib: { type: 'number' } } },
  definitions: {
    channelRegister: {
      type: 'object',
      description: 'One TESS4C channel calibration. Missing or null values are recorded as unknown.',
      properties: {
        band: { type: ['string', 'null'], description: 'Filter / band of this channel, e.g. "UVIR" or "R".' },
        calib: { type: ['number', 'null'], ...float4, description: 'Zero point of this channel, mag/arcsec².' },
      },
    },
  },
} as const;

/** Shape of a reading payload once `readingSchema` accepted it (unknown keys omitted). */
export interface ReadingPayload {
  seq: number;
  name: string;
  rev: number;
  freq?: number | null;
  mag?: number | null;
  tamb?: number | null;
  tsky?: number | null;
  wdBm?: number | null;
  az?: number | null;
  azi?: number | null;
  alt?: number | null;
  lat?: number | null;
  long?: number | null;
  height?: number | null;
  tstamp?: string | null;
  F1?: ChannelReadingPayload;
  F2?: ChannelReadingPayload;
  F3?: ChannelReadingPayload;
  F4?: ChannelReadingPayload;
}

export interface ChannelReadingPayload {
  freq: number;
  mag: number;
}

/** Shape of a register payload once `registerSchema` accepted it (unknown keys omitted). */
export interface RegisterPayload {
  name: string;
  mac: string;
  rev: number;
  calib?: number | null;
  firmware?: string | null;
  offsethz?: number | null;
  wdBm?: number | null;
  F1?: ChannelRegisterPayload;
  F2?: ChannelRegisterPayload;
  F3?: ChannelRegisterPayload;
  F4?: ChannelRegisterPayload;
}

export interface ChannelRegisterPayload {
  band?: string | null;
  calib?: number | null;
}
