/** The administrative commands as operators use them: tables, --json, refusals, the reload hint. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dbEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase('admincli');
  const r = await runCli(['setup', '-q'], { env: dbEnv(db.url) });
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await db?.drop();
});

const tessdb = (args: string[]) => runCli(args, { env: dbEnv(db.url) });

test('location and photometer commands: create, refuse bad values, change with a reload hint, list, show', async () => {
  const bad = await tessdb(['location', 'create', 'Site X', '--latitude', '-91']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /latitude -91° is out of range: it must be between -90 and 90°/);
  const badTz = await tessdb(['location', 'create', 'Site X', '--timezone', 'Europe/Nowhere']);
  assert.equal(badTz.code, 1);
  assert.match(badTz.stderr, /unknown time zone "Europe\/Nowhere"/);

  const loc = await tessdb(['location', 'create', 'Site X', '--place', 'Madrid', '--latitude', '40.4', '--longitude', '-3.7', '--timezone', 'Europe/Madrid', '--json']);
  assert.equal(loc.code, 0, loc.stderr);
  assert.equal(JSON.parse(loc.stdout).site, 'Site X');

  const created = await tessdb(['photometer', 'create', 'stars5', '60:1:94:2E:CE:EB', '--zp', '20.44', '--location', 'Site X', '--since', '2024-01-01', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const c = JSON.parse(created.stdout);
  assert.equal(c.mac, '60:01:94:2E:CE:EB');
  assert.equal(c.version.site, 'Site X');
  assert.match(c.reload, /systemctl reload tessdb-live/);

  const refused = await tessdb(['photometer', 'set', 'stars5', '--zp', '35']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /zero point 35 mag\/arcsec² is out of range: it must be between 10 and 30/);

  const set = await tessdb(['photometer', 'set', 'stars5', '--zp', '20.61', '--since', '2024-03-01T12:00']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /zero point 20\.44 → 20\.61/);
  assert.match(set.stderr, /a running `tessdb live` picks this change up .*systemctl reload tessdb-live.*kill -HUP/);

  const list = await tessdb(['photometer', 'list', '--all', '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(
    JSON.parse(list.stdout).map((r: { zp1: number; valid_state: string; valid_since: string }) => [r.zp1, r.valid_state, r.valid_since]),
    [
      [20.44, 'Expired', '2024-01-01T00:00:00.000Z'],
      [20.61, 'Current', '2024-03-01T12:00:00.000Z'],
    ],
  );
  const table = await tessdb(['photometer', 'list']);
  assert.match(table.stdout, /^name\s+mac\s+model\s+zp\s+filter\s+site/m);
  assert.match(table.stdout, /^stars5\s+60:01:94:2E:CE:EB\s+TESS-W\s+20\.61\s+UVIR\s+Site X/m);

  const show = await tessdb(['photometer', 'show', '60:01:94:2e:ce:eb', '--json']);
  assert.equal(show.code, 0, show.stderr);
  const s = JSON.parse(show.stdout);
  assert.equal(s.name, 'stars5');
  assert.deepEqual(s.admin_events.map((e: { op: string }) => e.op), ['register', 'set_location', 'set_zero_point']);

  const unknown = await tessdb(['photometer', 'authorise', 'stars404']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no photometer named "stars404"/);

  const unused = await tessdb(['location', 'list', '--unused', '--json']);
  assert.deepEqual(JSON.parse(unused.stdout).map((l: { site: string }) => l.site), []);
});
