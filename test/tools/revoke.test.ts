import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, push, startRegistry, type RunningRegistry, cosignSignImage } from '../kit/index.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { runCli } from './cli-run.ts';

const prefix = testPrefix('revoke');
const work = mkdtempSync(join(tmpdir(), 'tg-revoke-'));
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let registry: RunningRegistry;
let proxy: RunningProxy;
let configFile: string;

before(async () => {
  registry = await startRegistry();
  const image = await buildImage(join(work, 'img'), { seed: 'revoke-cli' });
  assert.equal((await push(image.layoutDir, `docker://${registry.host}/prod/app:v1`)).code, 0);
  await cosignSignImage(registry.url, 'prod/app', image.manifestDigest, `${registry.host}/prod/app`, key.privateKey);
  const yaml = `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}", prefix: "${prefix}" }\nupstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }\n`;
  proxy = await startProxy(yaml, {
    policy: `version: 1\nrules:\n  - { name: prod, images: ["${registry.host}/prod/**"] }\n`,
    keys: [{ id: 'release', pem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${registry.host}/**`] }],
  });
  configFile = join(work, 'trustgate.yaml');
  writeFileSync(configFile, yaml);
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

const pull = async (): Promise<number> => {
  const res = await fetch(`${proxy.url}/v2/prod/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  await res.arrayBuffer();
  return res.status;
};

describe('trustgate revoke', () => {
  it('revokes a key in the shared store: the running proxy denies within a second', async () => {
    assert.equal(await pull(), 200);
    const run = await runCli(['revoke', 'release', '--reason', 'laptop stolen', '--config', configFile]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^revoked "release" \(trust version \d+\): laptop stolen$/m);
    let status = 200;
    for (let i = 0; i < 20 && status !== 403; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      status = await pull();
    }
    assert.equal(status, 403);
  });

  it('without Redis in the config › exits 1 and says why', async () => {
    const local = join(work, 'local.yaml');
    writeFileSync(
      local,
      `listen: { plainHttp: true }\nupstreams:\n  - { name: l, url: "http://127.0.0.1:1", repositories: ["127.0.0.1:1/**"] }\n`,
    );
    const run = await runCli(['revoke', 'release', '--reason', 'x', '--config', local]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /no redis\.url/);
  });

  it('without --reason › usage error, exit 2', async () => {
    assert.equal((await runCli(['revoke', 'release', '--config', configFile])).code, 2);
  });
});
