import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ec, spki } from '../admin/key-material.ts';
import {
  buildImage,
  inspect,
  push,
  startRegistry,
  trivyReport,
  type BuiltImage,
  type RunningRegistry,
  cosignSignImage,
} from '../kit/index.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

// The key lifecycle through the admin API, seen by skopeo through two replicas sharing Redis.
const prefix = testPrefix('key-life');
const work = mkdtempSync(join(tmpdir(), 'tg-key-life-'));
const signer = ec('P-256');
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

let registry: RunningRegistry;
let tokens: AdminTokens;
let a: RunningProxy;
let b: RunningProxy;
let image: BuiltImage;

const pull = (proxy: RunningProxy) => inspect(`docker://${proxy.host}/prod/app:v1`, { raw: true });
const status = async (proxy: RunningProxy): Promise<number> => {
  const res = await fetch(`${proxy.url}/v2/prod/app/manifests/v1`, { headers: { accept: ACCEPT } });
  await res.arrayBuffer();
  return res.status;
};
const admin = async (proxy: RunningProxy, method: string, path: string, roles: string[], body?: unknown): Promise<Response> =>
  fetch(`${proxy.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await tokens.mint('sec-team', roles)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
  });

/** Polls until every replica answers `want`, failing after `ms`. */
async function allWithin(ms: number, want: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const seen = await Promise.all([status(a), status(b)]);
    if (seen.every((s) => s === want)) return Date.now() - started;
    if (Date.now() - started > ms) assert.fail(`replicas answered ${seen.join(', ')}, not ${want}, after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function replica(): Promise<RunningProxy> {
  const host = registry.host;
  return startProxy(
    `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}" }\n${tokens.configYaml}upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${host}/**"] }\n`,
    { redisPrefix: prefix, policy: `version: 1\nrules:\n  - { name: prod, images: ["${host}/prod/**"] }\n` },
  );
}

before(async () => {
  registry = await startRegistry();
  tokens = await adminTokens(work);
  image = await buildImage(join(work, 'img'), { seed: 'key-lifecycle' });
  assert.equal((await push(image.layoutDir, `docker://${registry.host}/prod/app:v1`)).code, 0);
  await cosignSignImage(registry.url, 'prod/app', image.manifestDigest, `${registry.host}/prod/app`, signer.privateKey);
  a = await replica();
  b = await replica();
});

after(async () => {
  await a?.close();
  await b?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('key lifecycle through the admin API, pulled with skopeo from two replicas', () => {
  it('a signed image from a key the store does not hold is refused', async () => {
    const res = await pull(a);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no valid signature from a trusted key/);
  });

  it('after POST /admin/v1/keys on one replica › pullable on both', async () => {
    const res = await admin(a, 'POST', '/keys', ['key-manager'], {
      id: 'release',
      pem: spki(signer.publicKey),
      scopes: [`${registry.host}/prod/**`],
    });
    assert.equal(res.status, 201, await res.clone().text());
    await allWithin(1_000, 200);
    for (const proxy of [a, b]) {
      const pulled = await pull(proxy);
      assert.equal(pulled.code, 0, pulled.stderr);
    }
  });

  it('after a revoke on the other replica › refused again on both within a second', async () => {
    const res = await admin(b, 'POST', '/keys/release/revoke', ['key-manager'], { reason: 'signing key leaked' });
    assert.equal(res.status, 200, await res.clone().text());
    await allWithin(1_000, 403);
    for (const proxy of [a, b]) {
      const pulled = await pull(proxy);
      assert.notEqual(pulled.code, 0);
      assert.match(pulled.stderr, /revoked/);
    }
  });

  it('the audit log, read on either replica, holds both changes, and a posted scan (scan.post)', async () => {
    const name = `${registry.host}/prod/app`;
    const posted = await admin(
      a,
      'POST',
      `/scans?image=${encodeURIComponent(`${name}@${image.manifestDigest}`)}`,
      ['scanner'],
      trivyReport({ name, digest: image.manifestDigest, createdAt: new Date(), vulnerabilities: [] }),
    );
    assert.equal(posted.status, 201, await posted.clone().text());
    const res = await admin(b, 'GET', '/audit?actor=sec-team', ['auditor']);
    const entries = ((await res.json()) as { entries: { action: string; target: string; outcome: string }[] }).entries;
    assert.deepEqual(
      entries.map((e) => `${e.action} ${e.target} ${e.outcome}`),
      [`scan.post ${name}@${image.manifestDigest} ok`, 'key.revoke release ok', 'key.add release ok'],
    );
  });
});
