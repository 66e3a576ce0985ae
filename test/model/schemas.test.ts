import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { readingSchema, registerSchema } from '../../src/model/index.js';

const docs = new URL('../../docs/schemas/', import.meta.url);
const files = [
  ['reading.schema.json', readingSchema],
  ['register.schema.json', registerSchema],
] as const;

// Regenerate with: UPDATE_SCHEMAS=1 node --import tsx --test test/model/schemas.test.ts
if (process.env.UPDATE_SCHEMAS === '1') {
  for (const [file, schema] of files) writeFileSync(new URL(file, docs), JSON.stringify(schema, null, 2) + '\n');
}

describe('published JSON Schemas', () => {
  for (const [file, schema] of files) {
    it(`docs/schemas/${file} equals the schema in src/model/schemas.ts`, () => {
      const text = readFileSync(new URL(file, docs), 'utf8');
      assert.deepEqual(
        JSON.parse(text),
        JSON.parse(JSON.stringify(schema)),
        `docs/schemas/${file} is stale: run UPDATE_SCHEMAS=1 node --import tsx --test test/model/schemas.test.ts`,
      );
      assert.equal(text, JSON.stringify(schema, null, 2) + '\n', 'pretty-printed, 2 spaces');
    });

    it(`${file} is a valid draft-07 schema under a plain (non-tessdb) validator`, () => {
      const ajv = new Ajv({ allowUnionTypes: true, strictRequired: false });
      assert.equal(ajv.validateSchema(JSON.parse(readFileSync(new URL(file, docs), 'utf8'))), true);
      ajv.compile(JSON.parse(readFileSync(new URL(file, docs), 'utf8')));
    });
  }
});
