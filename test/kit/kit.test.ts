// Self-test of the e2e kit against the real Debian docker-registry and skopeo.
// Run: node --import tsx --test test/kit/kit.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bcryptHash,
  blobPath,
  buildImage,
  copy,
  httpGet,
  inspect,
  makeTls,
  push,
  sha256,
  startRegistry,
  startTokenIssuer,
} from './index.ts';
import type { BuiltImage, RunningRegistry, TlsFiles, TokenIssuer } from './index.ts';

const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
];
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'trustgate-kit-test-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});
const ok = (r: { code: number; stderr: string }): void => assert.equal(r.code, 0, r.stderr);
const fails = (r: { code: number; stderr: string }, why: RegExp): void => {
  assert.notEqual(r.code, 0, 'expected skopeo to fail');
  assert.match(r.stderr, why);
};
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('building blocks', () => {
  test('bcrypt matches the crypt_blowfish vector', () => {
    assert.equal(bcryptHash('U*U', { salt: 'CCCCCCCCCCCCCCCCCCCCC.' }), '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
  });
  test('images are deterministic per seed', async () => {
    const a = await buildImage(join(work, 'det-a'), { seed: 'det', platforms: PLATFORMS });
    const b = await buildImage(join(work, 'det-b'), { seed: 'det', platforms: PLATFORMS });
    const c = await buildImage(join(work, 'det-c'), { seed: 'other', platforms: PLATFORMS });
    assert.equal(a.manifestDigest, b.manifestDigest);
    assert.notEqual(a.manifestDigest, c.manifestDigest);
    assert.equal(sha256(await readFile(blobPath(a.layoutDir, a.manifestDigest))), a.manifestDigest);
  });
});

describe('plain registry + skopeo', () => {
  let reg: RunningRegistry, single: BuiltImage, multi: BuiltImage;
  before(async () => {
    reg = await startRegistry();
    single = await buildImage(join(work, 'single'), { seed: 'single', layers: 2, layerBytes: 4096 });
    multi = await buildImage(join(work, 'multi'), { seed: 'multi', platforms: PLATFORMS });
  });
  after(async () => {
    await reg?.stop();
  });

  test('GET /v2/ answers 200', async () => {
    const res = await httpGet(`${reg.url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  });

  test('single image: push, inspect --raw digest, copy to dir', async () => {
    ok(await push(single.layoutDir, `docker://${reg.host}/kit/single:v1`));
    const raw = await inspect(`docker://${reg.host}/kit/single:v1`, { raw: true });
    ok(raw);
    assert.equal(sha256(raw.stdoutBytes), single.manifestDigest);
    assert.deepEqual(raw.stdoutBytes, single.manifestBytes);
    const out = join(work, 'single-out');
    ok(await copy(`docker://${reg.host}/kit/single@${single.manifestDigest}`, out));
    assert.equal(single.layerDigests.length, 2);
    for (const digest of single.layerDigests) {
      const copied = await readFile(join(out, digest.split(':')[1]!));
      assert.equal(sha256(copied), digest);
      assert.deepEqual(copied, await readFile(blobPath(single.layoutDir, digest)));
    }
  });

  test('2-platform index: push, index and child digests, copy one platform', async () => {
    ok(await push(multi.layoutDir, `docker://${reg.host}/kit/multi:v1`));
    const raw = await inspect(`docker://${reg.host}/kit/multi:v1`, { raw: true });
    ok(raw);
    assert.equal(sha256(raw.stdoutBytes), multi.manifestDigest);
    assert.equal(JSON.parse(raw.stdout).mediaType, 'application/vnd.oci.image.index.v1+json');
    for (const child of multi.children) {
      const res = await inspect(`docker://${reg.host}/kit/multi@${child.digest}`, { raw: true });
      ok(res);
      assert.equal(sha256(res.stdoutBytes), child.digest);
    }
    const arm = multi.children[1]!;
    const out = join(work, 'multi-arm64');
    ok(await copy(`docker://${reg.host}/kit/multi:v1`, out, { platform: arm.platform }));
    assert.equal(sha256(await readFile(join(out, arm.layers[0]!.split(':')[1]!))), arm.layers[0]);
  });
});

describe('token-auth registry', () => {
  let issuer: TokenIssuer, kidIssuer: TokenIssuer, reg: RunningRegistry, kidReg: RunningRegistry, image: BuiltImage;
  before(async () => {
    issuer = await startTokenIssuer({ users: { alice: 's3cret' } });
    kidIssuer = await startTokenIssuer({ keyHint: 'kid' });
    reg = await startRegistry({ auth: { type: 'token', issuer } });
    kidReg = await startRegistry({ auth: { type: 'token', issuer: kidIssuer } });
    image = await buildImage(join(work, 'token'), { seed: 'token' });
  });
  after(async () => {
    for (const s of [reg, kidReg, issuer, kidIssuer]) await s?.stop();
  });

  test('anonymous GET /v2/ gets a Bearer challenge naming the issuer', async () => {
    const res = await httpGet(`${reg.url}/v2/`);
    assert.equal(res.status, 401);
    const challenge = String(res.headers['www-authenticate']);
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`realm="${issuer.url}"`), challenge);
    assert.ok(challenge.includes(`service="${issuer.service}"`), challenge);
  });

  test('skopeo push/inspect with creds works; without or with bad creds fails', async () => {
    const ref = `docker://${reg.host}/kit/private:v1`;
    const before = issuer.requests;
    fails(await push(image.layoutDir, ref), /unable to retrieve auth token.*credentials required/);
    fails(await push(image.layoutDir, ref, { creds: 'alice:wrong' }), /bad credentials/);
    ok(await push(image.layoutDir, ref, { creds: 'alice:s3cret' }));
    const raw = await inspect(ref, { raw: true, creds: 'alice:s3cret' });
    ok(raw);
    assert.equal(sha256(raw.stdoutBytes), image.manifestDigest);
    assert.ok(issuer.requests > before + 2, `requests: ${issuer.requests}`);
    const granted = issuer.calls.filter((c) => c.status === 200 && c.user === 'alice');
    assert.ok(granted.some((c) => c.scopes.some((s) => /^repository:kit\/private:.*push/.test(s))));
    assert.ok(issuer.calls.some((c) => c.status === 401));
  });

  test('registry enforces token scope and signer', async () => {
    const good = await issuer.mint([{ type: 'repository', name: 'kit/private', actions: ['pull'] }]);
    const path = `/v2/kit/private/manifests/${image.manifestDigest}`;
    const accept = 'application/vnd.oci.image.manifest.v1+json';
    const res = await httpGet(reg.url + path, { headers: { authorization: `Bearer ${good}`, accept } });
    assert.equal(res.status, 200);
    assert.equal(sha256(res.body), image.manifestDigest);
    const otherRepo = await issuer.mint([{ type: 'repository', name: 'kit/other', actions: ['pull'] }]);
    assert.equal((await httpGet(reg.url + path, bearer(otherRepo))).status, 401);
    const foreign = await kidIssuer.mint([{ type: 'repository', name: 'kit/private', actions: ['pull'] }]);
    assert.equal((await httpGet(reg.url + path, bearer(foreign))).status, 401);
  });

  test('kid-only tokens (libtrust key id) are accepted too; anonymous issuer', async () => {
    const token = await kidIssuer.mint([]);
    assert.equal((await httpGet(`${kidReg.url}/v2/`, bearer(token))).status, 200);
    ok(await push(image.layoutDir, `docker://${kidReg.host}/kit/anon:v1`));
    assert.ok(kidIssuer.calls.some((c) => c.user === null && c.status === 200));
  });
});

describe('htpasswd and TLS registries', () => {
  let basicReg: RunningRegistry, tlsReg: RunningRegistry, tls: TlsFiles, image: BuiltImage;
  before(async () => {
    tls = await makeTls(await mkdtemp(join(work, 'tls-')));
    basicReg = await startRegistry({ auth: { type: 'htpasswd', username: 'bob', password: 'hunter2' } });
    tlsReg = await startRegistry({ tls });
    image = await buildImage(join(work, 'misc'), { seed: 'misc' });
  });
  after(async () => {
    for (const s of [basicReg, tlsReg]) await s?.stop();
  });

  test('htpasswd: good creds push, bad creds rejected', async () => {
    const ref = `docker://${basicReg.host}/kit/basic:v1`;
    fails(await push(image.layoutDir, ref, { creds: 'bob:nope' }), /unauthorized/);
    ok(await push(image.layoutDir, ref, { creds: 'bob:hunter2' }));
    const challenge = await httpGet(`${basicReg.url}/v2/`);
    assert.equal(challenge.status, 401);
    assert.match(String(challenge.headers['www-authenticate']), /^Basic realm="trustgate-test"/);
  });

  test('https registry: CA-verified fetch and skopeo --cert-dir', async () => {
    assert.match(tlsReg.url, /^https:/);
    assert.equal((await httpGet(`${tlsReg.url}/v2/`, { caFile: tls.caFile })).status, 200);
    await assert.rejects(httpGet(`${tlsReg.url}/v2/`));
    const ref = `docker://${tlsReg.host}/kit/tls:v1`;
    ok(await push(image.layoutDir, ref, { tlsVerify: true, certDir: tls.dir }));
    const raw = await inspect(ref, { raw: true, tlsVerify: true, certDir: tls.dir });
    ok(raw);
    assert.equal(sha256(raw.stdoutBytes), image.manifestDigest);
    fails(await inspect(ref, { raw: true, tlsVerify: true }), /x509: certificate signed by unknown authority/);
  });
});
