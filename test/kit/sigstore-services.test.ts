// Proves the local sigstore kit interoperates: its bundles verify with sigstore-js
// (@sigstore/verify + @sigstore/bundle + @sigstore/protobuf-specs), its mutations fail there with
// the expected VerificationError codes, its TSA tokens pass `openssl ts -verify`, and its Merkle
// proofs pass an independent RFC 9162 checker. No src/ imports.
// Run: node --import tsx --test test/kit/sigstore-services.test.ts
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate as NodeX509, createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate, json as sigstoreJson } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, VerificationError, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import type { Signer, VerifierOptions } from '@sigstore/verify';
import { openssl } from './tls.ts';
import { leafHash, makeRekorLog } from './sigstore-rekor.ts';
import { COSIGN_ANNOTATIONS, OIDS, SIGSTORE_MT, createLocalSigstore, ecKeyPair, spkiDer } from './sigstore-services.ts';
import type { BundleJson, TrustedRootJson } from './sigstore-services.ts';

const T = new Date('2025-06-01T12:00:00Z');
const ARTIFACT = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
const STATEMENT = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: 'ab'.repeat(32) } }],
    predicateType: 'x',
    predicate: {},
  }),
);
const ALL: VerifierOptions = { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 };
const sigstore = createLocalSigstore();

function verifyBundle(bundle: BundleJson, options: VerifierOptions = ALL, root: TrustedRootJson = sigstore.trustedRoot()): Signer {
  const artifact = bundle.messageSignature ? ARTIFACT : undefined;
  return new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)), options).verify(toSignedEntity(bundleFromJSON(bundle), artifact));
}

function rejects(bundle: BundleJson, code: string, options: VerifierOptions = ALL, root?: TrustedRootJson): void {
  assert.throws(
    () => verifyBundle(bundle, options, root),
    (err: unknown) => err instanceof VerificationError && err.code === code,
    `expected ${code}`,
  );
}

const parseCert = (der: Buffer): X509Certificate => X509Certificate.parse(Buffer.from(der));

const entryOf = (bundle: BundleJson) => {
  const entry = bundle.verificationMaterial.tlogEntries[0];
  assert.ok(entry);
  return entry;
};

/** RFC 9162 §2.1.3.2 inclusion proof verification, written independently of the kit's RFC 6962 PATH recursion. */
function rfc9162Verify(index: number, size: number, leaf: Buffer, proof: readonly Buffer[], root: Buffer): boolean {
  const node = (l: Buffer, r: Buffer): Buffer =>
    createHash('sha256')
      .update(Buffer.from([1]))
      .update(l)
      .update(r)
      .digest();
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = node(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}

describe('trusted_root.json', () => {
  const json = sigstore.trustedRoot();

  it('is accepted by TrustedRoot.fromJSON and toTrustMaterial', () => {
    const tm = toTrustMaterial(TrustedRoot.fromJSON(json));
    assert.equal(json.mediaType, SIGSTORE_MT.trustedRoot);
    assert.equal(tm.certificateAuthorities.length, 1);
    assert.equal(tm.tlogs[0]!.baseURL, 'https://rekor.local');
    assert.deepEqual(tm.tlogs[0]!.logID, createHash('sha256').update(sigstore.rekor.spki).digest());
    assert.deepEqual(tm.ctlogs[0]!.logID, sigstore.ctlog.logId);
    assert.equal(tm.timestampAuthorities[0]!.certChain.length, 3);
  });

  it('orders chains leaf-most first: Fulcio intermediate then root; TSA signing leaf, intermediate, root', () => {
    const ca = json.certificateAuthorities[0]!.certChain.certificates.map((c) => c.rawBytes);
    assert.deepEqual(ca, [sigstore.fulcio.intermediate.cert.der.toString('base64'), sigstore.fulcio.root.cert.der.toString('base64')]);
    const tsa = json.timestampAuthorities[0]!.certChain.certificates.map((c) => c.rawBytes);
    assert.deepEqual(
      tsa,
      sigstore.tsa.chain.map((c) => c.der.toString('base64')),
    );
    assert.equal(json.tlogs[0]!.publicKey.keyDetails, 'PKIX_ECDSA_P256_SHA_256');
  });

  it('leaves services out or adds extra ones on request', () => {
    const root = sigstore.trustedRoot({ ca: false, tsa: false, extraCAs: [sigstore.byo], extraTlogs: [sigstore.untrusted.rekor] });
    assert.equal(root.certificateAuthorities.length, 1);
    assert.equal(
      root.certificateAuthorities[0]!.certChain.certificates[0]!.rawBytes,
      sigstore.byo.intermediate.cert.der.toString('base64'),
    );
    assert.equal(root.tlogs.length, 2);
    assert.equal(root.timestampAuthorities.length, 0);
    toTrustMaterial(TrustedRoot.fromJSON(root));
  });
});

describe('Fulcio-like CA', () => {
  const key = ecKeyPair();
  const leafOf = (options: Parameters<typeof sigstore.fulcio.issueLeaf>[0]) => parseCert(sigstore.fulcio.issueLeaf(options).der);

  it('issues a Fulcio-shaped leaf that chains to the intermediate and root (node:crypto)', () => {
    const leaf = sigstore.fulcio.issueLeaf({
      publicKey: key.publicKey,
      uri: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
      notBefore: T,
    });
    const node = new NodeX509(leaf.der);
    const intermediate = new NodeX509(sigstore.fulcio.intermediate.cert.der);
    assert.ok(node.verify(intermediate.publicKey));
    assert.ok(intermediate.verify(new NodeX509(sigstore.fulcio.root.cert.der).publicKey));
    assert.equal(parseCert(leaf.der).subject.length, 0); // empty subject SEQUENCE
    assert.equal(new Date(node.validTo).getTime() - new Date(node.validFrom).getTime(), 10 * 60 * 1000);
    const parsed = parseCert(leaf.der);
    assert.equal(parsed.extSubjectAltName?.critical, true);
    assert.equal(parsed.extKeyUsage?.digitalSignature, true);
    assert.equal(parsed.subjectAltName, 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main');
  });

  it('writes issuer v1 as raw bytes, v2 as a DER UTF8String, and the GitHub workflow v1 extensions raw', () => {
    const leaf = leafOf({
      publicKey: key.publicKey,
      email: 'a@example.com',
      issuer: 'https://token.actions.githubusercontent.com',
      notBefore: T,
      githubWorkflow: { trigger: 'push', sha: 'f00d', name: 'release', repository: 'acme/app', ref: 'refs/heads/main' },
    });
    assert.equal(leaf.extension(OIDS.fulcioIssuerV1)?.value.toString(), 'https://token.actions.githubusercontent.com');
    const v2 = leaf.extension(OIDS.fulcioIssuerV2)!.value;
    assert.equal(v2[0], 0x0c);
    assert.equal(v2.subarray(2).toString(), 'https://token.actions.githubusercontent.com');
    assert.equal(leaf.extension(OIDS.githubWorkflowTrigger)?.value.toString(), 'push');
    assert.equal(leaf.extension(OIDS.githubWorkflowSha)?.value.toString(), 'f00d');
    assert.equal(leaf.extension(OIDS.githubWorkflowName)?.value.toString(), 'release');
    assert.equal(leaf.extension(OIDS.githubWorkflowRepository)?.value.toString(), 'acme/app');
    assert.equal(leaf.extension(OIDS.githubWorkflowRef)?.value.toString(), 'refs/heads/main');
  });

  it('can write only one issuer extension, or two that disagree (sigstore-js reports v2 then)', () => {
    const v1 = leafOf({ publicKey: key.publicKey, email: 'a@example.com', issuerExtensions: 'v1', notBefore: T });
    assert.ok(v1.extension(OIDS.fulcioIssuerV1) && !v1.extension(OIDS.fulcioIssuerV2));
    const bundle = sigstore.keylessMessageBundle(ARTIFACT, {
      time: T,
      leaf: { issuerExtensions: { v1: 'https://one.example', v2: 'https://two.example' } },
    });
    assert.equal(verifyBundle(bundle).identity?.extensions?.issuer, 'https://two.example');
    const onlyV1 = sigstore.keylessMessageBundle(ARTIFACT, { time: T, leaf: { issuer: 'https://one.example', issuerExtensions: 'v1' } });
    assert.equal(verifyBundle(onlyV1).identity?.extensions?.issuer, 'https://one.example');
  });

  it('embeds an RFC 6962 SCT over the TBS without the SCT extension, keyed by the intermediate SPKI', () => {
    const leaf = leafOf({ publicKey: key.publicKey, email: 'a@example.com', notBefore: T });
    const scts = leaf.extSCT!.signedCertificateTimestamps;
    assert.equal(scts.length, 1);
    assert.deepEqual(scts[0]!.logID, sigstore.ctlog.logId);
    assert.equal(scts[0]!.datetime.getTime(), T.getTime());
    assert.equal(leafOf({ publicKey: key.publicKey, email: 'a@example.com', notBefore: T, sct: false }).extSCT, undefined);
  });

  it('makes a BYO chain: named leaf with email + DNS SANs, long-lived, no Fulcio extensions', () => {
    const leaf = parseCert(sigstore.byo.leaf.der);
    assert.equal(leaf.extSubjectAltName?.critical, false);
    assert.equal(leaf.extSubjectAltName?.rfc822Name, 'release@byo.example');
    assert.match(new NodeX509(sigstore.byo.leaf.der).subjectAltName ?? '', /DNS:signer\.byo\.example/);
    assert.equal(leaf.extension(OIDS.fulcioIssuerV1), undefined);
    assert.equal(leaf.extSCT, undefined);
    assert.ok(leaf.notAfter.getTime() - leaf.notBefore.getTime() > 365 * 24 * 3600 * 1000);
  });
});

describe('Rekor-like log', () => {
  it('gives proofs that an independent RFC 9162 checker accepts, for every index of small trees', () => {
    for (let size = 1; size <= 17; size++) {
      const log = makeRekorLog({ padBefore: 0, padAfter: 0 });
      const bodies = Array.from({ length: size }, (_, i) => ({ n: i }));
      for (const body of bodies) log.append(body, T);
      for (let i = 0; i < size; i++) {
        const proof = log.proof(i);
        const leaf = leafHash(Buffer.from(JSON.stringify(bodies[i])));
        assert.ok(rfc9162Verify(i, size, leaf, proof.hashes, proof.rootHash), `index ${i} of ${size}`);
        assert.ok(!rfc9162Verify(i, size, leafHash(Buffer.from('other')), proof.hashes, proof.rootHash));
      }
    }
  });

  it('appends into a padded tree: several proof hashes, a signed-note checkpoint, a SET over canonical JSON', () => {
    const entry = sigstore.append({ kind: 'demo', apiVersion: '0.0.1', spec: { b: 1, a: 2 } }, T);
    assert.equal(entry.canonicalizedBody.toString(), '{"apiVersion":"0.0.1","kind":"demo","spec":{"a":2,"b":1}}');
    assert.ok(entry.inclusionProof.treeSize > entry.inclusionProof.logIndex + 1);
    assert.ok(entry.inclusionProof.hashes.length >= 5);
    const lines = entry.inclusionProof.checkpoint.envelope.split('\n');
    assert.equal(lines[0], sigstore.rekor.origin);
    assert.equal(lines[1], String(entry.inclusionProof.treeSize));
    assert.equal(lines[2], entry.inclusionProof.rootHash.toString('base64'));
    assert.equal(lines[3], '');
    assert.match(lines[4]!, /^\u2014 rekor\.local [A-Za-z0-9+/=]+$/);
    const payload = sigstoreJson.canonicalize({
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime: entry.integratedTime,
      logIndex: entry.logIndex,
      logID: entry.logID.toString('hex'),
    });
    assert.ok(verify('sha256', Buffer.from(payload), sigstore.rekor.key.publicKey, entry.signedEntryTimestamp));
  });
});

describe('RFC 3161 TSA', () => {
  it('issues TimeStampResp tokens that openssl ts -verify accepts (and rejects for other data)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trustgate-sigstore-tsa-'));
    try {
      const data = Buffer.from('signature bytes');
      await writeFile(join(dir, 'openssl.cnf'), '');
      await writeFile(join(dir, 'data.bin'), data);
      await writeFile(join(dir, 'other.bin'), Buffer.from('other bytes'));
      await writeFile(join(dir, 'resp.der'), sigstore.tsa.timestamp(data, T, { includeCertificate: true }));
      await writeFile(join(dir, 'root.pem'), sigstore.tsa.root.cert.pem);
      await writeFile(join(dir, 'int.pem'), sigstore.tsa.intermediate.cert.pem);
      const args = ['ts', '-verify', '-in', 'resp.der', '-CAfile', 'root.pem', '-untrusted', 'int.pem'];
      assert.match(await openssl([...args, '-data', 'data.bin'], dir), /Verification: OK/);
      await assert.rejects(openssl([...args, '-data', 'other.bin'], dir), /imprint mismatch/);
      assert.match(await openssl(['ts', '-reply', '-in', 'resp.der', '-text'], dir), /Time stamp: Jun {2}1 12:00:00 2025 GMT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bundles verify with sigstore-js', () => {
  it('keyless message bundle with SET + proof + SCT + TSA, all thresholds at 1 (2 timestamps)', () => {
    const bundle = sigstore.keylessMessageBundle(ARTIFACT, { time: T, tsa: true, leaf: { email: 'dev@acme.example' } });
    assert.equal(bundle.mediaType, SIGSTORE_MT.bundleV03);
    const signer = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot())), { ...ALL, timestampThreshold: 2 }).verify(
      toSignedEntity(bundleFromJSON(bundle), ARTIFACT),
    );
    assert.equal(signer.identity?.subjectAlternativeName, 'dev@acme.example');
    assert.equal(signer.identity?.extensions?.issuer, 'https://oauth2.sigstore.dev/auth');
    const entry = entryOf(bundle);
    assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
    assert.equal(entry.integratedTime, String(T.getTime() / 1000 + 1));
    const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString());
    assert.equal(
      Buffer.from(body.spec.signature.publicKey.content, 'base64').toString(),
      new NodeX509(Buffer.from(bundle.verificationMaterial.certificate!.rawBytes, 'base64')).toString(),
    );
    assert.equal(body.spec.signature.content, bundle.messageSignature!.signature);
  });

  it('DSSE bundle logged as dsse 0.0.1 and as intoto 0.0.2', () => {
    for (const kind of ['dsse', 'intoto'] as const) {
      const bundle = sigstore.keylessDsseBundle(STATEMENT, { time: T, tlog: { kind } });
      assert.equal(bundle.dsseEnvelope!.payloadType, 'application/vnd.in-toto+json');
      assert.equal(verifyBundle(bundle).identity?.subjectAlternativeName, 'signer@example.com');
      assert.equal(entryOf(bundle).kindVersion.kind, kind);
    }
  });

  it('TSA-only bundle: inclusion proof but no promise, the signing time comes from the RFC 3161 token', () => {
    const bundle = sigstore.keylessMessageBundle(ARTIFACT, { time: T, tsa: true, tlog: { promise: false } });
    assert.equal(entryOf(bundle).inclusionPromise, undefined);
    verifyBundle(bundle);
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { promise: false } }), 'TIMESTAMP_ERROR'); // no timestamp at all
  });

  it('a public-key bundle verifies with a key finder for its hint', () => {
    const key = ecKeyPair();
    const bundle = sigstore.keyMessageBundle(ARTIFACT, key.privateKey, { time: T });
    assert.ok(bundle.verificationMaterial.publicKey?.hint);
    const tm = toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot()), () => ({ publicKey: key.publicKey, validFor: () => true }));
    new Verifier(tm, ALL).verify(toSignedEntity(bundleFromJSON(bundle), ARTIFACT));
  });

  it('a BYO-PKI leaf (no SCT) verifies once its CA is in the trusted root', () => {
    const bundle = sigstore.keylessMessageBundle(ARTIFACT, { time: T, byo: sigstore.byo });
    const root = sigstore.trustedRoot({ extraCAs: [sigstore.byo] });
    assert.equal(verifyBundle(bundle, { ...ALL, ctlogThreshold: 0 }, root).identity?.subjectAlternativeName, 'release@byo.example');
    rejects(bundle, 'CERTIFICATE_ERROR', { ...ALL, ctlogThreshold: 0 });
  });
});

describe('mutations fail in sigstore-js with the expected code', () => {
  it('SET signed by another key → TLOG_INCLUSION_PROMISE_ERROR', () => {
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { setKey: ecKeyPair().privateKey } }), 'TLOG_INCLUSION_PROMISE_ERROR');
  });

  it('tampered proof hash → TLOG_INCLUSION_PROOF_ERROR', () => {
    const bundle = sigstore.keylessMessageBundle(ARTIFACT, { time: T });
    const proof = entryOf(bundle).inclusionProof!;
    const first = Buffer.from(proof.hashes[1]!, 'base64');
    first[0]! ^= 1;
    proof.hashes[1] = first.toString('base64');
    rejects(bundle, 'TLOG_INCLUSION_PROOF_ERROR');
  });

  it('checkpoint signed by another key, or by a log the root does not list → TLOG_INCLUSION_PROOF_ERROR', () => {
    rejects(
      sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { promise: false, checkpointKey: ecKeyPair().privateKey }, tsa: true }),
      'TLOG_INCLUSION_PROOF_ERROR',
    );
    rejects(
      sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { promise: false, log: sigstore.untrusted.rekor }, tsa: true }),
      'TLOG_INCLUSION_PROOF_ERROR',
    );
  });

  it('entry from a log the root does not list (with SET) → TLOG_INCLUSION_PROMISE_ERROR', () => {
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { log: sigstore.untrusted.rekor } }), 'TLOG_INCLUSION_PROMISE_ERROR');
    verifyBundle(
      sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { log: sigstore.untrusted.rekor } }),
      ALL,
      sigstore.trustedRoot({ extraTlogs: [sigstore.untrusted.rekor] }),
    );
  });

  it('log entry for another signature, another digest, or another kind → TLOG_BODY_ERROR', () => {
    const other = Buffer.from(
      sigstore.keylessMessageBundle(Buffer.from('other'), { time: T, tlog: false }).messageSignature!.signature,
      'base64',
    );
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { loggedSignature: other } }), 'TLOG_BODY_ERROR');
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { loggedDigest: Buffer.alloc(32) } }), 'TLOG_BODY_ERROR');
    rejects(
      sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { kindVersion: { kind: 'intoto', version: '0.0.2' } } }),
      'TLOG_BODY_ERROR',
    );
    rejects(sigstore.keylessDsseBundle(STATEMENT, { time: T, tlog: { loggedSignature: other } }), 'TLOG_BODY_ERROR');
    rejects(
      sigstore.keylessDsseBundle(STATEMENT, { time: T, tlog: { kind: 'intoto', loggedDigest: Buffer.alloc(32) } }),
      'TLOG_BODY_ERROR',
    );
  });

  it('integrated time or TSA time outside the leaf validity → CERTIFICATE_ERROR', () => {
    const late = new Date(T.getTime() + 11 * 60 * 1000);
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { integratedTime: late } }), 'CERTIFICATE_ERROR');
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { promise: false }, tsa: { time: late } }), 'CERTIFICATE_ERROR');
    rejects(
      sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { integratedTime: new Date(T.getTime() - 1000) } }),
      'CERTIFICATE_ERROR',
    );
  });

  it('SCT from a CT log the root does not list, or no SCT → CERTIFICATE_ERROR', () => {
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, leaf: { ctlog: sigstore.untrusted.ctlog } }), 'CERTIFICATE_ERROR');
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, leaf: { sct: false } }), 'CERTIFICATE_ERROR');
    verifyBundle(sigstore.keylessMessageBundle(ARTIFACT, { time: T, leaf: { sct: false } }), { ...ALL, ctlogThreshold: 0 });
  });

  it('leaf from a CA the root does not list → CERTIFICATE_ERROR, even with that CA in a v0.2 bundle chain', () => {
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, fulcio: sigstore.untrusted.fulcio }), 'CERTIFICATE_ERROR');
    const chained = sigstore.keylessMessageBundle(ARTIFACT, { time: T, fulcio: sigstore.untrusted.fulcio, chainInBundle: true });
    assert.equal(chained.mediaType, SIGSTORE_MT.bundleV02);
    assert.equal(chained.verificationMaterial.x509CertificateChain!.certificates.length, 3);
    rejects(chained, 'CERTIFICATE_ERROR');
    verifyBundle(sigstore.keylessMessageBundle(ARTIFACT, { time: T, chainInBundle: true }));
  });

  it('TSA token over another signature, or from a TSA the root does not list → TIMESTAMP_ERROR', () => {
    const other = Buffer.from(
      sigstore.keylessMessageBundle(Buffer.from('other'), { time: T, tlog: false }).messageSignature!.signature,
      'base64',
    );
    rejects(sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { promise: false }, tsa: { over: other } }), 'TIMESTAMP_ERROR');
    rejects(
      sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { promise: false }, tsa: { tsa: sigstore.untrusted.tsa } }),
      'TIMESTAMP_ERROR',
    );
  });
});

describe('sigstore-js behaviour worth knowing (documented, not endorsed)', () => {
  it('uses inclusionProof.logIndex for the Merkle path and the entry logIndex for the SET, never comparing them', () => {
    const sharded = createLocalSigstore({ shardOffset: 5_000_000 });
    const bundle = sharded.keylessMessageBundle(ARTIFACT, { time: T });
    const entry = entryOf(bundle);
    assert.equal(Number(entry.logIndex) - Number(entry.inclusionProof!.logIndex), 5_000_000);
    verifyBundle(bundle, ALL, sharded.trustedRoot());
  });

  it('ignores inclusionProof.rootHash and treeSize: only the checkpoint note is checked', () => {
    const bundle = sigstore.keylessMessageBundle(ARTIFACT, { time: T });
    const proof = entryOf(bundle).inclusionProof!;
    proof.rootHash = Buffer.alloc(32).toString('base64');
    proof.treeSize = '1';
    verifyBundle(bundle);
  });

  it('does not compare the tlog body signer (certificate / key) with the bundle certificate', () => {
    const bundle = sigstore.keylessMessageBundle(ARTIFACT, { time: T, tlog: { loggedSigner: sigstore.byo.leaf.pem } });
    verifyBundle(bundle);
  });

  it('takes only certificates[0] of a v0.2 x509CertificateChain; the chain comes from the trusted root', () => {
    const bundle = sigstore.keylessMessageBundle(ARTIFACT, { time: T, chainInBundle: true });
    bundle.verificationMaterial.x509CertificateChain!.certificates.splice(1, 2, {
      rawBytes: sigstore.untrusted.fulcio.root.cert.der.toString('base64'),
    });
    verifyBundle(bundle);
  });
});

describe('cosign .sig annotations', () => {
  it('keyless: certificate, chain, and a bundle whose SET verifies over the canonical payload', () => {
    const sig = sigstore.cosignKeylessSignature(ARTIFACT, { time: T, tsa: true });
    const a = sig.annotations;
    assert.equal(a[COSIGN_ANNOTATIONS.signature], sig.signature);
    const leaf = new NodeX509(a[COSIGN_ANNOTATIONS.certificate]!);
    assert.ok(verify('sha256', ARTIFACT, leaf.publicKey, Buffer.from(sig.signature, 'base64')));
    assert.equal(a[COSIGN_ANNOTATIONS.chain], sigstore.fulcio.intermediate.cert.pem + sigstore.fulcio.root.cert.pem);
    const rekorBundle = JSON.parse(a[COSIGN_ANNOTATIONS.bundle]!);
    assert.deepEqual(Object.keys(rekorBundle), ['SignedEntryTimestamp', 'Payload']);
    assert.deepEqual(Object.keys(rekorBundle.Payload), ['body', 'integratedTime', 'logIndex', 'logID']);
    assert.equal(rekorBundle.Payload.logID, createHash('sha256').update(spkiDer(sigstore.rekor.key.publicKey)).digest('hex'));
    const payload = Buffer.from(sigstoreJson.canonicalize(rekorBundle.Payload));
    const rekorKey = createPublicKey({
      key: sigstore.trustedRoot().tlogs[0]!.publicKey.rawBytes,
      format: 'der',
      type: 'spki',
      encoding: 'base64',
    });
    assert.ok(verify('sha256', payload, rekorKey, Buffer.from(rekorBundle.SignedEntryTimestamp, 'base64')));
    const body = JSON.parse(Buffer.from(rekorBundle.Payload.body, 'base64').toString());
    assert.equal(Buffer.from(body.spec.signature.publicKey.content, 'base64').toString(), a[COSIGN_ANNOTATIONS.certificate]);
    assert.equal(body.spec.data.hash.value, createHash('sha256').update(ARTIFACT).digest('hex'));
    const ts = JSON.parse(a[COSIGN_ANNOTATIONS.rfc3161Timestamp]!);
    assert.ok(Buffer.from(ts.SignedRFC3161Timestamp, 'base64').length > 100);
  });

  it('key-based: no certificate, the hashedrekord body records the PEM public key', () => {
    const key = ecKeyPair();
    const sig = sigstore.cosignKeySignature(ARTIFACT, key.privateKey, { time: T });
    assert.equal(sig.annotations[COSIGN_ANNOTATIONS.certificate], undefined);
    const rekorBundle = JSON.parse(sig.annotations[COSIGN_ANNOTATIONS.bundle]!);
    const body = JSON.parse(Buffer.from(rekorBundle.Payload.body, 'base64').toString());
    const pemKey = Buffer.from(body.spec.signature.publicKey.content, 'base64').toString();
    assert.match(pemKey, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.ok(verify('sha256', ARTIFACT, createPublicKey(pemKey), Buffer.from(sig.signature, 'base64')));
    const set = Buffer.from(rekorBundle.SignedEntryTimestamp, 'base64');
    assert.ok(verify('sha256', Buffer.from(sigstoreJson.canonicalize(rekorBundle.Payload)), sigstore.rekor.key.publicKey, set));
  });
});
