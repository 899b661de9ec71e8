// The identity a keyless or PKI signing certificate carries (docs/keyless.md "Identities"):
// its SANs (RFC 5280 §4.2.1.6) and Fulcio's OIDC extensions (fulcio docs/oid-info.md).
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { DirectoryString, id_ce_subjectAltName, SubjectAlternativeName } from '@peculiar/asn1-x509';
import type { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import type { CertificateIdentity } from '../types.ts';

/** fulcio docs/oid-info.md: 1.1 is the legacy issuer (raw bytes), 1.8 the issuer as a DER UTF8String. */
const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
/** Legacy GitHub workflow claims (raw bytes), as cosign's `--certificate-github-workflow-*` flags read them. */
const GITHUB_WORKFLOW_OIDS = {
  trigger: '1.3.6.1.4.1.57264.1.2',
  sha: '1.3.6.1.4.1.57264.1.3',
  name: '1.3.6.1.4.1.57264.1.4',
  repository: '1.3.6.1.4.1.57264.1.5',
  ref: '1.3.6.1.4.1.57264.1.6',
} as const;

export type IdentityResult =
  { readonly ok: true; readonly identity: CertificateIdentity } | { readonly ok: false; readonly message: string };

/**
 * Reads the identity from the leaf @sigstore/verify checked, parsing only the extensions it needs
 * (a whole-certificate parse cost as much as the chain check). Disagreeing issuer extensions refuse it.
 */
export function readCertificateIdentity(leaf: SigstoreCertificate): IdentityResult {
  const extensions = new Map<string, Uint8Array[]>();
  try {
    for (const extension of leaf.extensions) {
      // RFC 5280 §4.1: Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }
      const oid = extension.subs[0]!.toOID();
      extensions.set(oid, [...(extensions.get(oid) ?? []), new Uint8Array(extension.subs[extension.subs.length - 1]!.value)]);
    }
  } catch {
    return { ok: false, message: 'signing certificate has malformed extensions' };
  }
  if ([...extensions.values()].some((found) => found.length > 1)) {
    return { ok: false, message: 'signing certificate repeats an extension' }; // RFC 5280 §4.2
  }
  const value = (oid: string): Uint8Array | undefined => extensions.get(oid)?.[0];
  const emails: string[] = [];
  const uris: string[] = [];
  const dnsNames: string[] = [];
  const san = value(id_ce_subjectAltName);
  if (san !== undefined) {
    try {
      for (const name of AsnConvert.parse(san, SubjectAlternativeName)) {
        if (name.rfc822Name !== undefined) emails.push(name.rfc822Name);
        if (name.uniformResourceIdentifier !== undefined) uris.push(name.uniformResourceIdentifier);
        if (name.dNSName !== undefined) dnsNames.push(name.dNSName);
      }
    } catch {
      return { ok: false, message: 'signing certificate has a malformed subjectAltName' };
    }
  }
  const v1 = value(OID_ISSUER_V1);
  const v2 = value(OID_ISSUER_V2);
  const legacy = v1 === undefined ? undefined : Buffer.from(v1).toString('utf8');
  let current: string | undefined;
  if (v2 !== undefined) {
    try {
      current = AsnParser.parse(v2, DirectoryString).toString();
    } catch {
      return { ok: false, message: 'the Fulcio issuer extension (1.3.6.1.4.1.57264.1.8) is not a DER string' };
    }
  }
  if (legacy !== undefined && current !== undefined && legacy !== current) {
    return { ok: false, message: `the Fulcio issuer extensions disagree: v1 "${clip(legacy)}", v2 "${clip(current)}"` };
  }
  const issuer = current ?? legacy;
  const workflow: Partial<Record<keyof typeof GITHUB_WORKFLOW_OIDS, string>> = {};
  for (const [claim, oid] of Object.entries(GITHUB_WORKFLOW_OIDS) as [keyof typeof GITHUB_WORKFLOW_OIDS, string][]) {
    const raw = value(oid);
    if (raw !== undefined) workflow[claim] = Buffer.from(raw).toString('utf8');
  }
  return {
    ok: true,
    identity: {
      emails,
      uris,
      dnsNames,
      ...(issuer === undefined ? {} : { issuer }),
      ...(Object.keys(workflow).length === 0 ? {} : { githubWorkflow: workflow }),
    },
  };
}

const clip = (text: string): string => (text.length > 80 ? `${text.slice(0, 80)}…` : text).replace(/[^\x20-\x7e]/g, '?');
