// An independent cosign signer for tests: node:crypto (and @noble/curves for Ed25519ph) only,
// never src/verify, so a verifier bug cannot hide behind a signer that shares its code.
// Formats: cosign specs/SIGNATURE_SPEC.md, pkg/oci/static/signature.go; sigstore bundle v0.3.
import { constants, createHash, createPublicKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { putBlob, putManifest } from './registry-api.ts';
import type { Pushed } from './registry-api.ts';

export const COSIGN_MT = {
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  bundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  inToto: 'application/vnd.in-toto+json',
} as const;
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

/** Go's json.Marshal of sigstore `payload.SimpleContainerImage`: struct field order, compact. */
export function makeSimpleSigningPayload(digest: string, reference: string, optional: Record<string, unknown> | null = null): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': reference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional,
    }),
  );
}

export interface SignOptions {
  /** ECDSA digest (cosign ≤ 2.5 always sha256; ≥ 2.6 sha384/sha512 for P-384/P-521). Default sha256. */
  hash?: 'sha256' | 'sha384' | 'sha512';
  /** RSA padding; `pss` uses the maximum salt length, as Go's rsa.PSSSaltLengthAuto does when signing. */
  rsaPadding?: 'pkcs1' | 'pss';
  /** Ed25519 keys: sign Ed25519ph (RFC 8032, SHA-512 prehash), as cosign ≥ 2.6 does by default. */
  ed25519ph?: boolean;
}

/** A detached signature over `payload`, standard padded base64 (the annotation's value). */
export function signPayload(privateKey: KeyObject, payload: Buffer, options: SignOptions = {}): string {
  const hash = options.hash ?? 'sha256';
  switch (privateKey.asymmetricKeyType) {
    case 'ed25519': {
      if (!options.ed25519ph) return sign(null, payload, privateKey).toString('base64');
      const seed = Buffer.from(String(privateKey.export({ format: 'jwk' }).d), 'base64url');
      return Buffer.from(ed25519ph.sign(payload, seed)).toString('base64');
    }
    case 'rsa':
      return sign(
        hash,
        payload,
        options.rsaPadding === 'pss'
          ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN }
          : { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
      ).toString('base64');
    default:
      return sign(hash, payload, privateKey).toString('base64'); // ECDSA: DER
  }
}

export interface SignatureLayer {
  payload: Buffer;
  signature: string;
  annotations?: Record<string, string>;
}

export interface PushedSignature {
  /** `sha256-<hex>.sig` */
  tag: string;
  manifest: Pushed;
  manifestBytes: Buffer;
}

/** cosign's tag for a digest's signatures: first ':' → '-', plus `.sig` (docs/wire-formats.md "The .sig tag"). */
export const cosignSignatureTag = (digest: string): string => `${digest.replace(':', '-')}.sig`;

/** Writes the `.sig` manifest cosign writes: OCI manifest, OCI config, one simple-signing layer per signature. */
export async function pushCosignSignature(
  registryUrl: string,
  repository: string,
  subject: { digest: string },
  layers: readonly SignatureLayer[],
): Promise<PushedSignature> {
  const descriptors = [];
  for (const layer of layers) {
    const blob = await putBlob(registryUrl, repository, layer.payload);
    descriptors.push({
      mediaType: COSIGN_MT.simpleSigning,
      size: blob.size,
      digest: blob.digest,
      annotations: { ...layer.annotations, [COSIGN_SIGNATURE_ANNOTATION]: layer.signature },
    });
  }
  // go-containerregistry's config for cosign's empty image with the payloads as layers.
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: descriptors.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: descriptors.map((d) => d.digest) },
      config: {},
    }),
  );
  const configBlob = await putBlob(registryUrl, repository, config);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: COSIGN_MT.ociManifest,
      config: { mediaType: COSIGN_MT.ociConfig, size: configBlob.size, digest: configBlob.digest },
      layers: descriptors,
    }),
  );
  const tag = cosignSignatureTag(subject.digest);
  const manifest = await putManifest(registryUrl, repository, tag, manifestBytes, COSIGN_MT.ociManifest);
  return { tag, manifest, manifestBytes };
}

/** DSSE PAE (secure-systems-lab/dsse protocol.md), written again here on purpose. */
export function dssePae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType);
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** cosign's key hint: base64(sha256(SPKI DER)) (internal/key/svkeypair.go). */
export function publicKeyHint(key: KeyObject): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

export interface BundleOptions extends SignOptions {
  privateKey: KeyObject;
  /** The image digest the statement's subject names, `sha256:<hex>`. */
  digest: string;
  mediaType?: string;
  /** Replaces the whole in-toto statement. */
  statement?: unknown;
  payloadType?: string;
  /** Adds a keyless-style `certificate` (DER bytes) to the verification material. */
  certificate?: Buffer;
}

/** A cosign v3 image-signature bundle: DSSE over an in-toto v1 statement (docs/wire-formats.md "Sigstore bundles"), no tlog entries. */
export function makeSigstoreBundle(options: BundleOptions): Record<string, unknown> {
  const hex = options.digest.slice(options.digest.indexOf(':') + 1);
  const statement = options.statement ?? {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: hex } }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  };
  const payloadType = options.payloadType ?? COSIGN_MT.inToto;
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = signPayload(options.privateKey, dssePae(payloadType, payload), options);
  return {
    mediaType: options.mediaType ?? COSIGN_MT.bundleV03,
    verificationMaterial: verificationMaterial(options),
    dsseEnvelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig, keyid: '' }] },
  };
}

/** A bundle whose messageSignature signs the manifest bytes themselves (`cosign sign-blob` style). */
export function makeMessageSignatureBundle(
  options: Omit<BundleOptions, 'digest' | 'statement' | 'payloadType'> & { manifest: Buffer },
): Record<string, unknown> {
  return {
    mediaType: options.mediaType ?? COSIGN_MT.bundleV03,
    verificationMaterial: verificationMaterial(options),
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(options.manifest).digest('base64') },
      signature: signPayload(options.privateKey, options.manifest, options),
    },
  };
}

function verificationMaterial(options: { privateKey: KeyObject; certificate?: Buffer }): Record<string, unknown> {
  const key = options.certificate
    ? { certificate: { rawBytes: options.certificate.toString('base64') } }
    : { publicKey: { hint: publicKeyHint(options.privateKey) } };
  return { ...key, tlogEntries: [] };
}

/** Signs `digest` in cosign's format with `key` and pushes the `.sig` manifest next to it. */
export async function cosignSignImage(
  registryUrl: string,
  repository: string,
  digest: string,
  reference: string,
  key: KeyObject,
): Promise<PushedSignature> {
  const payload = makeSimpleSigningPayload(digest, reference);
  return pushCosignSignature(registryUrl, repository, { digest }, [{ payload, signature: signPayload(key, payload) }]);
}
