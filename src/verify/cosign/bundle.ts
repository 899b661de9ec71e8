// A sigstore bundle v0.1–v0.3 stored as an OCI 1.1 referrer (docs/wire-formats.md "Sigstore bundles";
// sigstore protobuf-specs `Bundle`). Key-based bundles are verified with the trusted keys, and their
// log entries become evidence for rules that ask for one. Certificate bundles (keyless, or a
// bring-your-own PKI) are verified with @sigstore/verify against the sigstore roots (docs/keyless.md).
import { createHash } from 'node:crypto';
import { bundleFromJSON, ValidationError } from '@sigstore/bundle';
import type { Bundle } from '@sigstore/bundle';
import type { SignatureFinding, SigstoreBundle, Subject, TrustedKey, TrustMaterial } from '../types.ts';
import { certificateFinding, withKeyLogs } from '../sigstore/certificate-finding.ts';
import { verifyCertificateBundle, verifyKeyLogEntries } from '../sigstore/verify-sigstore.ts';
import { checkStatement, verifyBundleDsse } from './bundle-dsse.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './dsse.ts';
import { checkMessageDigest, verifyBundleMessage } from './bundle-message.ts';
import { failed, isRecord, parseJson } from './finding.ts';

/** Every bundle version cosign and sigstore clients have written (protobuf-specs `Bundle.media_type`). */
export const BUNDLE_MEDIA_TYPES: readonly string[] = [
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
];

export function verifySigstoreBundle(b: SigstoreBundle, subject: Subject, trust: TrustMaterial, now: number): SignatureFinding {
  const json = parseJson(b.bundle);
  if (!json.ok || !isRecord(json.value)) return failed(b, 'format', 'bundle is not a JSON object');
  const raw = json.value;
  const mediaType = raw['mediaType'];
  if (typeof mediaType !== 'string' || !BUNDLE_MEDIA_TYPES.includes(mediaType)) return failed(b, 'format', mediaTypeProblem(mediaType));
  const dsse = raw['dsseEnvelope'];
  const message = raw['messageSignature'];
  if ((dsse == null) === (message == null)) return failed(b, 'format', 'bundle must hold exactly one of dsseEnvelope and messageSignature');
  const material = raw['verificationMaterial'];
  if (!isRecord(material)) return failed(b, 'format', 'bundle has no verificationMaterial');

  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(raw);
  } catch (error) {
    return failed(b, 'format', `not a valid sigstore bundle: ${bundleProblem(error)}`);
  }
  if (material['certificate'] != null || material['x509CertificateChain'] != null) {
    return certificateBundle(b, bundle, dsse ?? message, dsse != null, subject, trust, now);
  }
  const publicKey = material['publicKey'];
  if (!isRecord(publicKey)) return failed(b, 'format', 'bundle verificationMaterial has no publicKey');
  const keys = orderByHint(trust.keys, publicKey['hint']);
  const found = dsse != null ? verifyBundleDsse(b, dsse, subject, keys) : verifyBundleMessage(b, message, subject, keys);
  if (found.verifiedBy.length === 0) return found;
  const key = keys.find((k) => k.id === found.verifiedBy[0])!;
  const logs = verifyKeyLogEntries(bundle, dsse != null ? undefined : subject.bytes, key, trust.sigstoreRoots);
  return withKeyLogs(found, logs);
}

function certificateBundle(
  b: SigstoreBundle,
  bundle: Bundle,
  content: unknown,
  isDsse: boolean,
  subject: Subject,
  trust: TrustMaterial,
  now: number,
): SignatureFinding {
  // The content first: a signature for another manifest is named as such before any trust question.
  if (!isDsse) {
    const checked = checkMessageDigest(b, content, subject);
    if (!('signature' in checked)) return checked;
  }
  // Everything judged below is read from the parsed bundle, the bytes @sigstore/verify verifies, so
  // no second decoding of the JSON can disagree with it.
  const parsed = bundle.content;
  let payload: Buffer | undefined;
  if (parsed.$case === 'dsseEnvelope') {
    if (parsed.dsseEnvelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
      return failed(b, 'format', `DSSE payloadType is not ${IN_TOTO_PAYLOAD_TYPE}`);
    payload = Buffer.from(parsed.dsseEnvelope.payload);
  } else if (`sha256:${Buffer.from(parsed.messageSignature.messageDigest?.digest ?? []).toString('hex')}` !== subject.digest) {
    return failed(b, 'digest', 'the parsed messageDigest is not the served manifest');
  }
  const outcome = verifyCertificateBundle(bundle, isDsse ? undefined : subject.bytes, trust.sigstoreRoots, now);
  if (!outcome.ok) return failed(b, outcome.kind, outcome.message);
  const found = certificateFinding(b, outcome);
  return payload === undefined ? found : checkStatement(found, payload, subject);
}

/** @sigstore/bundle's ValidationError names the fields; say which. */
function bundleProblem(error: unknown): string {
  const fields = error instanceof ValidationError ? (error.fields ?? []) : [];
  const text = fields.length > 0 ? `${fields.slice(0, 4).join(', ')} missing or malformed` : (error as Error).message;
  return text.slice(0, 200);
}

function mediaTypeProblem(mediaType: unknown): string {
  if (typeof mediaType !== 'string') return 'bundle has no mediaType';
  return `bundle media type ${JSON.stringify(mediaType.slice(0, 100))} is not a sigstore bundle v0.1 to v0.3`;
}

/** cosign's hint is base64(sha256(SPKI DER)) (internal/key/svkeypair.go); it only orders the keys we try. */
function orderByHint(keys: readonly TrustedKey[], hint: unknown): readonly TrustedKey[] {
  if (typeof hint !== 'string' || hint === '') return keys;
  const matches = (key: TrustedKey): boolean => {
    try {
      const der = key.publicKey.export({ type: 'spki', format: 'der' });
      return createHash('sha256').update(der).digest('base64') === hint;
    } catch {
      return false;
    }
  };
  return [...keys.filter(matches), ...keys.filter((key) => !matches(key))];
}
