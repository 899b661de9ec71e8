// Loads test/fixtures/containers-image into the verifier's input types.
import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Digest } from '../../../src/oci/reference.ts';
import type { CosignSignature, Subject, TrustedKey, TrustedRoot, TrustMaterial } from '../../../src/verify/types.ts';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/containers-image/', import.meta.url));
export const read = (path: string): Buffer => readFileSync(`${FIXTURES}${path}`);

const MAGIC = Buffer.from('\x00sigstore-json\n', 'latin1');

/** containers/image's on-disk sigstore signature: magic, then {mimeType, payload, annotations}. */
export function rawSignature(path: string): CosignSignature {
  const bytes = read(path);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${path}: not a sigstore-json signature`);
  const json = JSON.parse(bytes.subarray(MAGIC.length).toString('utf8')) as {
    mimeType: string;
    payload: string;
    annotations: Record<string, string>;
  };
  return {
    scheme: 'cosign',
    source: path,
    mediaType: json.mimeType,
    payload: Buffer.from(json.payload, 'base64'),
    annotations: json.annotations,
  };
}

export const digestOf = (bytes: Buffer): Digest => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The subject for exact manifest bytes: its digest is the raw sha256, never a re-serialisation. */
export function subjectOf(bytes: Buffer): Subject {
  let mediaType = 'application/vnd.docker.distribution.manifest.v2+json';
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
    if (typeof parsed.mediaType === 'string') mediaType = parsed.mediaType;
  } catch {
    /* not JSON: keep the default */
  }
  return { digest: digestOf(bytes), size: bytes.length, mediaType, bytes };
}

export const manifest = (imageDir: string): Subject => subjectOf(read(`raw/${imageDir}/manifest.json`));

export const publicKey = (file: string): KeyObject => createPublicKey(read(`keys/${file}`));
export const trustedKey = (id: 'cosign' | 'cosign2' | 'rekor', publicKeyObject = publicKey(`${id}.pub`)): TrustedKey => ({
  id,
  publicKey: publicKeyObject,
});

export function trustedRoot(id: string, file: string): TrustedRoot {
  return { id, certificate: new X509Certificate(read(`keys/${file}`)) };
}

export const trust = (keys: readonly TrustedKey[], roots: readonly TrustedRoot[] = []): TrustMaterial => ({ keys, roots });
