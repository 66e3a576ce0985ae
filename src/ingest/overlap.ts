/**
 * One job's files with the end of one overlapping the start of the next: once a file is parsed to its
 * end (only its last COPY, daylight refresh, ingest record and COMMIT remain, work for the database),
 * the next file is opened and parsed on a second connection. At most two files are in flight, each in its
 * own transaction with its own loader; results are reported in file order. A file that changed the
 * registry is finished before the next starts, so that the next one is attributed with it.
 */
import type { FileResult, FileToIngest } from './ingest-file.js';

/**
 * `ingest(file, loader, loaded, previous)` loads one file; it calls `loaded()` when the rest of its work
 * no longer needs the parser (it may never call it: then the next file waits for it to finish).
 * `previous` settles when the file before it is finished (committed or not).
 */
export async function ingestOverlapped<L>(
  take: () => FileToIngest | undefined,
  loaders: [L, L],
  ingest: (file: FileToIngest, loader: L, loaded: () => void, previous: Promise<unknown>) => Promise<FileResult>,
  onResult: (r: FileResult) => void,
): Promise<void> {
  const inFlight: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  let reported: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | undefined;
  let finished: Promise<unknown> = Promise.resolve();
  for (let slot = 0; ; slot ^= 1) {
    await inFlight[slot]; // the file that used this loader two files ago is finished
    const file = failure ? undefined : take();
    if (file === undefined) break;
    let loaded!: () => void;
    const parsed = new Promise<void>((resolve) => (loaded = resolve));
    const done = ingest(file, loaders[slot], loaded, finished);
    finished = done.catch(() => undefined);
    const previous = reported;
    reported = done.then(
      async (r) => {
        await previous;
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
