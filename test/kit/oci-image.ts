// Deterministic test images written as OCI image layouts (image-spec
// image-layout.md): oci-layout, index.json and blobs/sha256/<hex>. The same
// seed always yields the same bytes and digests. Layers are real gzip'd tars
// so skopeo keeps them as-is (it would recompress uncompressed layers when
// pushing to a registry, which changes every digest).
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const MT = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface BuildImageOptions {
  seed: string;
  /** Layers per platform manifest (default 1). */
  layers?: number;
  /** Size of the single file inside each layer tar (default 1024). */
  layerBytes?: number;
  /** One entry: a plain image manifest. Several: an image index. Default linux/amd64. */
  platforms?: Platform[];
  /** Tag recorded as org.opencontainers.image.ref.name in index.json (default latest). */
  tag?: string;
}

export interface BuiltChild {
  platform: Platform;
  digest: string;
  size: number;
  configDigest: string;
  layers: string[];
}

export interface BuiltImage {
  layoutDir: string;
  /** Top-level digest: the image index for multi-platform, else the manifest. */
  manifestDigest: string;
  mediaType: string;
  manifestBytes: Buffer;
  children: BuiltChild[];
  /** Every layer digest of every child, in order. */
  layerDigests: string[];
}

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const blobPath = (layoutDir: string, digest: string): string => join(layoutDir, 'blobs', ...digest.split(':'));

/** Deterministic pseudo-random bytes: AES-256-CTR keystream keyed by the label. */
export function seededBytes(label: string, n: number): Buffer {
  const key = createHash('sha256').update(label).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** A one-file POSIX ustar archive (mode 0644, mtime 0, root owner). */
export function tarOneFile(name: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512);
  const put = (text: string, at: number, len: number): void => {
    h.write(text.slice(0, len), at, 'utf8');
  };
  const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(data.length, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put('root', 265, 32);
  put('root', 297, 32);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}

export async function buildImage(dir: string, options: BuildImageOptions): Promise<BuiltImage> {
  const { seed } = options;
  const layerCount = options.layers ?? 1;
  const layerBytes = options.layerBytes ?? 1024;
  const platforms = options.platforms ?? [{ os: 'linux', architecture: 'amd64' }];
  if (platforms.length === 0) throw new Error('buildImage: platforms must not be empty');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const putBlob = async (mediaType: string, bytes: Buffer): Promise<Descriptor> => {
    const digest = sha256(bytes);
    await writeFile(blobPath(dir, digest), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

  const children: Array<BuiltChild & { descriptor: Descriptor; bytes: Buffer }> = [];
  for (const platform of platforms) {
    const tagP = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < layerCount; i++) {
      const tar = tarOneFile(`layer-${i}.bin`, seededBytes(`${seed}|${tagP}|layer|${i}`, layerBytes));
      diffIds.push(sha256(tar));
      layers.push(await putBlob(MT.layerGzip, gzipSync(tar, { level: 6 })));
    }
    const config = await putBlob(
      MT.config,
      json({
        created: '2024-01-01T00:00:00Z',
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Env: ['PATH=/usr/bin:/bin'], Labels: { 'org.trustgate.test.seed': seed } },
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    );
    const bytes = json({ schemaVersion: 2, mediaType: MT.manifest, config, layers });
    const descriptor = { ...(await putBlob(MT.manifest, bytes)), platform };
    children.push({
      platform,
      digest: descriptor.digest,
      size: bytes.length,
      configDigest: config.digest,
      layers: layers.map((l) => l.digest),
      descriptor,
      bytes,
    });
  }

  let top: Descriptor;
  let manifestBytes: Buffer;
  if (children.length === 1) {
    const only = children[0]!;
    top = { mediaType: MT.manifest, digest: only.digest, size: only.size };
    manifestBytes = only.bytes;
  } else {
    manifestBytes = json({ schemaVersion: 2, mediaType: MT.index, manifests: children.map((c) => c.descriptor) });
    top = await putBlob(MT.index, manifestBytes);
  }
  const annotations = { 'org.opencontainers.image.ref.name': options.tag ?? 'latest' };
  await writeFile(join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), json({ schemaVersion: 2, mediaType: MT.index, manifests: [{ ...top, annotations }] }));
  return {
    layoutDir: dir,
    manifestDigest: top.digest,
    mediaType: top.mediaType,
    manifestBytes,
    children: children.map(({ descriptor: _d, bytes: _b, ...c }) => c),
    layerDigests: children.flatMap((c) => c.layers),
  };
}
