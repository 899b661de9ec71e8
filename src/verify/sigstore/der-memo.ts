// @sigstore/core re-encodes a certificate's ASN.1 tree to DER on every equals(), verify() and name
// getter, which made path building most of a keyless verification (bench/verify-keyless.ts). A parsed
// certificate's tree is never changed afterwards (the SCT check changes only a clone, parsed from a
// copy of the bytes), so each node's encoding is computed once, on the objects trustgate parsed.
import type { ASN1Obj, X509Certificate } from '@sigstore/core';

const done = new WeakSet<ASN1Obj>();

/** The same certificate, its DER encodings cached node by node. */
export function withCachedDer(certificate: X509Certificate): X509Certificate {
  cacheDer(certificate.root);
  return certificate;
}

function cacheDer(node: ASN1Obj): void {
  if (done.has(node)) return;
  done.add(node);
  for (const sub of node.subs) cacheDer(sub);
  const encode = node.toDER.bind(node);
  let der: Buffer | undefined;
  node.toDER = (): Buffer => (der ??= encode());
}

const trusted = new WeakSet<X509Certificate>();

/**
 * A trust-material certificate: its DER cached, and its signature checks by other trust-material
 * certificates (an intermediate by its root, a root by itself) made once. Both sides are fixed for
 * the life of a compiled trust version, so the answer cannot change; a check by anything else
 * (a leaf, a certificate from a signature) is made every time.
 */
export function asTrustAnchorMaterial(certificate: X509Certificate): X509Certificate {
  withCachedDer(certificate);
  if (trusted.has(certificate)) return certificate;
  trusted.add(certificate);
  const check = certificate.verify.bind(certificate);
  const answers = new WeakMap<X509Certificate, boolean>();
  certificate.verify = (issuer?: X509Certificate): boolean => {
    const by = issuer ?? certificate;
    if (!trusted.has(by)) return check(issuer);
    let answer = answers.get(by);
    if (answer === undefined) {
      answer = check(issuer);
      answers.set(by, answer);
    }
    return answer;
  };
  return certificate;
}
