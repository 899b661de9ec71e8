// `trustgate sign`'s work, also used by `trustgate demo`: resolve the image to the digest of the
// exact manifest bytes in the registry, sign cosign's payload for it, and store the signature.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { algorithmOf, digestOf } from '../oci/digest.ts';
import { SUPPORTED_MANIFEST_TYPES } from '../oci/media-types.ts';
import type { Digest } from '../oci/reference.ts';
import { attachCosignSignature, type AttachedSignature } from './cosign-push.ts';
import { signSimpleSigning, simpleSigningPayload } from './cosign-payload.ts';
import { RegistrySession, type RegistryTarget } from './registry-push.ts';

export interface SignImageOptions extends RegistryTarget {
  /** A tag, or the digest the manifest must hash to. */
  readonly reference: { readonly tag: string } | { readonly digest: Digest };
  readonly privateKey: KeyObject;
  /** `critical.identity.docker-reference`; default `<registry host>/<repository>`, as cosign writes it. */
  readonly dockerReference?: string;
}

export interface SignedImage {
  /** The manifest digest that was signed. */
  readonly digest: string;
  readonly dockerReference: string;
  /** `<registry host>/<repository>`. */
  readonly name: string;
  readonly signature: AttachedSignature;
}

export async function signImage(options: SignImageOptions): Promise<SignedImage> {
  const session = new RegistrySession(options);
  try {
    const name = `${session.host}/${options.repository}`;
    const asked = 'tag' in options.reference ? options.reference.tag : options.reference.digest;
    const manifest = await session.getManifest(asked, SUPPORTED_MANIFEST_TYPES);
    if (manifest === undefined) throw new Error(`${name}: no manifest ${asked} in the registry`);
    let digest = manifest.digest;
    if ('digest' in options.reference) {
      digest = digestOf(manifest.bytes, algorithmOf(options.reference.digest));
      if (digest !== options.reference.digest)
        throw new Error(`${name}@${asked}: the registry returned a manifest whose digest is ${digest}`);
    }
    const dockerReference = options.dockerReference ?? name;
    const payload = simpleSigningPayload(digest, dockerReference);
    const signature = signSimpleSigning(options.privateKey, payload);
    const attached = await attachCosignSignature(session, digest, payload, signature, createPublicKey(options.privateKey));
    return { digest, dockerReference, name, signature: attached };
  } finally {
    await session.close();
  }
}

/** What `trustgate sign` prints. */
export function describeSigned(signed: SignedImage): string[] {
  const { signature } = signed;
  const what = signature.unchanged ? 'already held this signature; nothing written' : `${signature.layers} signature(s) under that tag`;
  return [
    `signed ${signed.name}@${signed.digest} (docker-reference ${signed.dockerReference})`,
    `signature ${signed.name}:${signature.tag} ${signature.digest} (${what})`,
  ];
}
