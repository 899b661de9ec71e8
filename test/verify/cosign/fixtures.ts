// Loads test/fixtures/containers-image into the verifier's input types.
import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Digest } from '../../../src/oci/reference.ts';
import type { CosignSignature, SigstoreRoot, Subject, TrustedKey, TrustedRoot, TrustMaterial } from '../../../src/verify/types.ts';
import { compileSigstoreRoot } from '../../../src/trust/sigstore-root.ts';

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

export const trust = (keys: readonly TrustedKey[], roots: readonly TrustedRoot[] = []): TrustMaterial => ({
  keys,
  roots,
  sigstoreRoots: [],
  tsaRoots: [],
});

/** A sigstore-root trust entry from fixture files, compiled as the trust store compiles it. */
export function sigstoreRoot(
  id: string,
  parts: { readonly ca?: readonly string[]; readonly rekorKey?: string; readonly pem?: readonly string[] },
): SigstoreRoot {
  const spki = (file: string): Buffer => publicKey(file).export({ type: 'spki', format: 'der' });
  const der = (file: string): string => new X509Certificate(read(`keys/${file}`)).raw.toString('base64');
  const trustedRoot =
    parts.pem === undefined
      ? JSON.stringify({
          mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
          tlogs:
            parts.rekorKey === undefined
              ? []
              : [
                  {
                    baseUrl: 'https://rekor.sigstore.dev',
                    hashAlgorithm: 'SHA2_256',
                    publicKey: {
                      rawBytes: spki(parts.rekorKey).toString('base64'),
                      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
                      validFor: { start: '2021-01-12T11:53:27Z' },
                    },
                    logId: { keyId: createHash('sha256').update(spki(parts.rekorKey)).digest('base64') },
                  },
                ],
          certificateAuthorities: (parts.ca ?? []).map((file) => ({
            subject: { organization: 'sigstore.dev', commonName: 'sigstore' },
            uri: 'https://fulcio.sigstore.dev',
            certChain: { certificates: [{ rawBytes: der(file) }] },
            validFor: { start: '2021-10-07T13:56:59Z' },
          })),
          ctlogs: [],
          timestampAuthorities: [],
        })
      : undefined;
  const pem = parts.pem === undefined ? '' : parts.pem.map((file) => read(`keys/${file}`).toString()).join('\n');
  return compileSigstoreRoot({
    id,
    kind: 'sigstore-root',
    pem,
    ...(trustedRoot === undefined ? {} : { trustedRoot }),
    scopes: ['**'],
    purposes: ['sign'],
    origin: 'file',
  });
}

export const withRoots = (material: TrustMaterial, sigstoreRoots: readonly SigstoreRoot[]): TrustMaterial => ({
  ...material,
  sigstoreRoots,
});

/** The public-good root trustgate ships as an example (config/sigstore/public-good.trusted_root.json). */
export const PUBLIC_GOOD_JSON = readFileSync(
  fileURLToPath(new URL('../../../config/sigstore/public-good.trusted_root.json', import.meta.url)),
  'utf8',
);

export function sigstoreRootFromJson(id: string, json: string): SigstoreRoot {
  return compileSigstoreRoot({ id, kind: 'sigstore-root', pem: '', trustedRoot: json, scopes: ['**'], purposes: ['sign'], origin: 'file' });
}

/** public-good with its Rekor key swapped for another key (the log id follows the key). */
export function publicGoodWithRekorKey(id: string, file: string): SigstoreRoot {
  const root = JSON.parse(PUBLIC_GOOD_JSON) as { tlogs: { publicKey: { rawBytes: string }; logId: { keyId: string } }[] };
  const spki = publicKey(file).export({ type: 'spki', format: 'der' });
  root.tlogs[0]!.publicKey.rawBytes = spki.toString('base64');
  root.tlogs[0]!.logId.keyId = createHash('sha256').update(spki).digest('base64');
  return sigstoreRootFromJson(id, JSON.stringify(root));
}
