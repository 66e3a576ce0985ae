/** conf/tessdb.example.toml documents every configuration key with its default, and is itself valid. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { loadConfig } from '../../src/config/index.js';
import { configSchema } from '../../src/config/schema.js';
import { ROOT } from '../helpers/cli.js';

const EXAMPLE = path.join(ROOT, 'conf', 'tessdb.example.toml');
const text = fs.readFileSync(EXAMPLE, 'utf8');

interface SchemaNode {
  type?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
}

/** Every leaf key of the schema as dotted path → its default. */
function schemaKeys(node: SchemaNode = configSchema as unknown as SchemaNode, prefix = ''): Map<string, unknown> {
  const keys = new Map<string, unknown>();
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const dotted = prefix ? `${prefix}.${name}` : name;
    if (child.type === 'object' && child.properties) {
      for (const [k, v] of schemaKeys(child, dotted)) keys.set(k, v);
    } else {
      keys.set(dotted, child.default);
    }
  }
  return keys;
}

/** Keys documented in the file, set (`key = v`) or commented out (`# key = v`), with their section. */
function documentedKeys(): { set: Set<string>; commented: Set<string> } {
  const set = new Set<string>();
  const commented = new Set<string>();
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[([A-Za-z_][\w.]*)\]\s*$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const active = /^([A-Za-z_]\w*)\s*=/.exec(line);
    if (active) set.add(section ? `${section}.${active[1]}` : active[1]);
    const off = /^# ([A-Za-z_]\w*) = /.exec(line);
    if (off) commented.add(section ? `${section}.${off[1]}` : off[1]);
  }
  return { set, commented };
}

/** The file with every `# key = value` line uncommented. */
function uncommented(): string {
  return text.replace(/^# ([A-Za-z_]\w* = )/gm, '$1');
}

test('every schema key appears in the example, set or commented out', () => {
  const { set, commented } = documentedKeys();
  const missing = [...schemaKeys().keys()].filter((k) => !set.has(k) && !commented.has(k));
  assert.deepEqual(missing, [], `keys missing from conf/tessdb.example.toml: ${missing.join(', ')}`);
});

test('the example documents no key the schema does not know', () => {
  const { set, commented } = documentedKeys();
  const known = schemaKeys();
  const extra = [...set, ...commented].filter((k) => !known.has(k));
  assert.deepEqual(extra, []);
});

test('every section of the schema has its table in the example, in schema order', () => {
  const sections = Object.entries(configSchema.properties)
    .filter(([, v]) => (v as SchemaNode).type === 'object')
    .map(([k]) => k);
  const inFile = [...text.matchAll(/^\[([\w.]+)\]\s*$/gm)].map((m) => m[1]);
  assert.deepEqual(inFile, sections);
});

test('the computed default host is commented out, not hard-coded', () => {
  const { set, commented } = documentedKeys();
  assert.ok(commented.has('host'));
  assert.ok(!set.has('host'));
});

test('each key has a one-line comment right above it', () => {
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (/^(# )?[A-Za-z_]\w* = /.test(line)) {
      assert.match(lines[i - 1] ?? '', /^#/, `no comment above line ${i + 1}: ${line}`);
    }
  });
});

test('the example is valid TOML and validates as a configuration', () => {
  assert.doesNotThrow(() => parse(text));
  const { config } = loadConfig({ files: [EXAMPLE], env: {} });
  assert.equal(config.host, os.hostname());
});

test('the values shown are the schema defaults', () => {
  const { config: fromExample } = loadConfig({ files: [EXAMPLE], env: {} });
  const values = parse(text) as Record<string, unknown>;
  const get = (obj: unknown, dotted: string) =>
    dotted.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
  for (const [key, def] of schemaKeys()) {
    if (key === 'host') continue; // computed: commented out
    assert.deepEqual(get(values, key), def, `${key} in the example differs from the schema default`);
    assert.deepEqual(get(fromExample, key), def, key);
  }
});

test('uncommenting every commented-out key still gives a valid configuration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-example-'));
  try {
    const file = path.join(dir, 'all.toml');
    fs.writeFileSync(file, uncommented());
    const { config } = loadConfig({ files: [file], env: {} });
    assert.equal(config.host, '<hostname>');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the header documents the lookup order, environment variables and override syntax', () => {
  const header = text.slice(0, text.indexOf('\n\n'));
  for (const needle of [
    '-c FILE',
    './tessdb.toml',
    '$XDG_CONFIG_HOME/tessdb/config.toml',
    '/etc/tessdb/config.toml',
    'TESSDB_DATABASE_URL',
    'PGHOST',
    'PGPORT',
    'PGUSER',
    'PGDATABASE',
    'PGSSLMODE',
    'PGPASSWORD',
    'TESSDB_MQTT_URL',
    'TESSDB_HOST',
    'database.host=aoc',
    '--dump-config',
    'password_file',
  ]) {
    assert.ok(header.includes(needle), `header does not mention ${needle}`);
  }
});
