/** Splits a stream of decompressed Buffers into newline-terminated lines (a fast manual splitter, not readline). */

const NL = 0x0a;
/** How much of an overlong line is kept for diagnostics. */
const OVERLONG_HEAD_CHARS = 2000;

/** A line longer than the splitter's limit: only its length and a prefix are kept. */
export interface OverlongLine {
  overlong: number;
  head: string;
}

export type SplitLine = string | OverlongLine;

/** The complete lines of one chunk (LineSplitter#pushBytes). */
export interface ChunkLines {
  /** The line that began in earlier chunks and ends in this one, decoded. */
  carried: SplitLine | null;
  buf: Buffer;
  /** The chunk's own lines are buf[from, to), separated by newlines; `to` is the chunk's last newline. */
  from: number;
  to: number;
}

/**
 * Incremental splitter. Each chunk is decoded with one `toString` between its first and last newline
 * and split with `String.prototype.split`, so the per-line cost is a slice, not a Buffer operation.
 * Only the bytes after the last newline are carried (copied) to the next chunk. Lines longer than
 * `maxLineBytes` are not accumulated; they come out as an OverlongLine.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Bytes of an overlong line skipped so far (0 = not skipping). */
  private skipped = 0;
  private skippedHead = '';

  constructor(private readonly maxLineBytes = 16 * 1024 * 1024) {}

  /** Complete lines (without `\n`) in `chunk`, in order, preceded by the carried partial line when it ends here. */
  push(chunk: Buffer): SplitLine[] {
    const group = this.pushBytes(chunk);
    return group === null ? [] : linesOf(group);
  }

  /**
   * As {@link push}, but the lines of the chunk stay bytes: `carried` is the line completed by this chunk
   * (decoded), then come the newline-separated lines of `buf` from `from` to `to`, the chunk's last newline.
   * Null when the chunk holds no newline.
   */
  pushBytes(chunk: Buffer): ChunkLines | null {
    const last = chunk.lastIndexOf(NL);
    if (last === -1) {
      this.hold(chunk);
      return null;
    }
    let carried: SplitLine | null = null;
    let from = 0;
    if (this.carryBytes > 0 || this.skipped > 0) {
      const first = chunk.indexOf(NL);
      carried = this.takeCarry(chunk.subarray(0, first));
      from = first + 1;
    }
    if (last + 1 < chunk.length) this.hold(Buffer.from(chunk.subarray(last + 1)));
    return { carried, buf: chunk, from, to: last };
  }

  /** The unterminated last line, if any (call once the input has ended). */
  end(): SplitLine | null {
    if (this.carryBytes === 0 && this.skipped === 0) return null;
    return this.takeCarry(Buffer.alloc(0));
  }

  /** Bytes currently held for an unterminated line. */
  get pendingBytes(): number {
    return this.skipped > 0 ? this.skipped : this.carryBytes;
  }

  private hold(part: Buffer): void {
    if (this.skipped > 0) {
      this.skipped += part.length;
      return;
    }
    if (this.carryBytes + part.length > this.maxLineBytes) {
      this.carry.push(part);
      this.skippedHead = Buffer.concat(this.carry).toString('utf8', 0, OVERLONG_HEAD_CHARS * 4).slice(0, OVERLONG_HEAD_CHARS);
      this.skipped = this.carryBytes + part.length;
      this.carry = [];
      this.carryBytes = 0;
      return;
    }
    this.carry.push(part);
    this.carryBytes += part.length;
  }

  private takeCarry(tail: Buffer): SplitLine {
    if (this.skipped > 0) {
      const line: OverlongLine = { overlong: this.skipped + tail.length, head: this.skippedHead };
      this.skipped = 0;
      this.skippedHead = '';
      return line;
    }
    this.carry.push(tail);
    const text = Buffer.concat(this.carry, this.carryBytes + tail.length).toString('utf8');
    this.carry = [];
    this.carryBytes = 0;
    return text;
  }
}

/** The lines of a ChunkLines, decoded: one `toString` and one `split` for the chunk's own lines. */
export function linesOf(group: ChunkLines): SplitLine[] {
  const { buf, from, to, carried } = group;
  const lines: SplitLine[] = from < to ? buf.toString('utf8', from, to).split('\n') : from === to ? [''] : [];
  if (carried !== null) lines.unshift(carried);
  return lines;
}
