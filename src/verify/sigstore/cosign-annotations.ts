// cosign's legacy `.sig` layer annotations, converted at the edge into one sigstore bundle so that a
// single verifier judges both forms (docs/keyless.md "cosign annotations"; cosign
// specs/SIGNATURE_SPEC.md "Certificate", "Chain", "Bundle"; pkg/cosign/bundle/rekor.go).
import { createHash } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import type { Bundle } from '@sigstore/bundle';
import { pemBlocks } from '../../input/pem-blocks.ts';

export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';

const LOG_ID = /^[0-9a-f]{64}$/;

export type Converted = { readonly ok: true; readonly bundle: Bundle } | { readonly ok: false; readonly message: string };

/**
 * The layer as a v0.1 bundle (the only version whose entries carry a promise and no proof, as
 * cosign's annotation does): a message signature over the payload blob, the certificate and its
 * chain when present (else a public key), and the Rekor entry the SET annotation describes.
 */
export function cosignLayerBundle(annotations: Readonly<Record<string, string>>, payload: Buffer, signature: Buffer): Converted {
  const certificates: string[] = [];
  const leaf = annotations[CERTIFICATE_ANNOTATION];
  if (leaf !== undefined) {
    const blocks = derBlocks(leaf);
    if (blocks.length !== 1) return { ok: false, message: `${CERTIFICATE_ANNOTATION} must hold exactly one PEM certificate` };
    certificates.push(...blocks);
    const chain = annotations[CHAIN_ANNOTATION];
    if (chain !== undefined) certificates.push(...derBlocks(chain));
  }
  const entries = [];
  const set = annotations[BUNDLE_ANNOTATION];
  if (set !== undefined) {
    const entry = logEntryOf(set);
    if (typeof entry === 'string') return { ok: false, message: `${BUNDLE_ANNOTATION}: ${entry}` };
    entries.push(entry);
  }
  const json = {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      ...(certificates.length > 0
        ? { x509CertificateChain: { certificates: certificates.map((rawBytes) => ({ rawBytes })) } }
        : { publicKey: { hint: '' } }),
      tlogEntries: entries,
    },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(payload).digest('base64') },
      signature: signature.toString('base64'),
    },
  };
  try {
    return { ok: true, bundle: bundleFromJSON(json) };
  } catch (error) {
    return { ok: false, message: `does not form a sigstore bundle: ${(error as Error).message}` };
  }
}

/** The `RekorBundle` JSON: `{"SignedEntryTimestamp": b64, "Payload": {body, integratedTime, logIndex, logID}}`. */
function logEntryOf(text: string): object | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const record = (v: unknown): Record<string, unknown> | undefined =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const outer = record(value);
  const payload = record(outer?.['Payload']);
  const set = outer?.['SignedEntryTimestamp'];
  if (payload === undefined || typeof set !== 'string') return 'needs SignedEntryTimestamp and Payload';
  const { body, integratedTime, logIndex, logID } = payload;
  if (typeof body !== 'string' || !Number.isSafeInteger(integratedTime) || !Number.isSafeInteger(logIndex) || typeof logID !== 'string') {
    return 'Payload needs body, integratedTime, logIndex and logID';
  }
  if (!LOG_ID.test(logID)) return 'Payload.logID is not a hex SHA-256';
  let kind: unknown;
  let apiVersion: unknown;
  try {
    ({ kind, apiVersion } = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as { kind?: unknown; apiVersion?: unknown });
  } catch {
    return 'Payload.body is not base64 JSON';
  }
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') return 'Payload.body has no kind and apiVersion';
  return {
    logIndex: String(logIndex),
    logId: { keyId: Buffer.from(logID, 'hex').toString('base64') },
    kindVersion: { kind, version: apiVersion },
    integratedTime: String(integratedTime),
    inclusionPromise: { signedEntryTimestamp: set },
    canonicalizedBody: body,
  };
}

function derBlocks(pem: string): string[] {
  return pemBlocks(pem, ['CERTIFICATE']).map((block) => block.base64);
}
