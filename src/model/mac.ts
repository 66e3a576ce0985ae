/** MAC address normalisation. */

const HEX = '0123456789ABCDEF';

/** Value of a hex digit char code, or -1. */
function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Normalise a MAC address to zero-padded upper case with colons: `"60:1:94:2E:CE:EB"` →
 * `"60:01:94:2E:CE:EB"`. Accepts six groups of 1-2 hex digits separated by `:` or `-` (one kind
 * throughout), or 12 bare hex digits; surrounding blanks are ignored. Anything else → null.
 */
export function normaliseMac(input: string): string | null {
  if (typeof input !== 'string') return null;
  const s = input.trim();
  const len = s.length;
  if (len === 12) {
    let out = '';
    for (let i = 0; i < 12; i++) {
      const v = hexVal(s.charCodeAt(i));
      if (v < 0) return null;
      if (i > 0 && i % 2 === 0) out += ':';
      out += HEX[v];
    }
    return out;
  }
  if (len < 11 || len > 17) return null;
  let sep = -1;
  let out = '';
  let groups = 0;
  let i = 0;
  while (i <= len) {
    // one group of 1-2 hex digits
    const a = i < len ? hexVal(s.charCodeAt(i)) : -1;
    if (a < 0) return null;
    const b = i + 1 < len ? hexVal(s.charCodeAt(i + 1)) : -1;
    if (b >= 0) {
      out += HEX[a] + HEX[b];
      i += 2;
    } else {
      out += '0' + HEX[a];
      i += 1;
    }
    groups++;
    if (i === len) break;
    const c = s.charCodeAt(i);
    if (c !== 58 && c !== 45) return null; // ':' '-'
    if (sep === -1) sep = c;
    else if (c !== sep) return null;
    if (groups === 6) return null;
    out += ':';
    i++;
  }
  return groups === 6 ? out : null;
}
