// One sigstore bundle (a real one, or cosign's legacy annotations converted at the edge) verified
// against the trust store's sigstore roots with @sigstore/verify (docs/keyless.md "Verification").
// Pure: the roots and the evaluation time are inputs; there is no network and no clock.
import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import type { Bundle, TransparencyLogEntry } from '@sigstore/bundle';
import { toSignedEntity, Verifier, VerificationError } from '@sigstore/verify';
import type { SignedEntity, TrustMaterial as SigstoreTrustMaterial } from '@sigstore/verify';
import type { CertificateEvidence, LogEntryEvidence, LogProblem, SigstoreRoot, SignatureFailure, TrustedKey } from '../types.ts';
import { readCertificateIdentity } from './certificate-identity.ts';
import { withCachedDer } from './der-memo.ts';
import { pathNotAfter, pathOf, purposeProblem } from './certificate-path.ts';
import { bindingProblem, type ExpectedSigner, type SignedContent } from './log-binding.ts';

type Timestamp = SignedEntity['timestamps'][number];

export type CertificateOutcome =
  | {
      readonly ok: true;
      /** One per root under which the certificate verified. */
      readonly certificates: readonly CertificateEvidence[];
      readonly logEntries: readonly LogEntryEvidence[];
    }
  | { readonly ok: false; readonly kind: SignatureFailure; readonly message: string };

/**
 * A certificate-signed bundle under each sigstore root. `artifact` is what a message signature
 * signs (undefined for DSSE). The caller checks the bundle's claimed digest against the artifact.
 */
export function verifyCertificateBundle(
  bundle: Bundle,
  artifact: Buffer | undefined,
  roots: readonly SigstoreRoot[],
  now: number,
): CertificateOutcome {
  try {
    return verifyCertificates(bundle, artifact, roots, now);
  } catch (error) {
    // @sigstore/core reads certificates lazily: malformed ASN.1 throws from a getter, not from parse.
    return { ok: false, kind: 'format', message: `malformed certificate material: ${messageOf(error)}` };
  }
}

function verifyCertificates(bundle: Bundle, artifact: Buffer | undefined, roots: readonly SigstoreRoot[], now: number): CertificateOutcome {
  if (roots.length === 0)
    return { ok: false, kind: 'certificate_untrusted', message: 'certificate signature, and no sigstore root is trusted' };
  let entity: SignedEntity;
  try {
    entity = toSignedEntity(bundle, artifact);
  } catch (error) {
    return { ok: false, kind: 'format', message: `bundle material does not parse: ${messageOf(error)}` };
  }
  if (entity.key.$case !== 'certificate') return { ok: false, kind: 'format', message: 'bundle has no certificate' };
  const leaf = withCachedDer(entity.key.certificate);
  const identity = readCertificateIdentity(leaf);
  if (!identity.ok) return { ok: false, kind: 'certificate_untrusted', message: identity.message };
  const intermediates = bundleIntermediates(bundle);
  const signer: ExpectedSigner = { certificate: leaf.root.toDER() };

  const certificates: CertificateEvidence[] = [];
  const logEntries: LogEntryEvidence[] = [];
  const failures: { kind: SignatureFailure; message: string }[] = [];
  for (const root of roots) {
    const outcome = underRoot(root, entity, intermediates, signer, now);
    if (!outcome.ok) {
      failures.push({ kind: outcome.kind, message: `under "${root.id}": ${outcome.message}` });
      continue;
    }
    certificates.push({
      root: root.id,
      identity: identity.identity,
      signingTime: outcome.signingTime,
      certificateNotAfter: leaf.notAfter.getTime(),
      pathNotAfter: outcome.pathNotAfter,
    });
    logEntries.push(...outcome.logEntries);
  }
  if (certificates.length > 0) return { ok: true, certificates, logEntries };
  // The most telling failure: a root that got past the chain says more than one it never anchored.
  const best = failures.find((f) => f.kind !== 'certificate_untrusted') ?? failures[0]!;
  return { ok: false, kind: best.kind, message: best.message };
}

type RootOutcome =
  | { ok: true; signingTime: CertificateEvidence['signingTime']; pathNotAfter: number; logEntries: LogEntryEvidence[] }
  | { ok: false; kind: SignatureFailure; message: string };

function underRoot(
  root: SigstoreRoot,
  entity: SignedEntity,
  intermediates: readonly SigstoreCertificate[],
  signer: ExpectedSigner,
  now: number,
): RootOutcome {
  const material = issuingAuthorities(withIntermediates(root.material, intermediates), entity);
  // A PKI root lists no log: an entry or promise could not verify under it, so it is set aside,
  // and with no RFC 3161 timestamp the certificate is checked at evaluation time.
  let checked = root.pki
    ? { ...entity, tlogEntries: [], timestamps: entity.timestamps.filter((t) => t.$case === 'timestamp-authority') }
    : entity;
  const atVerification = root.pki && checked.timestamps.length === 0;
  if (atVerification) checked = { ...checked, timestamps: [verificationTime(now)] };
  const verifier = new Verifier(material, {
    tlogThreshold: 0,
    // sigstore client spec: an embedded SCT is required when the root lists CT logs.
    ctlogThreshold: material.ctlogs.length > 0 ? 1 : 0,
    timestampThreshold: 1,
  });
  try {
    verifier.verify(checked);
  } catch (error) {
    return { ok: false, ...failureOf(error) };
  }
  const { path, end } = pathOf(leafOf(checked), material);
  const purpose = purposeProblem(path);
  if (purpose !== undefined) return { ok: false, kind: 'certificate_untrusted', message: purpose };
  for (const entry of checked.tlogEntries) {
    const problem = bindingProblem(entry, signer, contentOf(entity));
    if (problem !== undefined) return { ok: false, kind: 'tlog_invalid', message: `log entry ${entry.logIndex}: ${problem}` };
  }
  return {
    ok: true,
    pathNotAfter: pathNotAfter(path, end),
    signingTime: signingTime(checked, atVerification, now),
    logEntries: checked.tlogEntries.map((e) => logEvidence(root.id, e)),
  };
}

export type KeyLogOutcome = { readonly logEntries: readonly LogEntryEvidence[]; readonly problems: readonly LogProblem[] };

/**
 * A key-based signature's log entries, under each root that lists logs: what verified (promise or
 * proof, bound to this signature, this key and this digest), or why nothing did. The signature
 * itself was verified by the caller.
 */
export function verifyKeyLogEntries(
  bundle: Bundle,
  artifact: Buffer | undefined,
  key: TrustedKey,
  roots: readonly SigstoreRoot[],
): KeyLogOutcome {
  try {
    return keyLogEntries(bundle, artifact, key, roots);
  } catch (error) {
    return { logEntries: [], problems: [{ message: `malformed log material: ${messageOf(error)}` }] };
  }
}

function keyLogEntries(bundle: Bundle, artifact: Buffer | undefined, key: TrustedKey, roots: readonly SigstoreRoot[]): KeyLogOutcome {
  if (bundle.verificationMaterial.tlogEntries.length === 0) return { logEntries: [], problems: [] };
  const withLogs = roots.filter((root) => !root.pki);
  if (withLogs.length === 0)
    return { logEntries: [], problems: [{ message: 'it has log entries, but no sigstore root lists a transparency log' }] };
  let entity: SignedEntity;
  try {
    entity = { ...toSignedEntity(bundle, artifact), key: { $case: 'public-key', hint: key.id } };
  } catch (error) {
    return { logEntries: [], problems: [{ message: `bundle material does not parse: ${messageOf(error)}` }] };
  }
  const spki = key.publicKey.export({ type: 'spki', format: 'der' });
  const logEntries: LogEntryEvidence[] = [];
  const problems: LogProblem[] = [];
  for (const root of withLogs) {
    const material: SigstoreTrustMaterial = { ...root.material, publicKey: () => ({ publicKey: key.publicKey, validFor: () => true }) };
    try {
      // Only the log is judged here: the key's own validity window is the trust store's business.
      new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 0 }).verify({ ...entity, timestamps: [] });
    } catch (error) {
      problems.push({ root: root.id, message: `under "${root.id}": ${failureOf(error).message}` });
      continue;
    }
    const unbound = entity.tlogEntries.map((e) => bindingProblem(e, { spki }, contentOf(entity))).find((p) => p !== undefined);
    if (unbound !== undefined) {
      problems.push({ root: root.id, message: `under "${root.id}": ${unbound}` });
      continue;
    }
    logEntries.push(...entity.tlogEntries.map((e) => logEvidence(root.id, e)));
  }
  return { logEntries, problems };
}

/**
 * Certificates the bundle carries beyond the leaf (v0.1/v0.2 chains, cosign's chain annotation).
 * They are untrusted: they may only extend a path to a trusted CA (see withIntermediates).
 */
function bundleIntermediates(bundle: Bundle): SigstoreCertificate[] {
  const content = bundle.verificationMaterial.content;
  if (content.$case !== 'x509CertificateChain') return [];
  return content.x509CertificateChain.certificates.slice(1).flatMap((c) => {
    try {
      const certificate = withCachedDer(SigstoreCertificate.parse(Buffer.from(c.rawBytes)));
      // Parsing is lazy: read what path building reads now, so a malformed extra certificate is dropped here.
      void [certificate.isCA, certificate.subject, certificate.issuer, certificate.publicKey];
      return [certificate];
    } catch {
      return [];
    }
  });
}

/**
 * @sigstore/verify builds paths from a CA's own chain only. An untrusted intermediate joins a CA's
 * chain only when it is a CA certificate, not self-signed, and verifiably issued by a certificate
 * already in that chain, so it can never become an anchor.
 */
function withIntermediates(material: SigstoreTrustMaterial, intermediates: readonly SigstoreCertificate[]): SigstoreTrustMaterial {
  if (intermediates.length === 0) return material;
  const certificateAuthorities = material.certificateAuthorities.map((ca) => {
    const chain = [...ca.certChain];
    let pending = intermediates.filter((c) => c.isCA && !c.subject.equals(c.issuer) && !chain.some((t) => t.equals(c)));
    for (let grew = true; grew;) {
      grew = false;
      for (const candidate of pending) {
        if (!chain.some((issuer) => candidate.issuer.equals(issuer.subject) && safeVerify(candidate, issuer))) continue;
        chain.unshift(candidate);
        pending = pending.filter((c) => c !== candidate);
        grew = true;
      }
    }
    return chain.length === ca.certChain.length ? ca : { ...ca, certChain: chain };
  });
  return { ...material, certificateAuthorities };
}

/**
 * Only the CAs whose chain holds a certificate named as the leaf's issuer can anchor it; handing
 * @sigstore/verify just those spares it building paths through the others. With none, all are kept,
 * so the failure is the library's own.
 */
function issuingAuthorities(material: SigstoreTrustMaterial, entity: SignedEntity): SigstoreTrustMaterial {
  if (entity.key.$case !== 'certificate') return material;
  const issuer = entity.key.certificate.issuer;
  const candidates = material.certificateAuthorities.filter((ca) => ca.certChain.some((c) => c.subject.equals(issuer)));
  return candidates.length === 0 || candidates.length === material.certificateAuthorities.length
    ? material
    : { ...material, certificateAuthorities: candidates };
}

function safeVerify(certificate: SigstoreCertificate, issuer: SigstoreCertificate): boolean {
  try {
    return certificate.verify(issuer);
  } catch {
    return false;
  }
}

/**
 * Bring-your-own PKI only (the root lists no log, and the bundle has no RFC 3161 timestamp): the
 * certificate is checked at evaluation time. @sigstore/verify takes times only from timestamps, so
 * the evaluation time is handed over in the shape of a log timestamp; it is never verified as one
 * (entries are checked from `tlogEntries`, which stays empty for a PKI root).
 */
function verificationTime(now: number): Timestamp {
  const entry = {
    logId: { keyId: Buffer.from('verification-time') },
    integratedTime: String(Math.floor(now / 1000)),
    inclusionPromise: { signedEntryTimestamp: Buffer.alloc(0) },
  };
  return { $case: 'transparency-log', tlogEntry: entry as unknown as TransparencyLogEntry };
}

function signingTime(entity: SignedEntity, atVerification: boolean, now: number): CertificateEvidence['signingTime'] {
  if (atVerification) return { source: 'verification-time', at: now };
  const promised = entity.tlogEntries.find((e) => e.inclusionPromise !== undefined);
  if (promised !== undefined) return { source: 'tlog', at: Number(promised.integratedTime) * 1000 };
  const stamped = entity.timestamps.find((t) => t.$case === 'timestamp-authority');
  return { source: 'tsa', at: stamped?.$case === 'timestamp-authority' ? stamped.timestamp.signingTime.getTime() : now };
}

function leafOf(entity: SignedEntity): SigstoreCertificate {
  if (entity.key.$case !== 'certificate') throw new TypeError('a certificate signature has a certificate');
  return entity.key.certificate;
}

/** A message signature has a digest to compare; a DSSE one compares its envelope. */
function contentOf(entity: SignedEntity): SignedContent {
  return 'messageDigest' in entity.signature ? 'message' : 'dsse';
}

function logEvidence(root: string, entry: TransparencyLogEntry): LogEntryEvidence {
  return {
    root,
    logIndex: entry.logIndex,
    integratedTime: Number(entry.integratedTime) * 1000,
    kind: `${entry.kindVersion?.kind ?? '?'}/${entry.kindVersion?.version ?? '?'}`,
    promise: entry.inclusionPromise !== undefined,
    proof: entry.inclusionProof !== undefined,
  };
}

/** @sigstore/verify's error codes, each to its own failure kind (docs/keyless.md "Reason codes"). */
function failureOf(error: unknown): { kind: SignatureFailure; message: string } {
  const message = messageOf(error);
  if (!(error instanceof VerificationError)) return { kind: 'format', message };
  switch (error.code) {
    case 'TLOG_ERROR':
    case 'TLOG_BODY_ERROR':
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return { kind: 'tlog_invalid', message };
    case 'TIMESTAMP_ERROR':
      return /^expected \d+ timestamps, got 0$/.test(error.message)
        ? { kind: 'tlog_missing', message: 'no trusted signing time: no verified log inclusion promise and no RFC 3161 timestamp' }
        : { kind: 'timestamp_invalid', message };
    case 'CERTIFICATE_ERROR':
      return { kind: 'certificate_untrusted', message };
    case 'SIGNATURE_ERROR':
    case 'PUBLIC_KEY_ERROR':
      return { kind: 'crypto', message };
    default:
      return { kind: 'format', message };
  }
}

function messageOf(error: unknown): string {
  const base = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${base}${cause}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}
