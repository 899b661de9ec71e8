import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

// GET /admin/v1/audit's filters, paging and export, on the shared (Redis) audit log, on a clock the
// test moves: four calls an hour apart by three actors.
const prefix = testPrefix('audit-routes');
const T0 = Date.parse('2026-06-01T10:00:00Z');
const HOUR = 3_600_000;
let clock = T0;
let app: AdminApp;
let auditor: string;
let first = '';

const iso = (ms: number): string => new Date(ms).toISOString();
const audit = (query: string) => request(app.app).get(`/admin/v1/audit?${query}`).set('authorization', auditor);
const summary = async (query: string): Promise<string[]> =>
  ((await audit(query).expect(200)).body.entries as { actor: string; action: string; outcome: string }[]).map(
    (e) => `${e.actor} ${e.action} ${e.outcome}`,
  );

before(async () => {
  app = await adminApp(offlineUpstream(REDIS_URL), { redisPrefix: prefix, now: () => clock });
  auditor = await app.bearer('audrey', ['auditor']);
  const kim = await app.bearer('kim', ['key-manager']);
  const ben = await app.bearer('ben', ['key-manager']);
  const scan = await app.bearer('scan', ['scanner']);
  const add = (auth: string, reason: string) =>
    request(app.app)
      .post('/admin/v1/breakglass')
      .set('authorization', auth)
      .send({ image: 'registry.example/team/**', reason, expires: iso(clock + HOUR) })
      .expect(201);
  first = (await add(kim, 'INC-1')).body.id;
  clock = T0 + HOUR;
  await add(ben, 'INC-2');
  clock = T0 + 2 * HOUR;
  await request(app.app).get('/admin/v1/audit').set('authorization', scan).expect(403);
  clock = T0 + 3 * HOUR;
  await request(app.app).delete('/admin/v1/breakglass/bg-000000000000').set('authorization', kim).expect(404);
});
after(async () => {
  await app?.close();
  await deleteRedisKeys(prefix);
});

describe('GET /admin/v1/audit', () => {
  it('filters by actor, action, target and outcome', async () => {
    assert.deepEqual(await summary(''), [
      'kim breakglass.end error',
      'scan audit.read denied',
      'ben breakglass.add ok',
      'kim breakglass.add ok',
    ]);
    assert.deepEqual(await summary('actor=kim'), ['kim breakglass.end error', 'kim breakglass.add ok']);
    assert.deepEqual(await summary('action=breakglass.*'), ['kim breakglass.end error', 'ben breakglass.add ok', 'kim breakglass.add ok']);
    assert.deepEqual(await summary('action=breakglass.add&actor=ben'), ['ben breakglass.add ok']);
    assert.deepEqual(await summary(`target=${first}`), ['kim breakglass.add ok']);
    assert.deepEqual(await summary('target=bg-000000000000'), ['kim breakglass.end error']);
    assert.deepEqual(await summary('outcome=denied'), ['scan audit.read denied']);
  });

  it('filters by time: since and until, each inclusive', async () => {
    assert.deepEqual(await summary(`since=${iso(T0 + HOUR)}`), [
      'kim breakglass.end error',
      'scan audit.read denied',
      'ben breakglass.add ok',
    ]);
    assert.deepEqual(await summary(`until=${iso(T0 + HOUR)}`), ['ben breakglass.add ok', 'kim breakglass.add ok']);
    assert.deepEqual(await summary(`since=${iso(T0 + 30 * 60_000)}&until=${iso(T0 + 2 * HOUR)}`), [
      'scan audit.read denied',
      'ben breakglass.add ok',
    ]);
    const entries = (await audit(`since=${iso(T0 + 3 * HOUR)}`).expect(200)).body.entries;
    assert.equal(entries[0].time, iso(T0 + 3 * HOUR));
  });

  it('pages with the cursor until nothing older is left', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const body = (await audit(`limit=1${after === undefined ? '' : `&after=${after}`}`).expect(200)).body;
      seen.push(...body.entries.map((e: { action: string }) => e.action));
      after = body.next;
      if (after === undefined) break;
    }
    assert.deepEqual(seen, ['breakglass.end', 'audit.read', 'breakglass.add', 'breakglass.add']);
    const filtered = (await audit('actor=kim&limit=1').expect(200)).body;
    assert.equal(filtered.entries[0].action, 'breakglass.end');
    const next = (await audit(`actor=kim&limit=1&after=${filtered.next}`).expect(200)).body;
    assert.equal(next.entries[0].action, 'breakglass.add');
  });

  it('exports as a JSON download with the same filters', async () => {
    const res = await audit('format=json&actor=kim').expect(200);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(res.headers['content-disposition'], `attachment; filename="trustgate-audit-${iso(clock).replace(/[:.]/g, '-')}.json"`);
    const exported = JSON.parse(res.text);
    assert.deepEqual(exported, (await audit('actor=kim').expect(200)).body);
    assert.equal(exported.entries.length, 2);
  });

  it('refuses bad parameters with 400', async () => {
    for (const query of [
      'since=yesterday',
      `since=${iso(T0 + HOUR)}&until=${iso(T0)}`,
      'outcome=maybe',
      'format=csv',
      'limit=1001',
      'format=json&limit=10001',
      'after=not-a-cursor',
      'target=a&target=b',
    ]) {
      const res = await audit(query);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.errors[0].code, 'BAD_REQUEST', query);
    }
  });
});
