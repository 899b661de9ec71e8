// The containers/image fixture cases ci-16…ci-26 (test/fixtures/README.md, "Cases") judged through the
// running app: real public-good signatures (cosign key + Rekor SET, Fulcio + Rekor, a private PKI) that
// trustgate did not make, each served by a scripted upstream as an image manifest (the fixture's exact
// bytes) and a cosign `.sig` manifest (the signature layer's blob is the payload, its annotations the
// fixture's). The distribution registry would refuse these manifests: their blobs are not in the fixtures.
// The verifier-level view of the same cases is test/verify/sigstore/fixture-cases.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import type { CosignSignature } from '../../src/verify/types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { binary } from '../support/binary.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { ociError } from '../support/oci-error.ts';
import type { KeyFile } from '../support/runtime-files.ts';
import { PUBLIC_GOOD_JSON, rawSignature, read } from '../verify/cosign/fixtures.ts';

/** The fixtures' own clock (test/verify/sigstore/fixture-cases.test.ts): after the 2023 signatures, before the PKI leaf's 2052. */
const NOW = Date.parse('2026-12-04T00:00:00Z');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const BUNDLE = 'dev.sigstore.cosign/bundle';
const MITR = '{ name: mitr, subject: "mitr@redhat.com", issuer: "https://github.com/login/oauth" }';

const keyRekor = rawSignature('raw/dir-img-cosign-key-rekor-valid/signature-1');
const valid = rawSignature('raw/dir-img-cosign-valid/signature-1');
const fulcio = rawSignature('raw/dir-img-cosign-fulcio-rekor-valid/signature-1');
const pki = rawSignature('raw/dir-img-cosign-pki-valid/signature-1');
const manifestOf = (dir: string): Buffer => read(`raw/${dir}/manifest.json`);

let upstream: FakeUpstream;
/** cosign.pub, cosign2.pub, public-good (.json), linuxera (.crt, kind sigstore-root). */
let full: Harness;
/** cosign.pub only, and a root holding only the public-good Fulcio CA (no logs). */
let fulcioOnly: Harness;
/** cosign2.pub only, and public-good with its Rekor key replaced by cosign.pub. */
let wrongRekor: Harness;

/**
 * The rules named in `names` (each harness gets the rules whose keys and roots it holds: trustgate
 * refuses to start on a rule trusting an id its keys/ lacks, config/README.md "Checks at start").
 */
const policy = (host: string, names: readonly string[]): string => {
  const rule = (name: string, signatures: string): string =>
    names.includes(name) ? `  - name: ${name}\n    images: ["${host}/allowed/${name}"]\n    signatures:\n${signatures}` : '';
  return `version: 1
rules:
${rule('ci-16', '      trust: [cosign2]\n      rekor: { root: public-good }\n')}
${rule('ci-17', '      trust: [cosign2]\n      rekor: { root: public-good }\n')}
${rule('ci-18', '      trust: [cosign]\n')}
${rule('ci-19', '      trust: [cosign2]\n      rekor: { root: wrong-rekor }\n')}
${rule('ci-20', '      trust: [cosign, cosign2]\n      rekor: { root: public-good }\n')}
${rule('ci-21', `      keyless:\n        - { root: public-good, identities: [${MITR}] }\n`)}
${rule('ci-22', '      keyless:\n        - { root: public-good, identities: [{ subject: "this-does-not-match@example.com", issuer: "https://github.com/login/oauth" }] }\n')}
${rule('ci-23', `      keyless:\n        - { root: wrong-rekor, identities: [${MITR}] }\n`)}
${rule('ci-24', `      keyless:\n        - { root: fulcio-only, transparencyLog: off, identities: [${MITR}] }\n`)}
${rule('ci-25', '      required: [linuxera/email]\n      keyless:\n        - { root: linuxera, transparencyLog: off, identities: [{ name: email, subject: qiwan@redhat.com }] }\n')}
${rule('ci-25-host', '      required: [linuxera/host]\n      keyless:\n        - { root: linuxera, transparencyLog: off, identities: [{ name: host, subject: myhost.example.com }] }\n')}
${rule(
  'ci-25-both',
  `      threshold: 2
      keyless:
        - root: linuxera
          transparencyLog: off
          identities:
            - { name: email, subject: qiwan@redhat.com }
            - { name: host, subject: myhost.example.com }
`,
)}
${rule('ci-26', '      keyless:\n        - { root: fulcio-only, transparencyLog: off, identities: [{ subject: qiwan@redhat.com }] }\n')}
`;
};

/** public-good with its Rekor key swapped for another key (the log id follows the key), as trusted_root.json text. */
function publicGoodWithRekorKey(file: string): string {
  const root = JSON.parse(PUBLIC_GOOD_JSON) as { tlogs: { publicKey: { rawBytes: string }; logId: { keyId: string } }[] };
  const spki = Buffer.from(
    read(`keys/${file}`)
      .toString()
      .replace(/-----[A-Z ]+-----|\s/g, ''),
    'base64',
  );
  root.tlogs[0]!.publicKey.rawBytes = spki.toString('base64');
  root.tlogs[0]!.logId.keyId = createHash('sha256').update(spki).digest('base64');
  return JSON.stringify(root);
}

/** A trusted_root.json with the public-good Fulcio root as its only CA: no Rekor, no CT log. */
function fulcioOnlyRoot(): string {
  const der = read('keys/fulcio_v1.crt.pem')
    .toString()
    .replace(/-----[A-Z ]+-----|\s/g, '');
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.dev', commonName: 'sigstore' },
        uri: 'https://fulcio.sigstore.dev',
        certChain: { certificates: [{ rawBytes: der }] },
        validFor: { start: '2021-10-07T13:56:59Z' },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  });
}

/** An app over the upstream with the rules `rules`, `keys` in keys/ and each sigstore trusted_root.json as keys/<id>.json + keys/<id>.yaml. */
async function app(rules: readonly string[], keys: readonly KeyFile[], roots: Record<string, string>): Promise<Harness> {
  const rootFiles = Object.entries(roots).map(([id, json]): KeyFile => ({ id, kind: 'json', pem: json, scopes: ['**'] }));
  return appFor(singleUpstream(upstream.url), { policy: policy(upstream.host, rules), keys: [...keys, ...rootFiles], now: () => NOW });
}

/**
 * Serves `manifest` as `allowed/<name>:v1` (and by digest), with `signature` as the one layer of its
 * cosign `.sig` manifest. Returns the manifest digest.
 */
function serve(name: string, manifest: Buffer, signature: CosignSignature): string {
  const repo = `/v2/allowed/${name}`;
  const digest = digestOf(manifest);
  const mediaType = (JSON.parse(manifest.toString()) as { mediaType?: string }).mediaType ?? DOCKER_MANIFEST;
  upstream.on(`${repo}/manifests/v1`, manifestAnswer(manifest, mediaType));
  upstream.on(`${repo}/manifests/${digest}`, manifestAnswer(manifest, mediaType));
  const blob = (bytes: Buffer): { digest: string; size: number } => {
    const d = digestOf(bytes);
    upstream.on(
      `${repo}/blobs/${d}`,
      (_req, res) => void res.writeHead(200, { 'content-length': bytes.length, 'docker-content-digest': d }).end(bytes),
    );
    return { digest: d, size: bytes.length };
  };
  const config = blob(Buffer.from('{}'));
  const sig = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: signature.mediaType, ...blob(signature.payload), annotations: signature.annotations }],
    }),
  );
  upstream.on(`${repo}/manifests/${digest.replace(':', '-')}.sig`, manifestAnswer(sig, OCI_MANIFEST));
  return digest;
}

const digests: Record<string, string> = {};

async function pulled(harness: Harness, name: string): Promise<void> {
  const res = await request(harness.app).get(`/v2/allowed/${name}/manifests/v1`).buffer(true).parse(binary);
  assert.equal(res.status, 200, res.status === 200 ? '' : (res.body as Buffer).toString());
  assert.equal(res.headers['docker-content-digest'], digests[name]);
  assert.equal(digestOf(res.body as Buffer), digests[name]);
}

/** 403, OCI code DENIED, `reason` as the only reason code in the detail; returns the message. */
async function refused(harness: Harness, name: string, reason: string): Promise<string> {
  const res = await request(harness.app).get(`/v2/allowed/${name}/manifests/v1`);
  assert.equal(res.status, 403, res.text);
  const error = ociError(res);
  assert.equal(error.code, 'DENIED');
  const detail = error.detail as { name: string; digest: string; rule: string; reasons: string[] };
  assert.deepEqual(
    { name: detail.name, digest: detail.digest, rule: detail.rule, reasons: detail.reasons },
    { name: `${upstream.host}/allowed/${name}`, digest: digests[name], rule: name, reasons: [reason] },
  );
  return error.message;
}

before(async () => {
  upstream = await startFakeUpstream();
  const keyRekorManifest = manifestOf('dir-img-cosign-key-rekor-valid');
  for (const name of ['ci-16', 'ci-18', 'ci-19']) digests[name] = serve(name, keyRekorManifest, keyRekor);
  // ci-17: the same manifest re-serialised compactly: another digest, which the signature does not name.
  digests['ci-17'] = serve('ci-17', Buffer.from(JSON.stringify(JSON.parse(keyRekorManifest.toString()))), keyRekor);
  // ci-20: a cosign.pub signature carrying the Rekor SET of key-rekor-valid (a cosign2 signature's entry).
  digests['ci-20'] = serve('ci-20', manifestOf('dir-img-cosign-valid'), {
    ...valid,
    annotations: { ...valid.annotations, [BUNDLE]: keyRekor.annotations[BUNDLE]! },
  });
  for (const name of ['ci-21', 'ci-22', 'ci-23', 'ci-24'])
    digests[name] = serve(name, manifestOf('dir-img-cosign-fulcio-rekor-valid'), fulcio);
  for (const name of ['ci-25', 'ci-25-host', 'ci-25-both', 'ci-26'])
    digests[name] = serve(name, manifestOf('dir-img-cosign-pki-valid'), pki);

  const key = (id: 'cosign' | 'cosign2'): KeyFile => ({ id, pem: read(`keys/${id}.pub`).toString(), scopes: [`${upstream.host}/**`] });
  const linuxera: KeyFile = {
    id: 'linuxera',
    kind: 'crt',
    pem: `${read('keys/pki_root_crts.pem').toString()}${read('keys/pki_intermediate_crts.pem').toString()}`,
    scopes: ['**'],
    extra: 'kind: sigstore-root\n',
  };
  full = await app(
    ['ci-16', 'ci-17', 'ci-18', 'ci-20', 'ci-21', 'ci-22', 'ci-25', 'ci-25-host', 'ci-25-both'],
    [key('cosign'), key('cosign2'), linuxera],
    { 'public-good': PUBLIC_GOOD_JSON },
  );
  fulcioOnly = await app(['ci-18', 'ci-24', 'ci-26'], [key('cosign')], { 'fulcio-only': fulcioOnlyRoot() });
  wrongRekor = await app(['ci-19', 'ci-23'], [key('cosign2')], { 'wrong-rekor': publicGoodWithRekorKey('cosign.pub') });
});

after(async () => {
  await full?.close();
  await fulcioOnly?.close();
  await wrongRekor?.close();
  await upstream?.close();
});

describe('cosign key signatures with a public-good Rekor SET (ci-16…ci-20)', () => {
  it('ci-16 cosign2.pub, SET checked with the public-good Rekor key › 200', async () => {
    await pulled(full, 'ci-16');
  });
  it('ci-17 the manifest re-serialised compactly › digest_mismatch', async () => {
    const message = await refused(full, 'ci-17', 'digest_mismatch');
    assert.match(message, new RegExp(`cosign signature 1: signed for sha256:0489474da8ea… not ${digests['ci-17']!.slice(0, 19)}…`));
  });
  it('ci-18 cosign.pub only (signed with cosign2) › signature_invalid', async () => {
    const message = await refused(fulcioOnly, 'ci-18', 'signature_invalid');
    assert.match(message, /cosign signature 1: signature does not verify with the trusted key\)/);
  });
  it('ci-19 cosign2.pub, Rekor key = cosign.pub › tlog_invalid', async () => {
    const message = await refused(wrongRekor, 'ci-19', 'tlog_invalid');
    assert.match(
      message,
      /signed by "cosign2", but its log entry does not verify: under "wrong-rekor": inclusion promise could not be verified/,
    );
  });
  it('ci-20 the SET of a cosign2 signature on a cosign.pub signature › tlog_invalid', async () => {
    const message = await refused(full, 'ci-20', 'tlog_invalid');
    assert.match(message, /signed by "cosign", but its log entry does not verify: under "public-good": signature mismatch/);
  });
});

describe('certificate signatures (ci-21…ci-26)', () => {
  it('ci-21 Fulcio + chain + SET, mitr@redhat.com from https://github.com/login/oauth › 200', async () => {
    await pulled(full, 'ci-21');
  });
  it('ci-22 another email in the policy › identity_mismatch', async () => {
    const message = await refused(full, 'ci-22', 'identity_mismatch');
    assert.match(
      message,
      /certificate for "mitr@redhat.com" \(issuer https:\/\/github.com\/login\/oauth\) is not an identity rule "ci-22" accepts/,
    );
  });
  it('ci-23 public-good with its Rekor key replaced by cosign.pub › tlog_invalid', async () => {
    const message = await refused(wrongRekor, 'ci-23', 'tlog_invalid');
    assert.match(message, /under "wrong-rekor": inclusion promise could not be verified/);
  });
  it('ci-24 the Fulcio CA alone, no log: the 10-minute certificate is checked now › certificate_untrusted', async () => {
    const message = await refused(fulcioOnly, 'ci-24', 'certificate_untrusted');
    assert.match(
      message,
      /under "fulcio-only": Failed to verify certificate chain: certificate is not valid or expired at the specified date/,
    );
  });
  it('ci-25 private PKI (keys/linuxera.crt, kind sigstore-root): the email SAN, and the DNS SAN, each accepted › 200', async () => {
    await pulled(full, 'ci-25');
    await pulled(full, 'ci-25-host');
  });
  it('ci-25 one signature matching two identities is one signer: threshold 2 › threshold_not_met', async () => {
    const message = await refused(full, 'ci-25-both', 'threshold_not_met');
    assert.match(message, /1 of 2 required signers/);
  });
  it('ci-26 pki-valid against the Fulcio CA › certificate_untrusted', async () => {
    const message = await refused(fulcioOnly, 'ci-26', 'certificate_untrusted');
    assert.match(message, /under "fulcio-only": Failed to verify certificate chain: no valid certificate path found/);
  });
});
