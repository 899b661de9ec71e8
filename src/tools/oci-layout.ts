// A tiny single-layer image written as an OCI image layout (image-spec image-layout.md:
// oci-layout, index.json, blobs/sha256/<hex>), for `trustgate demo` to push with skopeo. The
// layer is a gzip'd tar with one text file, so skopeo pushes it as it is.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sha256Digest } from '../oci/digest.ts';
import { MediaType } from '../oci/media-types.ts';

export interface LayoutImage {
  readonly dir: string;
  /** The tag recorded in index.json (`oci:<dir>:<tag>`). */
  readonly tag: string;
  readonly manifestDigest: string;
}

/** A one-file POSIX ustar archive (mode 0644, mtime 0, owner root). */
export function tarOneFile(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (text: string, at: number): void => void header.write(text, at, 'ascii');
  const octal = (n: number, width: number): string => `${n.toString(8).padStart(width - 1, '0')}\0`;
  put(name, 0);
  put(octal(0o644, 8), 100);
  put(octal(0, 8), 108);
  put(octal(0, 8), 116);
  put(octal(data.length, 12), 124);
  put(octal(0, 12), 136);
  put('        ', 148); // checksum field counts as spaces while summing
  put('0', 156);
  put('ustar\0', 257);
  put('00', 263);
  put('root', 265);
  put('root', 297);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}

export function writeLayoutImage(dir: string, file: { name: string; text: string }, tag = 'latest'): LayoutImage {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = (mediaType: string, bytes: Buffer): { mediaType: string; digest: string; size: number } => {
    const digest = sha256Digest(bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const tar = tarOneFile(file.name, Buffer.from(file.text));
  const layer = blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(tar));
  const config = blob(
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(
      JSON.stringify({
        created: '2026-01-01T00:00:00Z',
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/cat', `/${file.name}`] },
        rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
      }),
    ),
  );
  const manifest = blob(
    MediaType.ociManifest,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] })),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return { dir, tag, manifestDigest: manifest.digest };
}
