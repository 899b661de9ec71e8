// Fail static (docs/blob-cache.md "Fail static") end to end with skopeo: a real distribution registry
// behind a front that can stop (connections refused), trustgate with the verified cache and
// `failStatic: true`, shared state in Redis, and changes made through the admin API. While the
// upstream is down, an image judged before is still pulled by digest (even after trustgate restarts),
// and every change that would refuse it with the upstream up refuses it during the outage too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ec, spki } from '../admin/key-material.ts';
import { buildImage, copy, cosignSignImage, inspect, push, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { startRegistrySwitch, type RegistrySwitch } from '../support/registry-switch.ts';

const prefix = testPrefix('fail-static');
const work = mkdtempSync(join(tmpdir(), 'tg-fail-static-'));
const cacheDir = join(work, 'cache');
const signer = ec('P-256');
const HOUR = 3_600_000;

let registry: RunningRegistry;
let front: RegistrySwitch;
let tokens: AdminTokens;
let proxy: RunningProxy;
let signed: BuiltImage;
let unsigned: BuiltImage;
let never: BuiltImage;
let pulls = 0;

const rules = (host: string, threshold: number): string =>
  `version: 1\nrules:\n  - { name: prod, images: ["${host}/prod/**"], signatures: { threshold: ${threshold} } }\n`;

async function startTrustgate(): Promise<RunningProxy> {
  return startProxy(
    [
      'listen: { plainHttp: true }',
      `redis: { url: "${REDIS_URL}" }`,
      `blobCache: { enabled: true, directory: "${cacheDir}", failStatic: true }`,
      `${tokens.configYaml}upstreams:\n  - { name: local, url: "${front.url}", default: true, repositories: ["${front.host}/**"] }`,
    ].join('\n'),
    { redisPrefix: prefix, policy: rules(front.host, 1) },
  );
}

const admin = async (method: string, path: string, body?: unknown, type = 'application/json') => {
  const res = await fetch(`${proxy.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await tokens.mint('kim', ['key-manager'])}`, 'content-type': type },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

/** skopeo copy of every blob, through trustgate, into a fresh OCI layout. */
const pull = (ref: string) => copy(`docker://${proxy.host}/${ref}`, `oci:${join(work, `pull-${++pulls}`)}`);

async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await proxy.runtime.deps.metrics.registry.getSingleMetric(name)?.get();
  const values = metric?.values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)) ?? [];
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** The OCI error a client gets when fail static cannot answer: the upstream's failure, said plainly. */
async function unreachable(path: string): Promise<void> {
  const res = await fetch(`${proxy.url}/v2/${path}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 502);
  const [error] = ((await res.json()) as { errors: Array<{ code: string; message: string }> }).errors;
  assert.match(error!.message, /upstream "local" is unreachable/);
}

before(async () => {
  registry = await startRegistry();
  front = await startRegistrySwitch(registry.url);
  tokens = await adminTokens(work);
  signed = await buildImage(join(work, 'signed'), { seed: 'fail-static-signed', layers: 2, layerBytes: 512 * 1024 });
  unsigned = await buildImage(join(work, 'unsigned'), { seed: 'fail-static-unsigned' });
  never = await buildImage(join(work, 'never'), { seed: 'fail-static-never' });
  for (const [image, repository] of [
    [signed, 'prod/app'],
    [unsigned, 'prod/unsigned'],
    [never, 'prod/never'],
  ] as const) {
    assert.equal((await push(image.layoutDir, `docker://${registry.host}/${repository}:v1`)).code, 0);
  }
  await cosignSignImage(registry.url, 'prod/app', signed.manifestDigest, `${front.host}/prod/app`, signer.privateKey);
  proxy = await startTrustgate();
});

after(async () => {
  await proxy?.close();
  await front?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('fail static, pulled with skopeo', () => {
  it('with the upstream up: the signed image and a break-glass image are pulled (and cached)', async () => {
    const added = await admin('POST', '/keys', { id: 'release', pem: spki(signer.publicKey), scopes: [`${front.host}/prod/**`] });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    const copied = await pull(`prod/app@${signed.manifestDigest}`);
    assert.equal(copied.code, 0, copied.stderr);
    const opened = await admin('POST', '/breakglass', {
      image: `${front.host}/prod/unsigned@${unsigned.manifestDigest}`,
      reason: 'INC-15',
      expires: new Date(Date.now() + HOUR).toISOString(),
    });
    assert.equal(opened.status, 201);
    const glass = await pull(`prod/unsigned@${unsigned.manifestDigest}`);
    assert.equal(glass.code, 0, glass.stderr);
  });

  it('upstream stopped: the judged image is still pulled by digest, every blob from the cache', async () => {
    await front.stop();
    const requests = front.log.length;
    const copied = await pull(`prod/app@${signed.manifestDigest}`);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(front.log.length, requests, 'nothing reached the stopped upstream');
    // No upstream request failed yet (the manifest came from memory), so these count as plain hits.
    const fromCache =
      (await counter('trustgate_blob_cache_requests_total', { result: 'hit' })) +
      (await counter('trustgate_blob_cache_requests_total', { result: 'static' }));
    assert.ok(fromCache >= 3, 'the config and both layers came from the cache');
  });

  it('upstream stopped, trustgate restarted: the manifest comes from the cache, the verdict from Redis', async () => {
    await proxy.close();
    proxy = await startTrustgate();
    const copied = await pull(`prod/app@${signed.manifestDigest}`);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(await counter('trustgate_fail_static_manifests_total', { upstream: 'local' }), 1);
  });

  it('upstream stopped: a never-judged image is refused, and so is any pull by tag', async () => {
    const refused = await pull(`prod/never@${never.manifestDigest}`);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /502 Bad Gateway/);
    await unreachable(`prod/never/manifests/${never.manifestDigest}`);
    const byTag = await inspect(`docker://${proxy.host}/prod/app:v1`, { raw: true });
    assert.notEqual(byTag.code, 0);
    assert.match(byTag.stderr, /502 Bad Gateway/);
    await unreachable('prod/app/manifests/v1');
  });

  it('upstream stopped: break glass does not reach the cache; an image it allowed is refused, manifest and blobs', async () => {
    // A manifest break glass allowed was never kept for fail static, and break glass needs the upstream.
    const refused = await pull(`prod/unsigned@${unsigned.manifestDigest}`);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /502 Bad Gateway/);
    await unreachable(`prod/unsigned/manifests/${unsigned.manifestDigest}`);
    const layer = await fetch(`${proxy.url}/v2/prod/unsigned/blobs/${unsigned.layerDigests[0]}`);
    assert.notEqual(layer.status, 200);
    await layer.arrayBuffer();
    const entries = (await admin('GET', '/breakglass')).json['entries'] as Array<{ id: string }>;
    for (const entry of entries) assert.equal((await admin('DELETE', `/breakglass/${entry.id}`)).status, 200);
    const ended = await pull(`prod/unsigned@${unsigned.manifestDigest}`);
    assert.notEqual(ended.code, 0, 'ended: refused as well');
  });

  it('upstream stopped: a policy change refuses the image, and its rollback lets the verdict stand again', async () => {
    const applied = await admin('PUT', '/policy', rules(front.host, 2), 'application/yaml');
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    const refused = await pull(`prod/app@${signed.manifestDigest}`);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /502 Bad Gateway/, 'no verdict under the new policy, and none can be made');
    await unreachable(`prod/app/manifests/${signed.manifestDigest}`);
    const restored = await admin('PUT', '/policy', rules(front.host, 1), 'application/yaml');
    assert.equal(restored.status, 200);
    const again = await pull(`prod/app@${signed.manifestDigest}`);
    assert.equal(again.code, 0, again.stderr);
  });

  it('upstream stopped: a key revocation refuses the image; with the upstream back, it is denied key_revoked', async () => {
    const revoked = await admin('POST', '/keys/release/revoke', { reason: 'signing key leaked' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
    const refused = await pull(`prod/app@${signed.manifestDigest}`);
    assert.notEqual(refused.code, 0);
    const layer = await fetch(`${proxy.url}/v2/prod/app/blobs/${signed.layerDigests[0]}`);
    assert.equal(layer.status, 403, 'its layers stopped with its verdict');
    await layer.arrayBuffer();
    await front.start();
    const denied = await pull(`prod/app@${signed.manifestDigest}`);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /revoked/);
  });
});
