/** Archive files (design.md §2): the reader used by `ingest` and the writer used by `live`. */
export { openArchive, decodeArchiveLine, DEFAULT_BATCH_LINES } from './reader.js';
export type { ArchiveLine, ArchiveReadStats, OpenArchiveOptions, OpenedArchive } from './reader.js';
export { ArchiveLineError, archiveMessageFromObject, rawPayloadBytes } from './decode-line.js';
export { ArchiveWriter } from './writer.js';
export type { ArchiveWriterOptions, ArchiveWriterEvents } from './writer.js';
export type { ClosedArchive, ArchiveFs, ArchiveFileHandle } from './archive-file.js';
export { encodeArchiveLine, DEFAULT_MAX_PAYLOAD_BYTES, MAX_ARCHIVE_LINE_BYTES, MAX_PAYLOAD_BYTES_LIMIT, OVERSIZE_PREFIX_BYTES } from './encode-line.js';
export type { ArchiveInput } from './encode-line.js';
export { finaliseLeftovers } from './leftovers.js';
export type { FinaliseLeftoversOptions } from './leftovers.js';
export {
  ARCHIVE_SUFFIX,
  PART_SUFFIX,
  archiveFileName,
  archivePath,
  parseArchiveName,
  sanitiseHost,
} from './naming.js';
export type { ParsedArchiveName } from './naming.js';
export { rotationSeconds, periodStartMs } from './rotation.js';
export type { RotationPolicy } from './rotation.js';
