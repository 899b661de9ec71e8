// Images with one big layer for the blob scenarios, pushed to bench/app and
// signed. The layer is written to a temp file a MiB at a time (hashed on the
// way) and streamed to the registry with a monolithic upload (distribution
// spec, "Pushing a blob monolithically": POST, then PUT ?digest= with the
// body), so the harness never holds it in memory; the file is removed after.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { putBlob, putManifest } from '../test/kit/index.ts';
import { signImage } from './signing.ts';
import type { BenchEnv, BenchImage } from './types.ts';

const REPOSITORY = 'bench/app';
const MIB = 1024 * 1024;

export interface BlobImage {
  image: BenchImage;
  /** The big layer. */
  blob: { digest: string; size: number };
}

/** Writes `mib` MiB to `file`: one random MiB, each copy stamped with its index, so no two MiB are alike. */
async function writeBlobFile(file: string, mib: number): Promise<{ digest: string; size: number }> {
  const base = randomBytes(MIB);
  const hash = createHash('sha256');
  const handle = await open(file, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      base.writeUInt32BE(i, 0);
      hash.update(base);
      await handle.write(base);
    }
  } finally {
    await handle.close();
  }
  return { digest: `sha256:${hash.digest('hex')}`, size: mib * MIB };
}

/** Streams a file to the registry as one blob. */
async function pushBlobFile(registryUrl: string, repository: string, file: string, digest: string, size: number): Promise<void> {
  const opened = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await opened.arrayBuffer();
  if (opened.status !== 202) throw new Error(`blob upload open: ${opened.status}`);
  const location = new URL(opened.headers.get('location') ?? '', registryUrl);
  location.searchParams.set('digest', digest);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      location,
      { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    pipeline(createReadStream(file, { highWaterMark: MIB }), req).catch(reject);
  });
  if (status !== 201) throw new Error(`blob upload close: ${status}`);
}

/**
 * Pushes `bench/app:<tag>`: an OCI image manifest whose one layer is a `mib` MiB blob, and signs
 * it with the bench key, so trustgate serves the manifest and then (blob gate) the layer.
 */
export async function pushBlobImage(env: BenchEnv, tag: string, mib: number): Promise<BlobImage> {
  const dir = join(env.workDir, 'blobs');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${tag}.bin`);
  let blob: { digest: string; size: number };
  try {
    blob = await writeBlobFile(file, mib);
    await pushBlobFile(env.registryUrl, REPOSITORY, file, blob.digest, blob.size);
  } finally {
    await rm(file, { force: true });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [blob.digest] } }));
  const pushedConfig = await putBlob(env.registryUrl, REPOSITORY, config);
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: pushedConfig.digest, size: pushedConfig.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: blob.digest, size: blob.size }],
    }),
  );
  const pushed = await putManifest(env.registryUrl, REPOSITORY, tag, manifest, mediaType);
  await signImage(env.signer, env.registryUrl, env.registryHost, REPOSITORY, pushed.digest);
  return { image: { repository: REPOSITORY, tag, digest: pushed.digest, mediaType }, blob };
}

export const blobPathOf = (b: BlobImage): string => `/v2/${b.image.repository}/blobs/${b.blob.digest}`;
