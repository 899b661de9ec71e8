import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, push, startRegistry, type BuiltImage, type RunningRegistry, cosignSignImage } from '../kit/index.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const prefix = testPrefix('replicas');
const work = mkdtempSync(join(tmpdir(), 'tg-replicas-'));
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

let registry: RunningRegistry;
let a: RunningProxy;
let b: RunningProxy;
let image: BuiltImage;
const verified = { a: 0, b: 0 };

async function replica(name: 'a' | 'b'): Promise<RunningProxy> {
  const host = registry.host;
  return startProxy(
    `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}" }\nupstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${host}/**"] }\n`,
    {
      redisPrefix: prefix,
      policy: `version: 1\nrules:\n  - { name: prod, images: ["${host}/prod/**"] }\n  - { name: strict, images: ["${host}/strict/**"], signatures: { threshold: 2 } }\n`,
      keys: [{ id: 'release', pem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${host}/**`] }],
      onVerify: () => {
        verified[name] += 1;
      },
    },
  );
}

const status = async (proxy: RunningProxy, path: string): Promise<number> => {
  const res = await fetch(`${proxy.url}${path}`, { headers: { accept: ACCEPT } });
  await res.arrayBuffer();
  return res.status;
};

before(async () => {
  registry = await startRegistry();
  image = await buildImage(join(work, 'img'), { seed: 'replicas' });
  for (const repo of ['prod/app', 'strict/app']) {
    assert.equal((await push(image.layoutDir, `docker://${registry.host}/${repo}:v1`)).code, 0);
    await cosignSignImage(registry.url, repo, image.manifestDigest, `${registry.host}/${repo}`, key.privateKey);
  }
  a = await replica('a');
  b = await replica('b');
});

after(async () => {
  await a?.close();
  await b?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('two replicas sharing Redis', () => {
  it('a verdict made on one replica is used by the other: one verification in all', async () => {
    assert.equal(await status(a, '/v2/prod/app/manifests/v1'), 200);
    assert.equal(await status(b, '/v2/prod/app/manifests/v1'), 200);
    assert.deepEqual(verified, { a: 1, b: 0 });
  });

  it('a manifest allowed on one replica › its blobs are served by the other', async () => {
    const layer = image.children[0]!.layers[0]!;
    assert.equal(await status(b, `/v2/prod/app/blobs/${layer}`), 200);
  });

  it('the same digest is allowed in one repository and denied in another', async () => {
    assert.equal(await status(a, '/v2/prod/app/manifests/v1'), 200);
    assert.equal(await status(a, '/v2/strict/app/manifests/v1'), 403);
  });

  it('a revocation on one replica › the other denies within a second', async () => {
    assert.equal(await status(b, '/v2/prod/app/manifests/v1'), 200);
    await a.runtime.trust.revoke('release', 'rotated out', Date.now());
    const deadline = Date.now() + 1_000;
    let seen = 200;
    while (Date.now() < deadline && seen !== 403) {
      seen = await status(b, '/v2/prod/app/manifests/v1');
      if (seen !== 403) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(seen, 403);
    assert.equal(await status(b, `/v2/prod/app/blobs/${image.children[0]!.layers[0]!}`), 403, 'blobs of the now-denied image too');
  });
});
