/** The Grafana dashboard's SQL runs on the tessdb schema (Grafana macros and variables expanded as Grafana does). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { buildFixture } from './fixture.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('grafana');
  await buildFixture(db.pool);
});
after(async () => {
  await db?.drop();
});

interface Target {
  rawSql: string;
  format: string;
}
interface Panel {
  title: string;
  type: string;
  targets: Target[];
}

const FROM = `'2024-01-01T00:00:00Z'`;
const TO = `'2024-02-01T00:00:00Z'`;

/** Expand the PostgreSQL data source macros the way Grafana does (timestamptz column). */
function expand(sql: string): string {
  return sql
    .replace(/\$__timeGroupAlias\(([^,]+),\s*('?[^)']+'?)\)/g, (_, col, iv) => `${timeGroup(col, iv)} AS "time"`)
    .replace(/\$__timeGroup\(([^,]+),\s*('?[^)']+'?)\)/g, (_, col, iv) => timeGroup(col, iv))
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, col) => `${col} BETWEEN ${FROM} AND ${TO}`)
    .replace(/\$__timeFrom\(\)/g, FROM)
    .replace(/\$__timeTo\(\)/g, TO)
    .replace(/\$__interval/g, '1m')
    .replace(/\$photometer/g, `'stars1','stars2'`)
    .replace(/\$silent_minutes/g, '60');
}

function timeGroup(col: string, iv: string): string {
  const seconds = { "'1h'": 3600, '$__interval': 60, "'$__interval'": 60 }[iv.trim()] ?? 60;
  return `floor(extract(epoch from ${col})/${seconds})*${seconds}`;
}

test('every panel query and variable query of conf/grafana/tessdb-dashboard.json runs', async () => {
  const dash = JSON.parse(fs.readFileSync(path.join(ROOT, 'conf', 'grafana', 'tessdb-dashboard.json'), 'utf8'));
  const queries: Array<[string, string]> = [];
  for (const p of dash.panels as Panel[]) for (const t of p.targets) queries.push([p.title, t.rawSql]);
  for (const v of dash.templating.list) if (v.type === 'query') queries.push([`variable ${v.name}`, v.query]);
  assert.ok(queries.length >= 10);
  for (const [title, sql] of queries) {
    const expanded = expand(sql);
    assert.doesNotMatch(expanded, /\$/, `${title}: unexpanded macro`);
    await assert.doesNotReject(db.pool.query(expanded), `${title}`);
  }
  const silent = await db.pool.query(expand((dash.panels as Panel[]).find((p) => p.title === 'Silent photometers' && p.type === 'table')!.targets[0].rawSql));
  assert.deepEqual(silent.rows.map((r) => r.name).sort(), ['stars1', 'stars2', 'stars3']);
  const perHour = await db.pool.query(expand((dash.panels as Panel[]).find((p) => p.title === 'Readings per hour')!.targets[0].rawSql));
  assert.equal(perHour.rows.reduce((s, r) => s + Number(r.readings), 0), 20);
});
