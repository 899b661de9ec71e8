// A small registry graph for the integrity examples: images, indexes and cosign signatures, made
// with real keys and served by an in-process upstream (test/support/fake-upstream.ts).
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { signPayload, makeSimpleSigningPayload } from '../kit/index.ts';
import { digestOf, manifestAnswer, type FakeUpstream } from '../support/fake-upstream.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIG_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';

export interface Blob {
  readonly bytes: Buffer;
  readonly digest: string;
  readonly mediaType: string;
}
export interface Pushed {
  readonly bytes: Buffer;
  readonly digest: string;
}
export interface Image extends Pushed {
  readonly config: Blob;
  readonly layer: Blob;
}

const descriptor = (b: Blob): Record<string, unknown> => ({ mediaType: b.mediaType, digest: b.digest, size: b.bytes.length });
const blob = (bytes: Buffer, mediaType: string): Blob => ({ bytes, digest: digestOf(bytes), mediaType });

/** Pushes into the fake upstream under `repo` (e.g. `allowed/app`). */
export class Graph {
  readonly key: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  constructor(readonly upstream: FakeUpstream) {}

  publicPem(): string {
    return createPublicKey(this.key).export({ type: 'spki', format: 'pem' }).toString();
  }

  putBlob(repo: string, b: Blob): void {
    this.upstream.on(`/v2/${repo}/blobs/${b.digest}`, (req, res) => {
      res.writeHead(200, {
        'content-length': b.bytes.length,
        'docker-content-digest': b.digest,
        'content-type': 'application/octet-stream',
      });
      res.end(req.method === 'HEAD' ? undefined : b.bytes);
    });
  }

  putManifest(repo: string, doc: Record<string, unknown>, mediaType: string, tags: readonly string[] = []): Pushed {
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, ...doc }));
    const digest = digestOf(bytes);
    for (const ref of [digest, ...tags]) this.upstream.on(`/v2/${repo}/manifests/${ref}`, manifestAnswer(bytes, mediaType));
    return { bytes, digest };
  }

  /** A runnable image: a config with an entrypoint and one gzip layer. */
  image(repo: string, seed: string, tags: readonly string[] = []): Image {
    const layer = blob(gzipSync(Buffer.from(`layer ${seed}`)), TAR_GZIP);
    const diffId = `sha256:${createHash('sha256').update(`layer ${seed}`).digest('hex')}`;
    const config = blob(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Entrypoint: ['/bin/sh'], Env: ['PATH=/bin'] },
          rootfs: { type: 'layers', diff_ids: [diffId] },
        }),
      ),
      OCI_CONFIG,
    );
    this.putBlob(repo, layer);
    this.putBlob(repo, config);
    return { ...this.putManifest(repo, { config: descriptor(config), layers: [descriptor(layer)] }, OCI_MANIFEST, tags), config, layer };
  }

  index(
    repo: string,
    children: ReadonlyArray<Pushed & { extra?: Record<string, unknown> }>,
    tags: readonly string[] = [],
    extra: Record<string, unknown> = {},
  ): Pushed {
    const manifests = children.map((c) => ({
      mediaType: OCI_MANIFEST,
      digest: c.digest,
      size: c.bytes.length,
      platform: { os: 'linux', architecture: 'amd64' },
      ...c.extra,
    }));
    return this.putManifest(repo, { ...extra, manifests }, OCI_INDEX, tags);
  }

  /** A cosign signature as cosign writes it: the `.sig` tag, a simple-signing layer, a config naming it. */
  sign(repo: string, subject: Pushed, reference: string, key: KeyObject = this.key): { manifest: Pushed; payload: Blob; config: Blob } {
    const payload = blob(makeSimpleSigningPayload(subject.digest, reference), SIMPLE_SIGNING);
    const config = blob(
      Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [payload.digest] }, config: {} })),
      OCI_CONFIG,
    );
    this.putBlob(repo, payload);
    this.putBlob(repo, config);
    const layer = { ...descriptor(payload), annotations: { 'dev.cosignproject.cosign/signature': signPayload(key, payload.bytes) } };
    const manifest = this.putManifest(repo, { config: descriptor(config), layers: [layer] }, OCI_MANIFEST, [
      `${subject.digest.replace(':', '-')}.sig`,
    ]);
    return { manifest, payload, config };
  }

  /** The attack of issue #11 item 2: a "signature" whose layer is another image's runnable layer. */
  fakeSignature(repo: string, victim: Image, config: Blob, tags: readonly string[]): Pushed {
    this.putBlob(repo, config);
    return this.putManifest(
      repo,
      { config: descriptor(config), layers: [{ ...descriptor(victim.layer), mediaType: SIMPLE_SIGNING }] },
      OCI_MANIFEST,
      tags,
    );
  }

  configBlob(doc: unknown): Blob {
    return blob(Buffer.from(JSON.stringify(doc)), OCI_CONFIG);
  }
}
