// Which key or certificate a Rekor entry names (docs/keyless.md "Log entries"). @sigstore/verify
// binds an entry to the signature and the digest; this binds it to the signer too, so an entry
// logged for the same signature bytes under another key or certificate does not count.
import { createPublicKey, X509Certificate } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { pemBlocks } from '../../input/pem-blocks.ts';

/** The signer an entry must name: the certificate DER, or the public key's SPKI DER. */
export type ExpectedSigner = { readonly certificate: Buffer } | { readonly spki: Buffer };

/** What the signature signs: a message (hashedrekord entries) or a DSSE envelope (intoto, dsse entries). */
export type SignedContent = 'message' | 'dsse';

/** Entry kinds that can bind each content: Rekor checks a hashedrekord signature over the digest, an intoto or dsse one over the PAE. */
const KINDS_FOR: Readonly<Record<SignedContent, readonly string[]>> = { message: ['hashedrekord'], dsse: ['intoto', 'dsse'] };

/** Undefined when the entry is of a kind that binds this content and names exactly the expected signer; otherwise why not. */
export function bindingProblem(entry: TransparencyLogEntry, signer: ExpectedSigner, content: SignedContent): string | undefined {
  const kind = entry.kindVersion?.kind ?? '?';
  if (!KINDS_FOR[content].includes(kind)) {
    return `a log entry of kind ${kind} does not bind a ${content === 'message' ? 'message signature' : 'DSSE envelope'} (${KINDS_FOR[content].join(' or ')} does)`;
  }
  let body: unknown;
  try {
    body = JSON.parse(entry.canonicalizedBody.toString('utf8'));
  } catch {
    return 'log entry body is not JSON';
  }
  const named = namedSigners(body);
  if (named === undefined) return `cannot tell which signer a ${entry.kindVersion?.kind ?? '?'} log entry names`;
  // A certificate signer must be logged as that very certificate (cosign compares the DER): the same
  // key in another certificate, or bare, would let an identity stand behind an entry the log
  // recorded for someone else. A key signer may be logged as the key or in any certificate for it.
  if ('certificate' in signer) {
    return named.some((der) => der.equals(signer.certificate)) ? undefined : 'log entry names another signer (certificate)';
  }
  return named.some((der) => der.equals(signer.spki) || spkiOf(der)?.equals(signer.spki) === true)
    ? undefined
    : 'log entry names another signer (key)';
}

/** The DER of each key or certificate the body names: rekor hashedrekord 0.0.1, intoto 0.0.2, dsse 0.0.1, and Rekor v2 0.0.2. */
function namedSigners(body: unknown): Buffer[] | undefined {
  const spec = field(body, 'spec');
  const version = field(body, 'apiVersion');
  switch (`${String(field(body, 'kind'))}/${String(version)}`) {
    case 'hashedrekord/0.0.1':
      return pems([field(field(field(spec, 'signature'), 'publicKey'), 'content')]);
    case 'intoto/0.0.2':
      return pems(list(field(field(field(spec, 'content'), 'envelope'), 'signatures')).map((s) => field(s, 'publicKey')));
    case 'dsse/0.0.1':
      return pems(list(field(spec, 'signatures')).map((s) => field(s, 'verifier')));
    case 'hashedrekord/0.0.2':
      return verifiers([field(field(field(spec, 'hashedRekordV002'), 'signature'), 'verifier')]);
    case 'dsse/0.0.2':
      return verifiers(list(field(field(spec, 'dsseV002'), 'signatures')).map((s) => field(s, 'verifier')));
    default:
      return undefined;
  }
}

/** Rekor v1 stores base64 of a PEM public key or certificate. */
function pems(values: readonly unknown[]): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (const value of values) {
    if (typeof value !== 'string') return undefined;
    const der = pemToDer(Buffer.from(value, 'base64').toString('utf8'));
    if (der === undefined) return undefined;
    out.push(der);
  }
  return out.length === 0 ? undefined : out;
}

/** Rekor v2 stores `{ x509Certificate: { rawBytes } }` or `{ publicKey: { rawBytes } }` (base64 DER). */
function verifiers(values: readonly unknown[]): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (const value of values) {
    const raw = field(field(value, 'x509Certificate'), 'rawBytes') ?? field(field(value, 'publicKey'), 'rawBytes');
    if (typeof raw !== 'string') return undefined;
    out.push(Buffer.from(raw, 'base64'));
  }
  return out.length === 0 ? undefined : out;
}

function pemToDer(pem: string): Buffer | undefined {
  const [block] = pemBlocks(pem, ['CERTIFICATE', 'PUBLIC KEY']);
  return block === undefined ? undefined : Buffer.from(block.base64, 'base64');
}

/** A DER certificate's SPKI, or a DER SPKI itself; undefined when neither. */
function spkiOf(der: Buffer): Buffer | undefined {
  return spkiOfCertificate(der) ?? spkiOfKey(der);
}

function spkiOfCertificate(der: Buffer): Buffer | undefined {
  try {
    return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}

function spkiOfKey(der: Buffer): Buffer | undefined {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}

function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}
