/**
 * One job's files with the end of one overlapping the start of the next: once a file is parsed to its
 * end (only its last COPY, daylight refresh, ingest record and COMMIT remain, work for the database),
 * the next file is opened and parsed on a second connection. At most two files are in flight, each in its
 * own transaction with its own loader; results are reported in file order. A file that changed the
 * registry is finished before the next starts, so that the next one is attributed with it.
 */
import type { FileResult, FileToIngest } from './ingest-file.js';

/** The file before the one being loaded: settled when it is finished (committed or not), and its photometer names. */
export interface Predecessor {
  done: Promise<unknown>;
  names: ReadonlySet<string>;
}

/**
 * `ingest(file, loader, loaded, previous, names)` loads one file; it calls `loaded()` when the rest of its
 * work no longer needs the parser (it may never call it: then the next file waits for it to finish), and
 * adds the names of its readings to `names` while parsing (the next file's `previous.names`).
 */
export async function ingestOverlapped<L>(
  take: () => FileToIngest | undefined,
  loaders: [L, L],
  ingest: (file: FileToIngest, loader: L, loaded: () => void, previous: Predecessor, names: Set<string>) => Promise<FileResult>,
  onResult: (r: FileResult) => void,
): Promise<void> {
  const inFlight: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  let reported: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | undefined;
  let previous: Predecessor = { done: Promise.resolve(), names: new Set() };
  for (let slot = 0; ; slot ^= 1) {
    await inFlight[slot]; // the file that used this loader two files ago is finished
    const file = failure ? undefined : take();
    if (file === undefined) break;
    let loaded!: () => void;
    const parsed = new Promise<void>((resolve) => (loaded = resolve));
    const names = new Set<string>();
    const done = ingest(file, loaders[slot], loaded, previous, names);
    previous = { done: done.catch(() => undefined), names };
    const before = reported;
    reported = done.then(
      async (r) => {
        await before;
        onResult(r);
      },
      (err) => {
        failure ??= { err };
      },
    );
    inFlight[slot] = reported;
    await Promise.race([parsed, reported]);
  }
  await reported;
  await Promise.all(inFlight);
  if (failure) throw failure.err;
}
