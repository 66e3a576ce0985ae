/** Which database errors mean "unavailable, retry later" as opposed to "this batch cannot be loaded". */

/** SQLSTATE classes / codes that a later attempt can get past. */
const RETRY_CLASSES = ['08', '53', '57', '28']; // connection, resources (disk full, too many connections), shutdown/cancel, auth
const RETRY_CODES = new Set(['55000', '55006', '3D000', '40001', '40P01', '25P03', '42501']);

export function isTransientDbError(err: unknown): boolean {
  // Programming errors never get better by retrying.
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true; // "Connection terminated unexpectedly", timeouts: no SQLSTATE
  // Node network errors (ECONNREFUSED, ECONNRESET, EPIPE…): no SQLSTATE class starts with E.
  if (code.startsWith('E') || !/^[0-9A-Z]{5}$/.test(code)) return true;
  if (RETRY_CODES.has(code)) return true;
  return RETRY_CLASSES.some((c) => code.startsWith(c));
}
