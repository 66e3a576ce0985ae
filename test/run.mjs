#!/usr/bin/env node
// Test entry point: provides a real PostgreSQL to the suite, then runs node's test runner.
// - TESSDB_TEST_DATABASE_URL set: use that server (each test file creates its own database on it).
// - otherwise: start a throwaway embedded PostgreSQL on a free port, stop and delete it afterwards.
// Arguments: test files or globs (default: test/**/*.test.ts without the slow fault tests of
// test/faults/slow/, which `npm run test:faults` runs by naming them).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { EmbeddedServer } from '../dist/db/embedded/server.js';

const named = process.argv.slice(2);
const patterns = named.length ? named : ['test/**/*.test.ts'];
const ignore = named.length ? ['node_modules/**'] : ['test/faults/slow/**', 'node_modules/**'];
const files = (await fg(patterns, { ignore })).sort();
if (files.length === 0) {
  console.error(`no test files match ${patterns.join(' ')}`);
  process.exit(2);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const env = { ...process.env };
let server;
let baseDir;
if (!env.TESSDB_TEST_DATABASE_URL) {
  baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-test-pg-'));
  fs.chmodSync(baseDir, 0o755);
  server = new EmbeddedServer(baseDir, await freePort(), { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  env.TESSDB_TEST_DATABASE_URL = await server.startKept();
  console.log(`# test database: embedded PostgreSQL in ${baseDir}`);
} else {
  console.log(`# test database: ${env.TESSDB_TEST_DATABASE_URL.replace(/:[^:@/]*@/, ':***@')}`);
}

const concurrency = env.TESSDB_TEST_CONCURRENCY ?? String(Math.max(1, os.availableParallelism?.() ?? 2));
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
  env,
  stdio: 'inherit',
});
const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
if (server) {
  await server.stopNow().catch((err) => console.error(`could not stop the test PostgreSQL: ${err.message}`));
  fs.rmSync(baseDir, { recursive: true, force: true });
}
process.exit(code);
