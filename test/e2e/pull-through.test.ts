import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildImage,
  copy,
  inspect,
  makeTls,
  push,
  startRegistry,
  startTokenIssuer,
  type BuiltImage,
  type RunningRegistry,
  type TlsFiles,
  type TokenIssuer,
} from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'tg-e2e-'));

let registry: RunningRegistry;
let proxy: RunningProxy;
let single: BuiltImage;
let multi: BuiltImage;

function config(registryUrl: string, listen = 'listen: { plainHttp: true }', extra = ''): string {
  const host = new URL(registryUrl).host;
  return `
${listen}
upstreams:
  - name: local
    url: ${registryUrl}
    default: true
    repositories: ["${host}/allowed/**"]
${extra}`;
}

/** Every file of a `dir:` copy, by name, hashed: the layer and config bytes a client received. */
function dirDigests(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f !== 'version')
      .map((f) => [f, sha256(readFileSync(join(dir, f)))]),
  );
}

before(async () => {
  registry = await startRegistry();
  single = await buildImage(join(work, 'single'), { seed: 'single', layers: 2, layerBytes: 64 * 1024 });
  multi = await buildImage(join(work, 'multi'), {
    seed: 'multi',
    platforms: [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ],
  });
  for (const [layout, ref] of [
    [single.layoutDir, 'allowed/single:v1'],
    [multi.layoutDir, 'allowed/multi:v1'],
    [single.layoutDir, 'blocked/single:v1'],
  ] as const) {
    const pushed = await push(layout, `docker://${registry.host}/${ref}`);
    assert.equal(pushed.code, 0, pushed.stderr);
  }
  proxy = await startProxy(config(registry.url));
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('skopeo through trustgate, plain HTTP', () => {
  it('inspect by tag › the same manifest bytes as the registry', async () => {
    const res = await inspect(`docker://${proxy.host}/allowed/single:v1`, { raw: true });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(sha256(res.stdoutBytes), single.manifestDigest);
  });

  it('inspect by digest › the same manifest', async () => {
    const res = await inspect(`docker://${proxy.host}/allowed/single@${single.manifestDigest}`, { raw: true });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(sha256(res.stdoutBytes), single.manifestDigest);
  });

  it("by the upstream's path prefix › the same manifest", async () => {
    const res = await inspect(`docker://${proxy.host}/local/allowed/single:v1`, { raw: true });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(sha256(res.stdoutBytes), single.manifestDigest);
  });

  it('copy › the layers and config match a direct pull byte for byte', async () => {
    const viaProxy = join(work, 'via-proxy');
    const direct = join(work, 'direct');
    assert.equal((await copy(`docker://${proxy.host}/allowed/single:v1`, viaProxy)).code, 0);
    assert.equal((await copy(`docker://${registry.host}/allowed/single:v1`, direct)).code, 0);
    const got = dirDigests(viaProxy);
    assert.deepEqual(got, dirDigests(direct));
    for (const layer of single.children[0]!.layers) assert.ok(Object.values(got).includes(layer), `layer ${layer} pulled`);
  });

  it('a multi-arch index › index and every child pull through, by digest too', async () => {
    const index = await inspect(`docker://${proxy.host}/allowed/multi:v1`, { raw: true });
    assert.equal(index.code, 0, index.stderr);
    assert.equal(sha256(index.stdoutBytes), multi.manifestDigest);
    for (const child of multi.children) {
      const res = await inspect(`docker://${proxy.host}/allowed/multi@${child.digest}`, { raw: true });
      assert.equal(sha256(res.stdoutBytes), child.digest);
    }
    const all = join(work, 'multi-all');
    const copied = await copy(`docker://${proxy.host}/allowed/multi:v1`, `oci:${all}`, { all: true });
    assert.equal(copied.code, 0, copied.stderr);
    const blobs = readdirSync(join(all, 'blobs', 'sha256')).map((hex) => `sha256:${hex}`);
    for (const child of multi.children) for (const layer of child.layers) assert.ok(blobs.includes(layer));
  });

  it('a repository outside the allowlist › skopeo fails and shows the DENIED reason', async () => {
    const res = await inspect(`docker://${proxy.host}/blocked/single:v1`, { raw: true });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /denied/i);
    // skopeo quotes the message, so its inner quotes arrive escaped.
    assert.match(
      res.stderr,
      /denied: trustgate denied 127\.0\.0\.1:\d+\/blocked\/single \(rule \\?"source-allowlist\\?"\): not on the allowlist of upstream \\?"local\\?"/,
    );
  });
});

describe('skopeo through trustgate over HTTPS', () => {
  let tls: TlsFiles;
  let secure: RunningProxy;
  before(async () => {
    mkdirSync(join(work, 'tls'));
    tls = await makeTls(join(work, 'tls'));
    secure = await startProxy(config(registry.url, `listen: { tls: { certFile: ${tls.certFile}, keyFile: ${tls.keyFile} } }`));
  });
  after(async () => secure?.close());

  it('verifies the certificate made at test time and pulls', async () => {
    const res = await inspect(`docker://${secure.host}/allowed/single:v1`, { raw: true, tlsVerify: true, certDir: tls.dir });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(sha256(res.stdoutBytes), single.manifestDigest);
    const out = join(work, 'via-https');
    assert.equal((await copy(`docker://${secure.host}/allowed/single:v1`, out, { tlsVerify: true, certDir: tls.dir })).code, 0);
    assert.deepEqual(dirDigests(out), dirDigests(join(work, 'direct')));
  });

  it('a client without the CA is refused by TLS', async () => {
    const res = await inspect(`docker://${secure.host}/allowed/single:v1`, { raw: true, tlsVerify: true });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /x509|certificate/i);
  });
});

describe('a token-auth upstream', () => {
  let issuer: TokenIssuer;
  let privateRegistry: RunningRegistry;
  let viaToken: RunningProxy;
  before(async () => {
    issuer = await startTokenIssuer({ users: { puller: 'pull-secret' } });
    privateRegistry = await startRegistry({ auth: { type: 'token', issuer } });
    assert.equal(
      (await push(single.layoutDir, `docker://${privateRegistry.host}/allowed/private:v1`, { creds: 'puller:pull-secret' })).code,
      0,
    );
    viaToken = await startProxy(
      config(
        privateRegistry.url,
        'listen: { plainHttp: true }',
        `    auth: { type: basic, username: puller, password: { env: PULL_PASSWORD } }
    allowAnonymousPulls: true
    tokenRealms: ["${issuer.url}"]`,
      ),
      { env: { PULL_PASSWORD: 'pull-secret' } },
    );
  });
  after(async () => {
    await viaToken?.close();
    await privateRegistry?.stop();
    await issuer?.stop();
  });

  it('trustgate answers the Bearer challenge with its credentials and the pull works', async () => {
    const before = issuer.requests;
    const out = join(work, 'via-token');
    const res = await copy(`docker://${viaToken.host}/allowed/private:v1`, out);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(dirDigests(out), dirDigests(join(work, 'direct')));
    assert.ok(issuer.requests > before);
    assert.ok(issuer.calls.some((c) => c.user === 'puller' && c.status === 200));
  });
});
