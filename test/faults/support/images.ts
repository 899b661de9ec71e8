// The pull the fault matrix protects: the real registry holding a cosign-signed image and an
// unsigned one, a key made at test time, and a policy that requires its signature. Under every
// fault the unsigned image must never be served; the signed one is the healthy control.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { blobPath, buildImage, cosignSignImage, putBlob, putManifest, type BuiltImage } from '../../kit/index.ts';
import type { KeyFile } from '../../support/runtime-files.ts';

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicPem: string;
}

export function signingKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Builds an image (deterministic from `seed`) and pushes it to `repository:tag` over the distribution API. */
export async function pushImage(
  registryUrl: string,
  work: string,
  repository: string,
  tag: string,
  seed: string,
  layerBytes = 1024,
): Promise<BuiltImage> {
  const image = await buildImage(join(work, seed), { seed, layerBytes });
  const manifest = JSON.parse(image.manifestBytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    await putBlob(registryUrl, repository, await readFile(blobPath(image.layoutDir, digest)));
  }
  await putManifest(registryUrl, repository, tag, image.manifestBytes, image.mediaType);
  return image;
}

/** Signs as `cosign sign --key` does, the docker-reference being the registry's own name for the repository. */
export async function sign(registryUrl: string, repository: string, image: BuiltImage, key: SigningKey): Promise<void> {
  await cosignSignImage(registryUrl, repository, image.manifestDigest, `${new URL(registryUrl).host}/${repository}`, key.privateKey);
}

/** Every repository under `host` needs one valid signature from a trusted key (enforce mode). */
export function enforcingPolicy(host: string): string {
  return `version: 1\nrules:\n  - { name: signed, images: ["${host}/**"] }\n`;
}

export function trustedKey(id: string, key: SigningKey, host: string): KeyFile {
  return { id, pem: key.publicPem, scopes: [`${host}/**`] };
}
