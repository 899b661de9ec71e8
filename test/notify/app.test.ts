import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../../src/notify/signing.ts';
import { ec, spki } from '../admin/key-material.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { recordingLogger, SIGNING_SECRET, startReceiver, until, type Receiver } from './kit.ts';

// The events wired end to end: the real app, its admin API and /v2, Redis, and a receiver on loopback.
const prefix = testPrefix('notify-app');
const work = mkdtempSync(join(tmpdir(), 'tg-notify-app-'));
const UPSTREAM = '127.0.0.1:1'; // never reached: every pull here is refused before it goes upstream
const POLICY = `version: 1\nrules:\n  - { name: prod, images: ["${UPSTREAM}/prod/**"] }\n`;

let receiver: Receiver;
let tokens: AdminTokens;
let proxy: RunningProxy;
const logger = recordingLogger();

const admin = async (method: string, path: string, body?: unknown): Promise<Response> =>
  fetch(`${proxy.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await tokens.mint('sec-team', ['key-manager'])}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

const eventsOf = (type: string) =>
  receiver.received
    .filter((r) => r.headers['x-trustgate-event'] === type)
    .map((r) => JSON.parse(r.body.toString()) as { id: string; data: Record<string, unknown> });

before(async () => {
  receiver = await startReceiver();
  tokens = await adminTokens(work);
  proxy = await startProxy(
    [
      'listen: { plainHttp: true }',
      `redis: { url: "${REDIS_URL}" }`,
      tokens.configYaml.trimEnd(),
      'upstreams:',
      `  - { name: local, url: "http://${UPSTREAM}", default: true, repositories: ["${UPSTREAM}/prod/**"] }`,
      'notifications:',
      '  instance: replica-a',
      '  allowedNetworks: ["127.0.0.0/8"]',
      '  endpoints:',
      '    - { name: security, url: { env: HOOK_URL }, secret: { env: HOOK_SECRET } }',
      '',
    ].join('\n'),
    { redisPrefix: prefix, policy: POLICY, env: { HOOK_URL: receiver.url, HOOK_SECRET: SIGNING_SECRET } },
    logger,
  );
});

after(async () => {
  await proxy?.close();
  await receiver?.close();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('notifications through the real app', () => {
  it('a denied pull › one signed pull.denied, however often it is repeated', async () => {
    for (let i = 0; i < 5; i += 1) {
      const res = await fetch(`${proxy.url}/v2/other/app/manifests/v1`);
      await res.arrayBuffer();
      assert.equal(res.status, 403);
    }
    await until(() => eventsOf('pull.denied').length === 1);
    const [denied] = eventsOf('pull.denied');
    assert.equal(denied!.data['image'], `${UPSTREAM}/other/app`);
    assert.equal(denied!.data['reason'], 'source_not_allowed');
    const got = receiver.received[0]!;
    const ok = verifySignature(
      SIGNING_SECRET,
      String(got.headers['x-trustgate-signature']),
      String(got.headers['x-trustgate-timestamp']),
      got.body,
      Math.floor(Date.now() / 1000),
    );
    assert.ok(ok, 'the signature verifies');
  });

  it('break glass opened and ended', async () => {
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const opened = await admin('POST', '/breakglass', { image: `${UPSTREAM}/prod/**`, reason: 'incident 42', expires });
    assert.equal(opened.status, 201, await opened.clone().text());
    const { id } = (await opened.json()) as { id: string };
    const ended = await admin('DELETE', `/breakglass/${id}`);
    assert.equal(ended.status, 200, await ended.clone().text());
    await until(() => eventsOf('breakglass.opened').length === 1 && eventsOf('breakglass.ended').length === 1);
    assert.deepEqual(
      { id: eventsOf('breakglass.opened')[0]!.data['id'], reason: eventsOf('breakglass.opened')[0]!.data['reason'] },
      { id, reason: 'incident 42' },
    );
    assert.equal(eventsOf('breakglass.ended')[0]!.data['id'], id);
  });

  it('a key revoked', async () => {
    const added = await admin('POST', '/keys', { id: 'release', pem: spki(ec('P-256').publicKey), scopes: [`${UPSTREAM}/prod/**`] });
    assert.equal(added.status, 201, await added.clone().text());
    const revoked = await admin('POST', '/keys/release/revoke', { reason: 'signing key leaked' });
    assert.equal(revoked.status, 200, await revoked.clone().text());
    await until(() => eventsOf('key.revoked').length === 1);
    const { data } = eventsOf('key.revoked')[0]!;
    assert.deepEqual([data['id'], data['reason'], data['revokedBy']], ['release', 'signing key leaked', 'sec-team']);
    assert.doesNotMatch(JSON.stringify(data), /BEGIN PUBLIC KEY/, 'no key material');
  });

  it('a policy applied', async () => {
    const applied = await admin('PUT', '/policy', `${POLICY}  - { name: staging, images: ["${UPSTREAM}/prod/staging/**"] }\n`);
    assert.equal(applied.status, 200, await applied.clone().text());
    const { hash } = (await applied.json()) as { hash: string };
    await until(() => eventsOf('policy.applied').length === 1);
    assert.deepEqual([eventsOf('policy.applied')[0]!.data['hash'], eventsOf('policy.applied')[0]!.data['source']], [hash, 'api']);
  });

  it('every event once, and the URL never in the logs or /metrics', async () => {
    await until(() => proxy.runtime.deps.metrics.registry.metrics().then((t) => /result="delivered"\} 5/.test(t)));
    const ids = receiver.received.map((r) => r.headers['x-trustgate-delivery']);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(ids.length, 5);
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    assert.match(metrics, /trustgate_notifications_total\{endpoint="security",result="delivered"\} 5/);
    assert.match(metrics, /trustgate_notification_queue_depth\{endpoint="security"\} 0/);
    assert.doesNotMatch(metrics + JSON.stringify(logger.lines), /SECRETTOKEN/);
  });
});
