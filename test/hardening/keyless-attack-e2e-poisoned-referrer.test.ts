// ATTACK, end to end: an image carries a valid keyless `.sig` signature by the right identity.
// Anyone who may push to the repository adds one OCI referrer (nothing replaced): a sigstore
// bundle whose certificate is a DER SEQUENCE { SEQUENCE { INTEGER 1 } }. verifyCertificateBundle
// throws (leaf.publicKey of a certificate without subjectPublicKeyInfo), Promise.all in
// src/gate/judge-pull.ts:122 rejects, and the pull of the validly signed image fails with a 500
// (no decision, no break glass) on every attempt.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { blobPath, buildImage, makeSimpleSigningPayload, pushCosignSignature, putBlob, putManifest, startRegistry } from '../kit/index.ts';
import type { BuiltImage, RunningRegistry } from '../kit/index.ts';
import { createLocalSigstore, type BundleJson } from '../kit/sigstore-services.ts';
import { pushBundleReferrer } from '../kit/sigstore-push.ts';
import { int, seq } from '../kit/sigstore-der.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const work = mkdtempSync(join(tmpdir(), 'tg-attack-'));
const sigstore = createLocalSigstore();
let registry: RunningRegistry;
let proxy: RunningProxy;
let image: BuiltImage;

async function pushImage(repo: string): Promise<void> {
  const manifest = JSON.parse(image.manifestBytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    await putBlob(registry.url, repo, readFileSync(blobPath(image.layoutDir, digest)));
  }
  await putManifest(registry.url, repo, 'v1', image.manifestBytes, image.mediaType);
}
async function signed(repo: string): Promise<void> {
  await pushImage(repo);
  const payload = makeSimpleSigningPayload(image.manifestDigest, `${registry.host}/${repo}`);
  await pushCosignSignature(registry.url, repo, { digest: image.manifestDigest }, [
    sigstore.cosignKeylessSignature(payload, { leaf: { uri: WORKFLOW, issuer: GITHUB } }),
  ]);
}

before(async () => {
  registry = await startRegistry();
  image = await buildImage(join(work, 'image'), { seed: 'attack-poison' });
  await signed('keyless/clean');
  await signed('keyless/poisoned');
  const poison = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { certificate: { rawBytes: seq(seq(int(1))).toString('base64') }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(image.manifestDigest.slice(7), 'hex').toString('base64') },
      signature: Buffer.from('x').toString('base64'),
    },
  } as unknown as BundleJson;
  await pushBundleReferrer(
    registry.url,
    'keyless/poisoned',
    { mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifestBytes.length },
    poison,
  );
  proxy = await startProxy(
    `listen: { plainHttp: true }
upstreams:
  - name: local
    url: ${registry.url}
    default: true
    repositories: ["${registry.host}/**"]
`,
    {
      policy: `version: 1
rules:
  - name: keyless
    images: ["${registry.host}/keyless/**"]
    signatures:
      keyless:
        - root: local
          identities: [{ name: release, issuer: "${GITHUB}", subject: "${WORKFLOW}" }]
`,
      // keys/local.json (the local sigstore's trusted_root.json) with keys/local.yaml, there at start.
      keys: [{ id: 'local', kind: 'json', pem: JSON.stringify(sigstore.trustedRoot()), scopes: ['**'] }],
    },
  );
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

const get = (repo: string) => fetch(`${proxy.url}/v2/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });

test('control: the validly signed image is served', async () => {
  assert.equal((await get('keyless/clean')).status, 200);
});
test('the same validly signed image plus one malformed bundle referrer › still served (the referrer is a format finding)', async () => {
  const res = await get('keyless/poisoned');
  assert.equal(res.status, 200, `status ${res.status}: ${(await res.text()).slice(0, 300)}`);
});
