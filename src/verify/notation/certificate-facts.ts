// The certificate fields node:crypto does not expose (docs/wire-formats.md "node:crypto and jose notes"): keyUsage bits, basicConstraints
// with pathLen, EKU with criticality, the signature algorithm, and validity as Dates.
//
// Read with @peculiar/asn1-x509 (the ASN.1 schema layer under @peculiar/x509): @peculiar/x509 2.2.0
// itself needs a global Reflect metadata polyfill (tsyringe) at import time, which a pure module
// should not install.
import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
} from '@peculiar/asn1-x509';
import { RsaSaPssParams, id_RSASSA_PSS } from '@peculiar/asn1-rsa';
import { fail, NotationCheckError } from './failure.ts';

export interface CertificateFacts {
  readonly notBefore: number;
  readonly notAfter: number;
  /** Signature algorithm OID; for RSASSA-PSS, also the hash OID from its parameters. */
  readonly signatureAlgorithm: string;
  readonly signatureHash?: string;
  readonly basicConstraints?: { readonly critical: boolean; readonly ca: boolean; readonly pathLen?: number };
  /** KeyUsage as @peculiar's KeyUsageFlags bit mask (digitalSignature = 1 … decipherOnly = 256). */
  readonly keyUsage?: { readonly critical: boolean; readonly bits: number };
  readonly extKeyUsage?: { readonly critical: boolean; readonly oids: readonly string[] };
}

/** `chain` names the certificate's list in messages: the envelope's `x5c`, or a timestamp's TSA chain. */
export function readCertificateFacts(cert: X509Certificate, index: number, chain = 'x5c'): CertificateFacts {
  try {
    return read(cert);
  } catch (err) {
    if (err instanceof NotationCheckError) throw err;
    fail('authenticity', `${chain}[${index}]: cannot read certificate fields (${err instanceof Error ? err.message : String(err)})`);
  }
}

function read(cert: X509Certificate): CertificateFacts {
  const asn = AsnConvert.parse(cert.raw, Certificate);
  const tbs = asn.tbsCertificate;
  const sigAlg = asn.signatureAlgorithm;
  let basicConstraints: CertificateFacts['basicConstraints'];
  let keyUsage: CertificateFacts['keyUsage'];
  let extKeyUsage: CertificateFacts['extKeyUsage'];
  const seen = new Set<string>();
  for (const ext of tbs.extensions ?? []) {
    const id = ext.extnID;
    if (id !== id_ce_basicConstraints && id !== id_ce_keyUsage && id !== id_ce_extKeyUsage) continue; // fail open on the rest
    // RFC 5280 §4.2: a certificate must not include more than one instance of an extension.
    if (seen.has(id)) fail('authenticity', `extension ${id} appears twice`);
    seen.add(id);
    if (id === id_ce_basicConstraints) {
      const bc = AsnConvert.parse(ext.extnValue, BasicConstraints);
      basicConstraints = {
        critical: ext.critical,
        ca: bc.cA,
        ...(bc.pathLenConstraint === undefined ? {} : { pathLen: bc.pathLenConstraint }),
      };
    } else if (id === id_ce_keyUsage) {
      keyUsage = { critical: ext.critical, bits: AsnConvert.parse(ext.extnValue, KeyUsage).toNumber() };
    } else {
      extKeyUsage = { critical: ext.critical, oids: [...AsnConvert.parse(ext.extnValue, ExtendedKeyUsage)] };
    }
  }
  return {
    notBefore: tbs.validity.notBefore.getTime().getTime(),
    notAfter: tbs.validity.notAfter.getTime().getTime(),
    signatureAlgorithm: sigAlg.algorithm,
    // RFC 4055 §3.1: RSASSA-PSS without parameters means SHA-1.
    ...(sigAlg.algorithm === id_RSASSA_PSS
      ? { signatureHash: sigAlg.parameters ? AsnConvert.parse(sigAlg.parameters, RsaSaPssParams).hashAlgorithm.algorithm : SHA1 }
      : {}),
    ...(basicConstraints ? { basicConstraints } : {}),
    ...(keyUsage ? { keyUsage } : {}),
    ...(extKeyUsage ? { extKeyUsage } : {}),
  };
}

export const SHA1 = '1.3.14.3.2.26';
