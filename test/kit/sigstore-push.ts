// Pushes a sigstore bundle as cosign v3 does on a registry without the referrers API: an OCI 1.1
// artifact manifest whose one layer is the bundle and whose subject is the image, listed in the
// referrers fallback index `sha256-<hex>` (OCI distribution-spec "Referrers tag schema").
import { createHash } from 'node:crypto';
import { getManifest, putBlob, putManifest } from './registry-api.ts';
import { referrersTag } from './notation-sign.ts';
import { SIGSTORE_MT, type BundleJson } from './sigstore-services.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1';

export interface BundleSubject {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** The bundle as a referrer of `subject` in `repo`, added to (not replacing) the fallback index. */
export async function pushBundleReferrer(registryUrl: string, repo: string, subject: BundleSubject, bundle: BundleJson): Promise<void> {
  const layer = await putBlob(registryUrl, repo, Buffer.from(JSON.stringify(bundle)));
  const empty = await putBlob(registryUrl, repo, Buffer.from('{}'));
  const annotations = {
    'dev.sigstore.bundle.content': bundle.dsseEnvelope ? 'dsse-envelope' : 'message-signature',
    ...(bundle.dsseEnvelope ? { 'dev.sigstore.bundle.predicateType': COSIGN_SIGN } : {}),
  };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: SIGSTORE_MT.bundleV03,
      config: { mediaType: OCI_EMPTY, digest: empty.digest, size: empty.size },
      layers: [{ mediaType: SIGSTORE_MT.bundleV03, digest: layer.digest, size: layer.size }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  const digest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`;
  const referrer = await putManifest(registryUrl, repo, digest, manifestBytes, OCI_MANIFEST);
  const tag = referrersTag(subject.digest);
  const existing = await getManifest(registryUrl, repo, tag, OCI_INDEX);
  const listed = existing === undefined ? [] : (JSON.parse(existing.toString()) as { manifests: unknown[] }).manifests;
  const descriptor = {
    mediaType: OCI_MANIFEST,
    digest: referrer.digest,
    size: referrer.size,
    artifactType: SIGSTORE_MT.bundleV03,
    annotations,
  };
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...listed, descriptor] }));
  await putManifest(registryUrl, repo, tag, index, OCI_INDEX);
}
