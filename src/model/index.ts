/** Record model: pure functions turning MQTT payloads into tessdb records (no I/O). */
export type * from './types.js';
export { classifyMessage, DEFAULT_TOPIC_PREFIX, type ClassifyOptions } from './classify.js';
export { parseReading } from './reading.js';
export { parseRegister } from './register.js';
export { normaliseMac } from './mac.js';
export {
  parseTstamp,
  parseTstampMs,
  chooseTimestamp,
  MIN_TSTAMP_MS,
  MAX_FUTURE_MS,
  type TimestampChoice,
} from './timestamp.js';
export {
  validateReadingPayload,
  validateRegisterPayload,
  checkReadingPayload,
  checkRegisterPayload,
  type PayloadProblem,
} from './validate.js';
export { readingSchema, registerSchema, NAME_PATTERN } from './schemas.js';
export { SAMPLE_MAX_CHARS, utcDay } from './reject.js';
