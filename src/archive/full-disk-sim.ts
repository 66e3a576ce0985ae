/**
 * Test hook, documented in docs/live.md: a simulated full archive disk for test/faults/slow/live-disk-full.test.ts
 * where a small tmpfs cannot be mounted. With `TESSDB_TEST_ARCHIVE_FULL_IF=<file>`, `tessdb live` writes its
 * archive through this ArchiveFs: while `<file>` exists every write to an archive file fails with ENOSPC, as on
 * a full file system (creating, truncating, syncing and renaming files still work, as they do on a full tmpfs).
 */
import fs from 'node:fs';
import { nodeArchiveFs, type ArchiveFs } from './archive-file.js';

export function fullWhileExists(flagFile: string, base: ArchiveFs = nodeArchiveFs): ArchiveFs {
  return {
    async open(p, flags) {
      const fh = await base.open(p, flags);
      return {
        write(buffer, offset, length, position) {
          if (fs.existsSync(flagFile)) {
            const err: NodeJS.ErrnoException = new Error('ENOSPC: no space left on device, write');
            return Promise.reject(Object.assign(err, { code: 'ENOSPC', errno: -28, syscall: 'write' }));
          }
          return fh.write(buffer, offset, length, position);
        },
        datasync: () => fh.datasync(),
        sync: () => fh.sync(),
        truncate: (len) => fh.truncate(len),
        close: () => fh.close(),
      };
    },
  };
}
