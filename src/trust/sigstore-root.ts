// A `sigstore-root` trust entry turned into @sigstore/verify trust material, once per trust version
// (docs/keyless.md "Trust roots"). Two forms: a sigstore TrustedRoot (protobuf-specs
// `dev.sigstore.trustroot.v1.TrustedRoot`, the trusted_root.json a TUF repository serves), or PEM
// certificates for a bring-your-own PKI (`cosign sign --cert --cert-chain`).
import { X509Certificate } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import type { SigstoreRoot } from '../verify/types.ts';
import { pemBlocks } from '../input/pem-blocks.ts';
import { asTrustAnchorMaterial } from '../verify/sigstore/der-memo.ts';
import type { TrustEntry } from './types.ts';

/** protobuf-specs trustroot mediaType: `application/vnd.dev.sigstore.trustedroot+json;version=0.1` (and v0.2). */
const TRUSTED_ROOT_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(?:\.v0\.[12]\+json|\+json;version=0\.[12])$/;
/** A PEM-given CA has no validity window of its own beyond its certificates' (RFC 3339, as protobuf JSON wants). */
const ALWAYS = { start: '1970-01-01T00:00:00Z' };

/** Throws a TypeError naming the problem: the caller reports the entry as broken (it then verifies nothing). */
export function compileSigstoreRoot(entry: TrustEntry): SigstoreRoot {
  const root = entry.trustedRoot !== undefined ? parseTrustedRoot(entry.trustedRoot) : pemTrustedRoot(entry.pem);
  const material = toTrustMaterial(root);
  for (const ca of [...material.certificateAuthorities, ...material.timestampAuthorities]) ca.certChain.forEach(asTrustAnchorMaterial);
  return { id: entry.id, material, pki: root.tlogs.length === 0 };
}

/** Parses and checks a trusted_root.json text; the message names what is wrong. */
export function parseTrustedRoot(text: string): TrustedRoot {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TypeError('trustedRoot is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TypeError('trustedRoot is not a JSON object');
  const mediaType = (json as Record<string, unknown>)['mediaType'];
  if (typeof mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPE.test(mediaType)) {
    throw new TypeError('trustedRoot.mediaType is not application/vnd.dev.sigstore.trustedroot+json;version=0.1');
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
  } catch (error) {
    throw new TypeError(`trustedRoot does not parse: ${(error as Error).message}`);
  }
  if (root.certificateAuthorities.length === 0 && root.tlogs.length === 0) {
    throw new TypeError('trustedRoot lists no certificate authority and no transparency log');
  }
  // toTrustMaterial parses every certificate and key; a bad one fails here, not on a pull.
  try {
    toTrustMaterial(root);
  } catch (error) {
    throw new TypeError(`trustedRoot holds unusable material: ${(error as Error).message}`);
  }
  return root;
}

/**
 * PEM certificates as a TrustedRoot with one CA per path: each self-signed certificate is an anchor,
 * and each other certificate only extends a chain to an anchor given here (never an anchor itself).
 */
export function pemTrustedRoot(pem: string): TrustedRoot {
  const certificates = pemBlocks(pem, ['CERTIFICATE']).map((block) => new X509Certificate(block.text));
  if (certificates.length === 0) throw new TypeError('no PEM certificate');
  const selfSigned = (c: X509Certificate): boolean => c.checkIssued(c) && c.verify(c.publicKey);
  const anchors = certificates.filter(selfSigned);
  if (anchors.length === 0) throw new TypeError('no self-signed root certificate: intermediates alone are never trust anchors');
  // Chains grow from the anchors down: an intermediate joins only under a certificate already placed.
  const chains: X509Certificate[][] = anchors.map((a) => [a]);
  let pending = certificates.filter((c) => !selfSigned(c));
  for (let grew = true; grew && pending.length > 0;) {
    grew = false;
    for (const candidate of pending) {
      const parents = chains.filter((chain) => {
        const top = chain[0]!;
        return candidate.ca && candidate.checkIssued(top) && candidate.verify(top.publicKey);
      });
      if (parents.length === 0) continue;
      for (const parent of parents) chains.push([candidate, ...parent]);
      pending = pending.filter((c) => c !== candidate);
      grew = true;
    }
  }
  if (pending.length > 0)
    throw new TypeError(`certificate "${pending[0]!.subject.replace(/\n/g, ', ')}" is not a CA under any root given here`);
  return TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    ctlogs: [],
    timestampAuthorities: [],
    certificateAuthorities: chains.map((chain) => ({
      subject: { organization: '', commonName: '' },
      uri: '',
      certChain: { certificates: chain.map((c) => ({ rawBytes: c.raw.toString('base64') })) },
      validFor: ALWAYS,
    })),
  });
}
