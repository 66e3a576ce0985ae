/** Cached standalone ajv validators: same verdicts and errors as compiling, safe fallbacks. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readingSchema } from '../../src/model/schemas.js';
import { cachedValidator, validatorCacheDir } from '../../src/util/validator-cache.js';

const OPTIONS = { allErrors: false, allowUnionTypes: true, strict: true, strictRequired: false };
const GOOD = { seq: 1, name: 'stars1', rev: 1, freq: 1.5, mag: 0, tamb: 1, tsky: 1 };

function withCacheHome<T>(dir: string, fn: () => T): T {
  const before = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = dir;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = before;
  }
}

test('validator cache: the cached code validates like the compiled one, file private to the user', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-cache-'));
  try {
    withCacheHome(home, () => {
      const compiled = cachedValidator('reading', readingSchema, OPTIONS);
      const files = fs.readdirSync(validatorCacheDir());
      assert.equal(files.length, 1);
      assert.equal(fs.statSync(path.join(validatorCacheDir(), files[0])).mode & 0o077, 0);
      const cached = cachedValidator('reading', readingSchema, OPTIONS);
      for (const payload of [GOOD, { ...GOOD, mag: '1' }, { ...GOOD, seq: -1 }, { ...GOOD, F1: {} }, null]) {
        assert.equal(cached(payload), compiled(payload));
        assert.deepEqual(cached.errors ?? null, compiled.errors ?? null);
      }
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('validator cache: an unwritable or tampered cache falls back to compiling', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdb-cache-'));
  try {
    withCacheHome(path.join(home, 'file-not-dir'), () => {
      fs.writeFileSync(path.join(home, 'file-not-dir'), '');
      assert.equal(cachedValidator('reading', readingSchema, OPTIONS)(GOOD), true);
    });
    withCacheHome(home, () => {
      cachedValidator('reading', readingSchema, OPTIONS);
      const file = path.join(validatorCacheDir(), fs.readdirSync(validatorCacheDir())[0]);
      fs.writeFileSync(file, 'module.exports = () => true;');
      fs.chmodSync(file, 0o666);
      const v = cachedValidator('reading', readingSchema, OPTIONS);
      assert.equal(v({ ...GOOD, mag: '1' }), false, 'a group/world-writable cache file is not run');
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
