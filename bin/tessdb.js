#!/usr/bin/env node
import v8 from 'node:v8';

// Ingest allocates many short-lived objects per line; a larger young generation halves GC time.
v8.setFlagsFromString('--max-semi-space-size=32');
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
