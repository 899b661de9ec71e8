// Notation RFC 3161 timestamps end to end: notation signatures (with or without a countersignature)
// in a real distribution registry, a `tsa` root in the proxy's keys/ (<id>.crt + `kind: tsa`), pulled
// through trustgate with skopeo.
//
// The mock TSA (@sigstore/mock) dates its certificates from the moment it is made, so the story is told
// ahead of the wall clock (as test/verify/notation/timestamp.test.ts does): the proxy runs with an
// injected clock two days ahead; the signing certificate was valid for one hour "yesterday", during which
// the signature was made and timestamped. Today that certificate has expired.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  blobPath,
  buildImage,
  inspect,
  makeNotationPki,
  pushNotationSignature,
  putBlob,
  putManifest,
  rfc3339,
  signNotation,
  startRegistry,
  type BuiltImage,
  type NotationPki,
  type RunningRegistry,
} from '../kit/index.ts';
import { makeNotationTsa, notationSignatureBytes, timestampNotation } from '../kit/notation-sign.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The proxy's clock runs this far ahead of the wall clock. */
const AHEAD = 2 * DAY;
const TODAY = Math.ceil(Date.now() / 1000) * 1000 + AHEAD;
const CERT_FROM = TODAY - DAY;
const CERT_TO = CERT_FROM + HOUR;
const SIGNED_AT = CERT_FROM + 30 * MINUTE;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const work = mkdtempSync(join(tmpdir(), 'tg-notation-tsa-e2e-'));
let registry: RunningRegistry;
let proxy: RunningProxy;
let image: BuiltImage;
let pki: NotationPki;

/** The one test image, pushed to `repo:v1` through the distribution API (same digest everywhere). */
async function pushImage(repo: string): Promise<void> {
  const manifest = JSON.parse(image.manifestBytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    await putBlob(registry.url, repo, readFileSync(blobPath(image.layoutDir, digest)));
  }
  await putManifest(registry.url, repo, 'v1', image.manifestBytes, image.mediaType);
}

const subject = () => ({ digest: image.manifestDigest, size: image.manifestBytes.length, mediaType: image.mediaType });

/** A notary.x509 signature made at `signedAt` by the leaf valid [CERT_FROM, CERT_TO]. */
const sign = (signedAt = SIGNED_AT): Buffer =>
  signNotation({ leafKeyPem: pki.leaf.keyPem, chainPem: pki.chainPem, alg: 'ES256', subject: subject(), signingTime: new Date(signedAt) });

async function pushSigned(repo: string, envelope: Buffer): Promise<void> {
  await pushImage(repo);
  await pushNotationSignature(registry.url, repo, subject(), envelope);
}

async function pull(repo: string): Promise<{ code: number; stderr: string; digest: string }> {
  const res = await inspect(`docker://${proxy.host}/${repo}:v1`, { raw: true });
  const digest = res.code === 0 ? `sha256:${createHash('sha256').update(res.stdoutBytes).digest('hex')}` : '';
  return { code: res.code, stderr: res.stderr, digest };
}

async function allowed(repo: string): Promise<void> {
  const res = await pull(repo);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.digest, image.manifestDigest);
  const http = await fetch(`${proxy.url}/v2/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
  assert.equal(http.status, 200);
  await http.arrayBuffer();
}

/** A refusal as skopeo sees it (exit code, the message it prints) and as the OCI error says it (the reason codes). */
async function denied(repo: string): Promise<{ stderr: string; reasons: string[]; message: string }> {
  const res = await pull(repo);
  assert.notEqual(res.code, 0, `${repo} was served`);
  assert.match(res.stderr, new RegExp(`denied: trustgate denied ${registry.host}/${repo} \\(rule \\\\?"notary\\\\?"\\): `));
  const http = await fetch(`${proxy.url}/v2/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
  assert.equal(http.status, 403);
  const body = (await http.json()) as { errors: { code: string; message: string; detail: { reasons: string[] } }[] };
  assert.equal(body.errors[0]!.code, 'DENIED');
  return { stderr: res.stderr, reasons: body.errors[0]!.detail.reasons, message: body.errors[0]!.message };
}

before(async () => {
  registry = await startRegistry();
  image = await buildImage(join(work, 'image'), { seed: 'notation-tsa-e2e' });
  pki = await makeNotationPki(
    {
      root: { subject: '/C=US/ST=WA/O=Acme/CN=Acme Root' },
      leaf: { subject: '/C=US/ST=WA/O=Acme/CN=builder', notBefore: new Date(CERT_FROM), notAfter: new Date(CERT_TO) },
    },
    join(work, 'pki'),
  );
  const [tsa, leakedTsa] = await Promise.all([makeNotationTsa(new Date(SIGNED_AT)), makeNotationTsa(new Date(SIGNED_AT))]);
  const unstamped = sign();
  const other = sign(SIGNED_AT + MINUTE);
  await Promise.all([
    pushSigned('notary/stamped', await timestampNotation(unstamped, tsa)),
    pushSigned('notary/unstamped', unstamped),
    pushSigned('notary/other-stamp', await timestampNotation(unstamped, tsa, { over: notationSignatureBytes(other) })),
    pushSigned('notary/leaked-tsa', await timestampNotation(unstamped, leakedTsa)),
  ]);
  const host = registry.host;
  proxy = await startProxy(
    `listen: { plainHttp: true }
upstreams:
  - name: local
    url: ${registry.url}
    default: true
    repositories: ["${host}/**"]
`,
    {
      now: () => Date.now() + AHEAD,
      policy: `version: 1
rules:
  - { name: notary, images: ["${host}/notary/**"], signatures: { notation: { trustedIdentities: ["x509.subject: C=US, ST=WA, O=Acme"] } } }
`,
      keys: [
        { id: 'acme-root', pem: pki.root.certPem, kind: 'crt', scopes: [`${host}/notary/**`] },
        { id: 'tsa', pem: tsa.rootPem, kind: 'crt', scopes: [`${host}/notary/**`], extra: 'kind: tsa\n' },
        { id: 'tsa-leaked', pem: leakedTsa.rootPem, kind: 'crt', scopes: [`${host}/notary/**`], extra: 'kind: tsa\n' },
      ],
    },
  );
  assert.deepEqual(
    proxy.runtime.trust
      .snapshot()
      .entries.map((e) => `${e.id}:${e.kind}`)
      .sort(),
    ['acme-root:notation-root', 'tsa-leaked:tsa', 'tsa:tsa'],
  );
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('notation timestamps through skopeo (the proxy clock a day after the signing certificate expired)', () => {
  it('a timestamped signature whose certificate has since expired › pulled: the chain is checked at the timestamp', async () => {
    await allowed('notary/stamped');
  });

  it('the same signature without its timestamp › denied signature_expired: the certificate is checked now', async () => {
    const res = await denied('notary/unstamped');
    assert.deepEqual(res.reasons, ['signature_expired']);
    assert.match(
      res.stderr,
      new RegExp(
        `no valid signature from a trusted key \\(1 checked: .+: certificate x5c\\[0\\] \\(.*CN=builder\\) expired on ${rfc3339(new Date(CERT_TO))}\\)`,
      ),
    );
  });

  it('a timestamp that belongs to another signature › denied timestamp_invalid', async () => {
    const res = await denied('notary/other-stamp');
    assert.deepEqual(res.reasons, ['timestamp_invalid']);
    assert.match(res.stderr, /timestamp: the message imprint is not the SHA256 hash of this signature: the token timestamps other data/);
  });

  it('the TSA root revoked at run time › the signature pulled before is denied timestamp_invalid', async () => {
    await allowed('notary/leaked-tsa');
    await proxy.runtime.trust.revoke('tsa-leaked', 'TSA key compromised', Date.now() + AHEAD);
    const res = await denied('notary/leaked-tsa');
    assert.deepEqual(res.reasons, ['timestamp_invalid']);
    assert.match(res.stderr, /timestamp authority: signed by \\?"tsa-leaked\\?", revoked at \d{4}-/);
    await allowed('notary/stamped'); // the other TSA still vouches for its own timestamps
  });
});
