/**
 * Keeps lines longer than a bound away from a parser that would buffer them whole (csv-parse): the bytes of
 * an overlong line are dropped (its newline is kept, so line numbers stay right) and reported, so memory
 * holds at most one bounded line however long the line in the file is.
 */

const NL = 0x0a;
const NEWLINE = Buffer.from('\n');
/** How much of an overlong line is kept for the reject's raw text. */
const HEAD_CHARS = 2000;

export interface OverlongLine {
  /** 1-based physical line number. */
  lineNo: number;
  /** Its length in bytes (without the newline). */
  bytes: number;
  /** Its first characters. */
  head: string;
}

const headOf = (parts: Buffer[]): string => Buffer.concat(parts).toString('utf8', 0, HEAD_CHARS * 4).slice(0, HEAD_CHARS);

export async function* guardLines(chunks: AsyncIterable<Buffer>, maxLineBytes: number, onOverlong: (line: OverlongLine) => void): AsyncGenerator<Buffer> {
  let lineNo = 1;
  // The start of the current line when it began in an earlier chunk: held back until it is known to be short
  // enough, or (skipped > 0) already found too long and dropped.
  let held: Buffer[] = [];
  let heldBytes = 0;
  let skipped = 0;
  let head = '';
  for await (const chunk of chunks) {
    const out: Buffer[] = [];
    let lineStart = 0;
    let passFrom = 0;
    for (let nl = chunk.indexOf(NL); nl !== -1; nl = chunk.indexOf(NL, nl + 1)) {
      const continued = lineStart === 0;
      const bytes = (continued ? heldBytes + skipped : 0) + nl - lineStart;
      if (bytes > maxLineBytes) {
        if (!(continued && skipped > 0)) head = headOf(continued ? [...held, chunk.subarray(0, Math.min(nl, HEAD_CHARS * 4))] : [chunk.subarray(lineStart, Math.min(nl, lineStart + HEAD_CHARS * 4))]);
        onOverlong({ lineNo, bytes, head });
        if (lineStart > passFrom) out.push(chunk.subarray(passFrom, lineStart));
        out.push(NEWLINE);
        passFrom = nl + 1;
      } else if (continued && heldBytes > 0) {
        out.push(...held);
      }
      if (continued) {
        held = [];
        heldBytes = 0;
        skipped = 0;
        head = '';
      }
      lineNo++;
      lineStart = nl + 1;
    }
    const rest = chunk.subarray(lineStart);
    if (lineStart > passFrom) out.push(chunk.subarray(passFrom, lineStart));
    if (skipped > 0) {
      skipped += rest.length; // lineStart is 0 here: the dropped line goes on
    } else if ((lineStart === 0 ? heldBytes : 0) + rest.length > maxLineBytes) {
      const parts = lineStart === 0 ? [...held, rest] : [rest];
      head = headOf(parts.map((p) => p.subarray(0, HEAD_CHARS * 4)));
      skipped = (lineStart === 0 ? heldBytes : 0) + rest.length;
      held = [];
      heldBytes = 0;
    } else if (rest.length > 0) {
      held.push(Buffer.from(rest));
      heldBytes += rest.length;
    }
    for (const b of out) if (b.length > 0) yield b;
  }
  if (skipped > 0) onOverlong({ lineNo, bytes: skipped, head });
  else for (const b of held) yield b;
}
