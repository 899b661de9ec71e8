// Self-test of the kit's Notary Project signer against notation-go's fixtures and a real registry.
// No src/ imports: the signer and these checks must stand on their own.
// Run: node --import tsx --test test/kit/notation-sign.test.ts
import assert from 'node:assert/strict';
import { X509Certificate, constants, createHash, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { makeNotationPki } from './notation-pki.ts';
import type { NotationPki } from './notation-pki.ts';
import {
  NOTATION_MT,
  NOTATION_THUMBPRINT_ANNOTATION,
  makeNotationTsa,
  notationSignatureBytes,
  notationThumbprints,
  pushNotationSignature,
  referrersTag,
  signNotation,
  TIMESTAMP_HEADER,
  timestampNotation,
} from './notation-sign.ts';
import type { NotationAlg } from './notation-sign.ts';
import { getManifest, putBlob, putManifest, sha256 } from './registry-api.ts';
import { startRegistry } from './registry.ts';
import type { RunningRegistry } from './registry.ts';
import { openssl } from './tls.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/notation-go/envelopes/', import.meta.url));
interface Envelope {
  payload: string;
  protected: string;
  header: { x5c: string[] } & Record<string, unknown>;
  signature: string;
}
const parse = (b: Buffer): Envelope => JSON.parse(b.toString('utf8')) as Envelope;
const fixture = (name: string): Envelope => parse(readFileSync(`${FIXTURES}${name}_sig_env.json`));
const protectedOf = (e: Envelope): Record<string, unknown> =>
  JSON.parse(Buffer.from(e.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
const TARGET = {
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
  size: 528,
};

/** RFC 7515 §5.2 by hand: PS* with salt = hash length, ES* as raw r‖s. */
function jwsVerifies(e: Envelope, alg: NotationAlg): boolean {
  const hash = `sha${alg.slice(2)}`;
  const key = new X509Certificate(Buffer.from(e.header.x5c[0]!, 'base64')).publicKey;
  const input = Buffer.from(`${e.protected}.${e.payload}`, 'ascii');
  const signature = Buffer.from(e.signature, 'base64url');
  return alg.startsWith('PS')
    ? verify(hash, input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }, signature)
    : verify(hash, input, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

let pki: NotationPki, rsa: NotationPki;
before(async () => {
  [pki, rsa] = await Promise.all([makeNotationPki(), makeNotationPki({ leaf: { key: 'rsa-3072' } })]);
});
after(async () => {
  await Promise.all([pki, rsa].map((p) => p && rm(p.dir, { recursive: true, force: true })));
});

describe('notation signer against the notation-go fixtures', () => {
  it('a fixture envelope verifies with plain node:crypto and its own x5c leaf (PS384); the padded one does not', () => {
    assert.equal(protectedOf(fixture('ca_valid')).alg, 'PS384');
    assert.equal(jwsVerifies(fixture('ca_valid'), 'PS384'), true);
    assert.equal(jwsVerifies(fixture('sa_valid'), 'PS384'), true);
    assert.equal(jwsVerifies(fixture('ca_invalid'), 'PS384'), false);
  });

  it('the notary.x509 protected header has the member names, order and crit of ca_valid', () => {
    const ours = protectedOf(
      parse(
        signNotation({
          leafKeyPem: rsa.leaf.keyPem,
          chainPem: rsa.chainPem,
          alg: 'PS384',
          subject: TARGET,
          expiry: new Date('2120-11-09T07:00:00Z'),
        }),
      ),
    );
    const theirs = protectedOf(fixture('ca_valid'));
    assert.deepEqual(Object.keys(ours), Object.keys(theirs));
    assert.deepEqual(ours.crit, theirs.crit);
    assert.equal(ours.cty, theirs.cty);
    assert.equal(ours['io.cncf.notary.expiry'], theirs['io.cncf.notary.expiry']);
    assert.match(String(ours['io.cncf.notary.signingTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('the signingAuthority protected header has the member names and crit of sa_valid', () => {
    const ours = protectedOf(
      parse(
        signNotation({
          leafKeyPem: rsa.leaf.keyPem,
          chainPem: rsa.chainPem,
          alg: 'PS384',
          subject: TARGET,
          scheme: 'notary.x509.signingAuthority',
          signingTime: new Date('2020-11-09T07:00:00Z'),
          expiry: new Date('2120-11-09T07:00:00Z'),
        }),
      ),
    );
    const theirs = protectedOf(fixture('sa_valid'));
    assert.deepEqual(Object.keys(ours), Object.keys(theirs));
    assert.deepEqual(new Set(ours.crit as string[]), new Set(theirs.crit as string[]));
    assert.equal(ours['io.cncf.notary.authenticSigningTime'], theirs['io.cncf.notary.authenticSigningTime']);
  });

  it('the envelope has the fixture shape: four members, unpadded base64url, std-base64 x5c, the same payload', () => {
    const ours = parse(signNotation({ leafKeyPem: rsa.leaf.keyPem, chainPem: rsa.chainPem, alg: 'PS384', subject: TARGET }));
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(fixture('ca_valid')).sort());
    for (const v of [ours.payload, ours.protected, ours.signature]) assert.match(v, /^[A-Za-z0-9_-]+$/);
    assert.equal(ours.payload, fixture('ca_valid').payload, 'same compact payload JSON for the same target');
    for (const c of ours.header.x5c) assert.match(c, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(ours.header.x5c.length, 2);
  });

  for (const [alg, get] of [
    ['PS384', () => rsa],
    ['ES256', () => pki],
  ] as const) {
    it(`a kit ${alg} envelope verifies with plain node:crypto`, () => {
      const p = get();
      assert.equal(jwsVerifies(parse(signNotation({ leafKeyPem: p.leaf.keyPem, chainPem: p.chainPem, alg, subject: TARGET })), alg), true);
    });
  }
});

describe('dated certificates and RFC 3161 timestamps', () => {
  const HOUR = 3_600_000;
  const second = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
  let dated: NotationPki;
  const rootFrom = second(Date.now() - 10 * 24 * HOUR);
  const leafFrom = second(Date.now() - 24 * HOUR);
  before(async () => {
    dated = await makeNotationPki({
      root: { notBefore: rootFrom, days: 365 },
      intermediate: true,
      leaf: { notBefore: leafFrom, notAfter: new Date(leafFrom.getTime() + HOUR) },
    });
  });
  after(async () => {
    await rm(dated.dir, { recursive: true, force: true });
  });

  it('openssl ca issues certificates with the given validity, subject and extensions', () => {
    const [leaf, intermediate, root] = dated.chainPem.map((pem) => new X509Certificate(pem));
    assert.equal(Date.parse(leaf!.validFrom), leafFrom.getTime());
    assert.equal(Date.parse(leaf!.validTo), leafFrom.getTime() + HOUR);
    assert.equal(Date.parse(root!.validFrom), rootFrom.getTime());
    assert.equal(Date.parse(root!.validTo), rootFrom.getTime() + 365 * 24 * HOUR);
    assert.equal(leaf!.subject, 'C=US\nST=WA\nL=Seattle\nO=trustgate-test\nCN=Notation Test Signer', 'the DN order as given');
    assert.deepEqual(leaf!.keyUsage, ['1.3.6.1.5.5.7.3.3'], 'codeSigning EKU from ext_leaf');
    assert.equal(leaf!.verify(intermediate!.publicKey), true);
    assert.equal(intermediate!.verify(root!.publicKey), true);
    assert.equal(root!.verify(root!.publicKey), true);
    assert.equal(root!.ca, true);
  });

  it('timestampNotation attaches a token over the signature that openssl ts -verify accepts', async () => {
    const at = second(leafFrom.getTime() + 30 * 60_000);
    const tsa = await makeNotationTsa(at);
    const envelope = signNotation({
      leafKeyPem: dated.leaf.keyPem,
      chainPem: dated.chainPem,
      alg: 'ES256',
      subject: TARGET,
      signingTime: at,
    });
    const stamped = parse(await timestampNotation(envelope, tsa));
    const value = stamped.header[TIMESTAMP_HEADER];
    assert.equal(typeof value, 'string');
    assert.match(value as string, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(stamped.signature, parse(envelope).signature, 'the signature is untouched');
    await writeFile(join(dated.dir, 'token.der'), Buffer.from(value as string, 'base64'));
    await writeFile(join(dated.dir, 'tsa-root.pem'), tsa.rootPem);
    const digest = createHash('sha256').update(notationSignatureBytes(envelope)).digest('hex');
    const out = await openssl(['ts', '-verify', '-digest', digest, '-in', 'token.der', '-token_in', '-CAfile', 'tsa-root.pem'], dated.dir);
    assert.match(out, /Verification: OK/);
    const text = await openssl(['ts', '-reply', '-in', 'token.der', '-token_in', '-token_out', '-text'], dated.dir);
    assert.match(text, /Hash Algorithm: sha256/);
    assert.equal(Date.parse(/Time stamp: (.*)/.exec(text)![1]!), at.getTime());
  });
});

describe('pushNotationSignature against a real registry (distribution 2.8)', () => {
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
  });

  it('pushes the signature manifest by digest and lists it in the sha256-<hex> fallback index', async () => {
    const repo = 'kit/notation';
    const config = await putBlob(reg.url, repo, Buffer.from('{}'));
    const layer = await putBlob(reg.url, repo, Buffer.from('layer bytes'));
    const image = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: NOTATION_MT.manifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    const subject = { mediaType: NOTATION_MT.manifest, ...(await putManifest(reg.url, repo, 'v1', image, NOTATION_MT.manifest)) };

    const envelopes = [pki, rsa].map((p) =>
      signNotation({ leafKeyPem: p.leaf.keyPem, chainPem: p.chainPem, alg: p === rsa ? 'PS384' : 'ES256', subject }),
    );
    const first = await pushNotationSignature(reg.url, repo, subject, envelopes[0]!);
    const second = await pushNotationSignature(reg.url, repo, subject, envelopes[1]!);
    assert.equal(first.tag, `sha256-${subject.digest.slice('sha256:'.length)}`);
    assert.equal(referrersTag(subject.digest), first.tag);

    const sigManifest = JSON.parse(first.manifestBytes.toString('utf8')) as Record<string, unknown>;
    assert.equal(sigManifest.artifactType, NOTATION_MT.signature);
    assert.deepEqual(sigManifest.config, { mediaType: NOTATION_MT.empty, digest: sha256(Buffer.from('{}')), size: 2 });
    assert.deepEqual(sigManifest.subject, subject);
    assert.deepEqual((sigManifest.layers as unknown[])[0], {
      mediaType: NOTATION_MT.jws,
      digest: sha256(envelopes[0]!),
      size: envelopes[0]!.length,
    });
    const thumbs = JSON.parse((sigManifest.annotations as Record<string, string>)[NOTATION_THUMBPRINT_ANNOTATION]!) as string[];
    assert.deepEqual(
      thumbs,
      pki.chainPem.map((pem) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex')),
    );
    assert.deepEqual(thumbs, notationThumbprints(envelopes[0]!));

    const stored = await getManifest(reg.url, repo, first.manifest.digest, NOTATION_MT.manifest);
    assert.deepEqual(stored, first.manifestBytes, 'stored byte for byte under its digest');

    const indexBytes = await getManifest(reg.url, repo, first.tag, NOTATION_MT.index);
    assert.ok(indexBytes);
    assert.equal(sha256(indexBytes), second.index.digest);
    const index = JSON.parse(indexBytes.toString('utf8')) as { mediaType: string; manifests: Array<Record<string, unknown>> };
    assert.equal(index.mediaType, NOTATION_MT.index);
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [first.manifest.digest, second.manifest.digest],
    );
    assert.deepEqual(index.manifests[0], {
      mediaType: NOTATION_MT.manifest,
      digest: first.manifest.digest,
      size: first.manifest.size,
      artifactType: NOTATION_MT.signature,
      annotations: sigManifest.annotations,
    });

    const again = await pushNotationSignature(reg.url, repo, subject, envelopes[0]!);
    const after = JSON.parse((await getManifest(reg.url, repo, again.tag, NOTATION_MT.index))!.toString('utf8')) as {
      manifests: unknown[];
    };
    assert.equal(after.manifests.length, 2, 'pushing the same signature again does not list it twice');
  });
});
