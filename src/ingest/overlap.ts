/**
 * One job's files with the end of one overlapping the start of the next: once a file is parsed to its
 * end (only its last COPY, daylight refresh, ingest record and COMMIT remain, work for the database),
 * the next file is opened and parsed on a second connection. At most two files are in flight, each in its
 * own transaction with its own loader; results are reported in file order. When a file changed the
 * registry, the next one is still parsed meanwhile, but registers and loads nothing before that file is
 * finished, and then takes a new registry snapshot (ingest-file.ts), so that it is attributed with it.
 */
import type { FileResult, FileToIngest } from './ingest-file.js';

/** The file before the one being loaded: settled when it is finished (committed or not), and its photometer names. */
export interface Predecessor {
  done: Promise<unknown>;
  names: ReadonlySet<string>;
  /** Set when it was parsed: it registered photometers (the next file's snapshot of the registry must wait for it). */
  registryChanged: boolean;
}

/**
 * `ingest(file, loader, loaded, previous, names)` loads one file; it calls `loaded(registryChanged)` when the
 * rest of its work no longer needs the parser (it may never call it: then the next file waits for it to finish), and
 * adds the names of its readings to `names` while parsing (the next file's `previous.names`).
 */
export async function ingestOverlapped<L>(
  take: () => FileToIngest | undefined,
  loaders: [L, L],
  ingest: (file: FileToIngest, loader: L, loaded: (registryChanged: boolean) => void, previous: Predecessor, names: Set<string>) => Promise<FileResult>,
  onResult: (r: FileResult) => void,
): Promise<void> {
  const inFlight: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  let reported: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | undefined;
  let previous: Predecessor = { done: Promise.resolve(), names: new Set(), registryChanged: false };
  for (let slot = 0; ; slot ^= 1) {
    await inFlight[slot]; // the file that used this loader two files ago is finished
    const file = failure ? undefined : take();
    if (file === undefined) break;
    const me = { done: Promise.resolve() as Promise<unknown>, names: new Set<string>(), registryChanged: false };
    let loaded!: (registryChanged: boolean) => void;
    const parsed = new Promise<void>((resolve) => {
      loaded = (registryChanged) => {
        me.registryChanged = registryChanged;
        resolve();
      };
    });
    const done = ingest(file, loaders[slot], loaded, previous, me.names);
    me.done = done.catch(() => undefined);
    previous = me;
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
