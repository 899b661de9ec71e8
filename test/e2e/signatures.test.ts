import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildImage,
  copy,
  inspect,
  makeNotationPki,
  makeSimpleSigningPayload,
  push,
  pushCosignSignature,
  pushNotationSignature,
  signNotation,
  signPayload,
  startRegistry,
  type BuiltImage,
  type RunningRegistry,
} from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'tg-sig-e2e-'));
const keyPair = (curve = 'P-256') => generateKeyPairSync('ec', { namedCurve: curve });
const pemOf = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

let registry: RunningRegistry;
let proxy: RunningProxy;
const images: Record<string, BuiltImage> = {};
const ci = keyPair();
const second = keyPair('P-384');
const elsewhere = keyPair();
const stranger = keyPair();
const leaked = keyPair();

async function pushImage(name: string, repo: string): Promise<BuiltImage> {
  const image = images[name] ?? (await buildImage(join(work, name), { seed: name }));
  images[name] = image;
  const res = await push(image.layoutDir, `docker://${registry.host}/${repo}:v1`);
  assert.equal(res.code, 0, res.stderr);
  return image;
}

async function cosignSign(
  repo: string,
  image: BuiltImage,
  signers: Array<{ key: KeyObject; digest?: string; tamper?: boolean }>,
): Promise<void> {
  const layers = signers.map(({ key, digest, tamper }) => {
    const payload = makeSimpleSigningPayload(digest ?? image.manifestDigest, `${registry.host}/${repo}`);
    const signature = signPayload(key, payload);
    return {
      payload: tamper
        ? Buffer.from(payload.toString().replace('cosign container image signature', 'cosign container image signaturE'))
        : payload,
      signature,
    };
  });
  await pushCosignSignature(registry.url, repo, { digest: image.manifestDigest }, layers);
}

async function pull(repo: string): Promise<{ code: number; stderr: string; digest: string }> {
  const res = await inspect(`docker://${proxy.host}/${repo}:v1`, { raw: true });
  return { code: res.code, stderr: res.stderr, digest: res.code === 0 ? sha256(res.stdoutBytes) : '' };
}

before(async () => {
  registry = await startRegistry();
  const host = registry.host;
  const pki = await makeNotationPki(
    { root: { subject: '/C=US/ST=WA/O=Acme/CN=Acme Root' }, leaf: { subject: '/C=US/ST=WA/O=Acme/CN=builder' } },
    join(work, 'pki'),
  );

  const signed = await pushImage('signed', 'signed/app');
  await cosignSign('signed/app', signed, [{ key: ci.privateKey }]);
  await pushImage('unsigned', 'signed/unsigned');
  const other = await pushImage('other-scope', 'signed/other-scope');
  await cosignSign('signed/other-scope', other, [{ key: elsewhere.privateKey }]);
  const strange = await pushImage('stranger', 'signed/stranger');
  await cosignSign('signed/stranger', strange, [{ key: stranger.privateKey }]);
  const wrong = await pushImage('wrong-digest', 'signed/wrong-digest');
  await cosignSign('signed/wrong-digest', wrong, [{ key: ci.privateKey, digest: signed.manifestDigest }]);
  const tampered = await pushImage('tampered', 'signed/tampered');
  await cosignSign('signed/tampered', tampered, [{ key: ci.privateKey, tamper: true }]);
  const revoked = await pushImage('revoked', 'signed/revoked');
  await cosignSign('signed/revoked', revoked, [{ key: leaked.privateKey }]);
  const one = await pushImage('one-signer', 'two/app');
  await cosignSign('two/app', one, [{ key: ci.privateKey }]);
  const both = await pushImage('two-signers', 'two/both');
  await cosignSign('two/both', both, [{ key: ci.privateKey }, { key: second.privateKey }]);
  // Signed with COSIGN_REPOSITORY: the signature lives in another repository.
  const elsewhereSigned = await pushImage('cosign-repository', 'signed/cosign-repo');
  await cosignSign('signatures/store', elsewhereSigned, [{ key: ci.privateKey }]);
  const notary = await pushImage('notation', 'notary/app');
  const envelope = signNotation({
    leafKeyPem: pki.leaf.keyPem,
    chainPem: [pki.leaf.certPem, pki.root.certPem],
    alg: 'ES256',
    subject: { digest: notary.manifestDigest, size: notary.manifestBytes.length, mediaType: notary.mediaType },
  });
  await pushNotationSignature(
    registry.url,
    'notary/app',
    { digest: notary.manifestDigest, size: notary.manifestBytes.length, mediaType: notary.mediaType },
    envelope,
  );

  proxy = await startProxy(
    `listen: { plainHttp: true }
upstreams:
  - name: local
    url: ${registry.url}
    default: true
    repositories: ["${host}/**"]
`,
    {
      policy: `version: 1
rules:
  - { name: signed, images: ["${host}/signed/**"] }
  - { name: cosign-repo, images: ["${host}/signed/cosign-repo"], signatures: { signatureRepository: "${host}/signatures/store" } }
  - { name: two-keys, images: ["${host}/two/**"], signatures: { threshold: 2 } }
  - { name: notary, images: ["${host}/notary/**"], signatures: { notation: { trustedIdentities: ["x509.subject: C=US, ST=WA, O=Acme"] } } }
`,
      keys: [
        { id: 'ci', pem: pemOf(ci.publicKey), scopes: [`${host}/**`] },
        { id: 'second', pem: pemOf(second.publicKey), scopes: [`${host}/two/**`] },
        { id: 'elsewhere', pem: pemOf(elsewhere.publicKey), scopes: [`${host}/team-b/**`] },
        { id: 'leaked', pem: pemOf(leaked.publicKey), scopes: [`${host}/**`] },
        { id: 'acme-root', pem: pki.root.certPem, kind: 'crt', scopes: [`${host}/notary/**`] },
      ],
    },
  );
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('signature enforcement through skopeo', () => {
  it('signed with a trusted key › pulled, same digest', async () => {
    const res = await pull('signed/app');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.digest, images['signed']!.manifestDigest);
  });
  it("signatures in another repository (COSIGN_REPOSITORY) › found through the rule's signatureRepository", async () => {
    const res = await pull('signed/cosign-repo');
    assert.equal(res.code, 0, res.stderr);
  });
  it('unsigned › denied: no signature found', async () => {
    const res = await pull('signed/unsigned');
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /denied: trustgate denied .*signed\/unsigned \(rule \\?"signed\\?"\): no signature found/);
  });
  it('signed by a key trusted only for another repository › denied: not trusted for this repository', async () => {
    const res = await pull('signed/other-scope');
    assert.match(res.stderr, /no valid signature from a trusted key \(1 checked: .*\\?"elsewhere\\?" is not trusted for this repository\)/);
  });
  it('signed by a key the trust store does not hold › denied: does not verify', async () => {
    const res = await pull('signed/stranger');
    assert.notEqual(res.code, 0);
    assert.match(
      res.stderr,
      /no valid signature from a trusted key \(1 checked: cosign signature 1: signature does not verify with any of \d+ trusted keys\)/,
    );
  });
  it('a signature made for another digest › denied: signed for another digest', async () => {
    const res = await pull('signed/wrong-digest');
    assert.match(res.stderr, new RegExp(`signed for ${images['signed']!.manifestDigest.slice(0, 19)}`));
  });
  it('a tampered payload › denied: does not verify', async () => {
    const res = await pull('signed/tampered');
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no valid signature from a trusted key/);
  });
  it('threshold 2 with one signer › denied: 1 of 2; with two keys › pulled', async () => {
    const one = await pull('two/app');
    assert.match(one.stderr, /1 of 2 required signers \(ci\)/);
    const both = await pull('two/both');
    assert.equal(both.code, 0, both.stderr);
  });
  it('a notation signature from a trusted root and identity › pulled', async () => {
    const res = await pull('notary/app');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.digest, images['notation']!.manifestDigest);
  });
  it('a key revoked at run time › the next pull is denied: revoked', async () => {
    const before = await pull('signed/revoked');
    assert.equal(before.code, 0, before.stderr);
    await proxy.runtime.trust.revoke('leaked', 'key leaked', Date.now());
    const afterRevoke = await pull('signed/revoked');
    assert.notEqual(afterRevoke.code, 0);
    assert.match(afterRevoke.stderr, /signed by \\?"leaked\\?", revoked at/);
  });
});

describe('clients that verify for themselves read the signatures through trustgate', () => {
  const sigTag = (digest: string): string => `${digest.replace(':', '-')}.sig`;
  it('skopeo reads the cosign .sig tag and copies it whole (manifest, config and payload, each checked)', async () => {
    const tag = sigTag(images['signed']!.manifestDigest);
    const raw = await inspect(`docker://${proxy.host}/signed/app:${tag}`, { raw: true });
    assert.equal(raw.code, 0, raw.stderr);
    const manifest = JSON.parse(raw.stdoutBytes.toString()) as { layers: { mediaType: string; digest: string }[] };
    assert.equal(manifest.layers[0]!.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
    const dir = join(work, 'sig-copy');
    const copied = await copy(`docker://${proxy.host}/signed/app:${tag}`, `oci:${dir}`);
    assert.equal(copied.code, 0, copied.stderr);
    const payload = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7)), 'utf8')) as {
      critical: { image: { 'docker-manifest-digest': string } };
    };
    assert.equal(payload.critical.image['docker-manifest-digest'], images['signed']!.manifestDigest);
  });
  it('the notation referrers fallback tag is served as a listing, and the signature manifest it lists by digest', async () => {
    const subject = images['notation']!.manifestDigest;
    const listing = await inspect(`docker://${proxy.host}/notary/app:${subject.replace(':', '-')}`, { raw: true });
    assert.equal(listing.code, 0, listing.stderr);
    const index = JSON.parse(listing.stdoutBytes.toString()) as { manifests: { digest: string; artifactType: string }[] };
    assert.equal(index.manifests[0]!.artifactType, 'application/vnd.cncf.notary.signature');
    const signature = await inspect(`docker://${proxy.host}/notary/app@${index.manifests[0]!.digest}`, { raw: true });
    assert.equal(signature.code, 0, signature.stderr);
  });
});
