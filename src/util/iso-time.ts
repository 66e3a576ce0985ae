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
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${isoDayPrefix}${TWO[h]}:${TWO[m]}:${TWO[sec]}.${THREE[rest - sec * 1000]}Z`;
}

let bytesDay = Number.NaN;
const bytesDayPrefix = new Uint8Array(11);

function putTwo(b: Uint8Array, at: number, n: number): void {
  const tens = (n / 10) | 0;
  b[at] = 0x30 + tens;
  b[at + 1] = 0x30 + n - tens * 10;
}

/** {@link isoUtc} written as ASCII into `b` at `at`, without a string; returns the index after it. */
export function putIsoUtc(b: Uint8Array, at: number, ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  if (day !== bytesDay || !Number.isInteger(ms)) {
    const iso = isoUtc(ms);
    if (iso.length !== 24 || !Number.isInteger(ms)) {
      for (let i = 0; i < iso.length; i++) b[at++] = iso.charCodeAt(i);
      return at;
    }
    bytesDay = day;
    for (let i = 0; i < 11; i++) bytesDayPrefix[i] = iso.charCodeAt(i);
  }
  for (let i = 0; i < 11; i++) b[at++] = bytesDayPrefix[i];
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  const milli = rest - sec * 1000;
  putTwo(b, at, h);
  b[at + 2] = 0x3a; // ':'
  putTwo(b, at + 3, m);
  b[at + 5] = 0x3a;
  putTwo(b, at + 6, sec);
  b[at + 8] = 0x2e; // '.'
  const hundreds = (milli / 100) | 0;
  b[at + 9] = 0x30 + hundreds;
  putTwo(b, at + 10, milli - hundreds * 100);
  b[at + 12] = 0x5a; // 'Z'
  return at + 13;
}
