/** Rotation periods of archive files: which UTC period an instant belongs to. */

/** How often the writer starts a new archive file. `{ seconds }` periods are aligned on the Unix epoch (UTC). */
export type RotationPolicy = 'hourly' | 'daily' | { seconds: number };

/** Length of one rotation period in seconds; throws on an invalid policy. */
export function rotationSeconds(policy: RotationPolicy): number {
  if (policy === 'hourly') return 3600;
  if (policy === 'daily') return 86400;
  const s = typeof policy === 'object' && policy !== null ? policy.seconds : NaN;
  if (!Number.isInteger(s) || s < 1) {
    throw new RangeError(`invalid archive rotation ${JSON.stringify(policy)}: expected 'hourly', 'daily' or { seconds: <integer ≥ 1> }`);
  }
  return s;
}

/** Start (ms since epoch, UTC) of the rotation period containing `timeMs`. */
export function periodStartMs(timeMs: number, periodSeconds: number): number {
  const p = periodSeconds * 1000;
  return Math.floor(timeMs / p) * p;
}
