/** Timestamps as ISO 8601 UTC text, for COPY rows and archive lines (hot paths). */

const DAY_MS = 86_400_000;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const TWO = Array.from({ length: 60 }, (_, i) => pad(i, 2));
const THREE = Array.from({ length: 1000 }, (_, i) => pad(i, 3));
let isoDay = Number.NaN;
let isoDayPrefix = '';

/**
 * `new Date(ms).toISOString()` without a Date per row: the `YYYY-MM-DDT` of the day is kept from the
 * previous call (rows come in time order), the time of day is assembled from tables.
 */
export function isoUtc(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    const iso = new Date(day * DAY_MS).toISOString();
    if (iso.length !== 24 || !Number.isInteger(ms)) return new Date(ms).toISOString(); // years beyond 0000–9999
    isoDay = day;
    isoDayPrefix = iso.slice(0, 11);
  }
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  splitDay(ms - day * DAY_MS);
  return `${isoDayPrefix}${TWO[clock[0]]}:${TWO[clock[1]]}:${TWO[clock[2]]}.${THREE[clock[3]]}Z`;
}

/** Hours, minutes, seconds, milliseconds of the last {@link splitDay}. */
const clock = new Int32Array(4);

function splitDay(msOfDay: number): void {
  let rest = msOfDay;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  clock[0] = h;
  clock[1] = m;
  clock[2] = sec;
  clock[3] = rest - sec * 1000;
}

let putDay = Number.NaN;
const putDayPrefix = Buffer.alloc(11);

/** {@link isoUtc} written as ASCII bytes into `buf` at `at` (no string); returns the index after it. */
export function putIsoUtc(buf: Uint8Array, at: number, ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  if (day !== putDay || !Number.isInteger(ms)) {
    const iso = isoUtc(ms);
    if (iso.length !== 24 || !Number.isInteger(ms)) {
      for (let i = 0; i < iso.length; i++) buf[at++] = iso.charCodeAt(i);
      return at;
    }
    putDay = day;
    putDayPrefix.write(iso.slice(0, 11), 'latin1');
  }
  for (let i = 0; i < 11; i++) buf[at++] = putDayPrefix[i];
  splitDay(ms - day * DAY_MS);
  const h = clock[0], m = clock[1], sec = clock[2], milli = clock[3];
  buf[at++] = 48 + Math.floor(h / 10);
  buf[at++] = 48 + (h % 10);
  buf[at++] = 58; // :
  buf[at++] = 48 + Math.floor(m / 10);
  buf[at++] = 48 + (m % 10);
  buf[at++] = 58;
  buf[at++] = 48 + Math.floor(sec / 10);
  buf[at++] = 48 + (sec % 10);
  buf[at++] = 46; // .
  buf[at++] = 48 + Math.floor(milli / 100);
  buf[at++] = 48 + (Math.floor(milli / 10) % 10);
  buf[at++] = 48 + (milli % 10);
  buf[at++] = 90; // Z
  return at;
}
