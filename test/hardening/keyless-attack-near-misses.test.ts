// Attacks that FAIL (the verifier holds). Kept as evidence for the report; all should pass.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { compileSigstoreRoot } from '../../src/trust/sigstore-root.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { verifyCosignSignature, verifySigstoreBundle } from '../../src/verify/cosign/index.ts';
import type { TrustMaterial } from '../../src/verify/types.ts';
import { makeSimpleSigningPayload } from '../kit/cosign-sign.ts';
import { createLocalSigstore, ecKeyPair, makeCtLog, type FulcioCa } from '../kit/sigstore-services.ts';
import { issueFulcioLeaf, makeIntermediateCa } from '../kit/sigstore-pki.ts';

const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}` as const;
const subject = { digest, size: manifest.length, mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: manifest };
const local = createLocalSigstore({ padEntries: 1 });
const rootOf = (json: object, id = 'local') =>
  compileSigstoreRoot({
    id,
    kind: 'sigstore-root',
    pem: '',
    trustedRoot: JSON.stringify(json),
    scopes: ['**'],
    purposes: ['sign'],
    origin: 'file',
  });
const material = (json: object): TrustMaterial => ({ keys: [], roots: [], sigstoreRoots: [rootOf(json)], tsaRoots: [] });
const withCt = material(local.trustedRoot());
const noCt = material(local.trustedRoot({ ctlog: false }));
const payload = makeSimpleSigningPayload(digest, 'ghcr.io/org/app:v1');
const layer = (annotations: Record<string, string>) => ({
  scheme: 'cosign' as const,
  source: 'sha256-x.sig#0',
  mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
  payload,
  annotations,
});
const bundle = (json: object, trust: TrustMaterial) =>
  verifySigstoreBundle({ scheme: 'sigstore-bundle', source: 'r', bundle: Buffer.from(JSON.stringify(json)) }, subject, trust, Date.now());

describe('near misses (expected to hold)', () => {
  test('control', () => {
    assert.equal(
      verifyCosignSignature(layer(local.cosignKeylessSignature(payload).annotations), subject, withCt, Date.now()).failure,
      undefined,
    );
  });
  test('an SCT from a CT log the root does not list › certificate_untrusted', () => {
    const f = bundle(local.keylessMessageBundle(manifest, { leaf: { ctlog: makeCtLog() } }), withCt);
    assert.equal(f.failure?.kind, 'certificate_untrusted');
  });
  test('an SCT from an unlisted log under a root that lists no CT log at all › still refused (fail closed)', () => {
    const f = bundle(local.keylessMessageBundle(manifest, { leaf: { ctlog: makeCtLog() } }), noCt);
    assert.equal(f.failure?.kind, 'certificate_untrusted');
  });
  test('an intermediate named after the trusted root but signed by another key (chain annotation) › certificate_untrusted', () => {
    const rogue = { ...local.fulcio.root, key: ecKeyPair('P-384') };
    const rogueInt = makeIntermediateCa(rogue, { organization: 'sigstore.dev', commonName: 'sigstore-intermediate' });
    const ca: FulcioCa = {
      ...local.fulcio,
      intermediate: rogueInt,
      issueLeaf: (o) => issueFulcioLeaf(rogueInt, local.fulcio.ctlog, { ...o, sct: false }),
    };
    const s = local.cosignKeylessSignature(payload, { fulcio: ca });
    assert.match(s.annotations['dev.sigstore.cosign/chain']!, /BEGIN CERTIFICATE/);
    assert.equal(verifyCosignSignature(layer(s.annotations), subject, noCt, Date.now()).failure?.kind, 'certificate_untrusted');
  });
  test('a whole rogue chain (self-signed root + intermediate) in a v0.2 x509CertificateChain › certificate_untrusted', () => {
    const f = bundle(
      local.keylessMessageBundle(manifest, { fulcio: local.untrusted.fulcio, chainInBundle: true, leaf: { sct: false } }),
      noCt,
    );
    assert.equal(f.failure?.kind, 'certificate_untrusted');
  });
  test('a genuine log entry naming another certificate for the same signature bytes › tlog_invalid', () => {
    const other = local.fulcio.issueLeaf({
      publicKey: ecKeyPair().publicKey,
      email: 'x@y.z',
      notBefore: new Date(Math.floor(Date.now() / 1000) * 1000),
    });
    const f = bundle(local.keylessMessageBundle(manifest, { tlog: { loggedSigner: other.pem } }), withCt);
    assert.equal(f.failure?.kind, 'tlog_invalid');
  });
  test('a log entry for another digest › tlog_invalid', () => {
    const f = bundle(local.keylessMessageBundle(manifest, { tlog: { loggedDigest: Buffer.alloc(32, 7) } }), withCt);
    assert.equal(f.failure?.kind, 'tlog_invalid');
  });
  test('a SET from a log the root does not list › tlog_invalid', () => {
    const f = bundle(local.keylessMessageBundle(manifest, { tlog: { log: local.untrusted.rekor } }), withCt);
    assert.equal(f.failure?.kind, 'tlog_invalid');
  });
  test('issuer v1 and v2 disagree › certificate_untrusted', () => {
    const f = bundle(
      local.keylessMessageBundle(manifest, { leaf: { issuerExtensions: { v1: 'https://a.example', v2: 'https://b.example' } } }),
      withCt,
    );
    assert.equal(f.failure?.kind, 'certificate_untrusted');
  });
  test('a logged root never yields verification-time, even with no entry or timestamp › tlog_missing', () => {
    const f = bundle(local.keylessMessageBundle(manifest, { tlog: false }), withCt);
    assert.equal(f.failure?.kind, 'tlog_missing');
  });
  test('RegExp tricks are refused at load or neutralised by the ^(?:…)$ wrapper', () => {
    const load = (re: string) =>
      parsePolicy(
        `version: 1\nrules:\n  - name: r\n    images: ["x/**"]\n    signatures: { keyless: [{ root: pg, identities: [{ issuer: i, subjectRegExp: '${re}' }] }] }\n`,
        'p.yaml',
        () => {},
      ).rules[0]!.signatures.keyless[0]!.identities[0]!.subject;
    assert.throws(() => load('^a$|^b'));
    assert.throws(() => load('^a\\$'));
    const m = load('^(a|b.*)$') as { regExp: RegExp };
    assert.equal(m.regExp.test('bzz'), true);
    assert.equal(m.regExp.test('a\nb'), false);
    const n = load('^https://github\\.com/org/.*$') as { regExp: RegExp };
    assert.equal(n.regExp.test('https://github.com/org/x\nhttps://evil'), false);
  });
});
