// A Rekor-like transparency log for the local sigstore kit: an RFC 6962 Merkle tree over
// canonicalized entry bodies, signed entry timestamps (SETs) and signed-note checkpoints, plus the
// hashedrekord 0.0.1 / intoto 0.0.2 / dsse 0.0.1 body builders. Everything in memory, keyed at test
// time. No src/ imports.
import { createHash, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ecKeyPair, spkiDer } from './sigstore-pki.ts';
import type { KeyPair } from './sigstore-pki.ts';

const sha256 = (...parts: readonly Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 8785 (JCS) for the values rekor bodies hold: keys sorted by UTF-16 code units, no whitespace, integers only. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`canonicalJson: non-integer ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// RFC 6962 §2.1 Merkle Tree Hash and audit paths

export const leafHash = (data: Buffer): Buffer => sha256(Buffer.from([0x00]), data);
const nodeHash = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([0x01]), left, right);

/** Largest power of two strictly less than n (n > 1). */
const split = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/** MTH(D[n]) over leaf hashes. */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** PATH(m, D[n]): sibling hashes from the leaf upwards (§2.1.1). */
export function auditPath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), merkleRoot(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), merkleRoot(leaves.slice(0, k))];
}

// ---------------------------------------------------------------------------------------------
// The log

export interface InclusionProof {
  /** Index in this tree (rekor: the shard-local index). */
  logIndex: number;
  rootHash: Buffer;
  treeSize: number;
  hashes: Buffer[];
  checkpoint: { envelope: string };
}

export interface LogEntry {
  /** Rekor's global log index: tree index + the log's shard offset. */
  logIndex: number;
  /** Seconds since the epoch. */
  integratedTime: number;
  canonicalizedBody: Buffer;
  /** SHA-256 of the log's SPKI DER. */
  logID: Buffer;
  signedEntryTimestamp: Buffer;
  inclusionProof: InclusionProof;
}

export interface RekorLogSpec {
  /** The checkpoint signer name; the trusted root's baseUrl must contain it (sigstore-js matches it). */
  name?: string;
  /** Dummy entries before the first real one (default 100), so proofs have several hashes. */
  padBefore?: number;
  /** Dummy entries appended after each real entry (default 3), so proofs exercise inner and border nodes. */
  padAfter?: number;
  /** Added to tree indexes to give rekor's global logIndex (default 0; rekor.sigstore.dev shards do this). */
  shardOffset?: number;
  treeId?: string;
  key?: KeyPair;
}

export interface AppendOptions {
  /** Sign the SET with this key instead of the log's (a forged promise that still claims this logID). */
  setKey?: KeyObject;
  /** Sign the checkpoint with this key instead of the log's. */
  checkpointKey?: KeyObject;
}

export interface RekorLog {
  name: string;
  /** `https://<name>`: what the trusted root lists as baseUrl. */
  baseUrl: string;
  origin: string;
  key: KeyPair;
  spki: Buffer;
  logID: Buffer;
  shardOffset: number;
  readonly size: number;
  append(body: object, integratedTime: Date, options?: AppendOptions): LogEntry;
  /** A proof for tree index `index` against the current tree, its checkpoint signed by the log (or `key`). */
  proof(index: number, key?: KeyObject): InclusionProof;
}

/** The SET: the log signs canonical JSON {body, integratedTime, logIndex, logID} (rekor pkg/api/entries.go signEntry). */
export function signEntryTimestamp(
  key: KeyObject,
  entry: { canonicalizedBody: Buffer; integratedTime: number; logIndex: number; logID: Buffer },
): Buffer {
  const payload = canonicalJson({
    body: entry.canonicalizedBody.toString('base64'),
    integratedTime: entry.integratedTime,
    logID: entry.logID.toString('hex'),
    logIndex: entry.logIndex,
  });
  return sign('sha256', Buffer.from(payload), key);
}

/**
 * transparency-dev/formats log/README.md checkpoint in a C2SP signed note: origin, size, base64 root
 * hash, each on its own line; a blank line; then `— <name> <base64(keyhint ‖ signature)>`, the key
 * hint being the first 4 bytes of the log ID (SHA-256 of the SPKI), the signature ECDSA over the note text.
 */
export function signCheckpoint(log: { origin: string; name: string; logID: Buffer }, key: KeyObject, size: number, root: Buffer): string {
  const note = `${log.origin}\n${size}\n${root.toString('base64')}\n`;
  const signature = sign('sha256', Buffer.from(note), key);
  return `${note}\n\u2014 ${log.name} ${Buffer.concat([log.logID.subarray(0, 4), signature]).toString('base64')}\n`;
}

const dummy = (n: number): Buffer => Buffer.from(canonicalJson({ dummy: n, nonce: randomBytes(8).toString('hex') }));

export function makeRekorLog(spec: RekorLogSpec = {}): RekorLog {
  const name = spec.name ?? 'rekor.local';
  const key = spec.key ?? ecKeyPair('P-256');
  const spki = spkiDer(key.publicKey);
  const logID = sha256(spki);
  const shardOffset = spec.shardOffset ?? 0;
  const leaves: Buffer[] = [];
  const padAfter = spec.padAfter ?? 3;
  for (let i = 0; i < (spec.padBefore ?? 100); i++) leaves.push(leafHash(dummy(i)));
  const log = {
    name,
    baseUrl: `https://${name}`,
    origin: `${name} - ${spec.treeId ?? '1193050959916656506'}`,
    key,
    spki,
    logID,
    shardOffset,
    get size(): number {
      return leaves.length;
    },
    proof(index: number, signer: KeyObject = key.privateKey): InclusionProof {
      const rootHash = merkleRoot(leaves);
      return {
        logIndex: index,
        rootHash,
        treeSize: leaves.length,
        hashes: auditPath(index, leaves),
        checkpoint: { envelope: signCheckpoint(log, signer, leaves.length, rootHash) },
      };
    },
    append(body: object, integratedTime: Date, options: AppendOptions = {}): LogEntry {
      const canonicalizedBody = Buffer.from(canonicalJson(body));
      const index = leaves.length;
      leaves.push(leafHash(canonicalizedBody));
      for (let i = 0; i < padAfter; i++) leaves.push(leafHash(dummy(leaves.length)));
      const entry = {
        canonicalizedBody,
        integratedTime: Math.floor(integratedTime.getTime() / 1000),
        logIndex: index + shardOffset,
        logID,
      };
      return {
        ...entry,
        signedEntryTimestamp: signEntryTimestamp(options.setKey ?? key.privateKey, entry),
        inclusionProof: log.proof(index, options.checkpointKey),
      };
    },
  };
  return log;
}

// ---------------------------------------------------------------------------------------------
// Entry bodies (rekor pkg/types/*; sigstore-js @sigstore/verify dist/tlog/{hashedrekord,intoto,dsse}.js)

export type EntryKind = 'hashedrekord' | 'intoto' | 'dsse';

export const KIND_VERSIONS: Record<EntryKind, string> = { hashedrekord: '0.0.1', intoto: '0.0.2', dsse: '0.0.1' };

const b64 = (data: Buffer | string): string => Buffer.from(data).toString('base64');

/**
 * hashedrekord 0.0.1: the signature, the signer's PEM certificate or public key (base64 of the PEM
 * text), and the SHA-256 of the signed artifact. Verifiers compare the signature and the digest.
 */
export function hashedRekordBody(signature: Buffer, signerPem: string, artifactDigest: Buffer): object {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: artifactDigest.toString('hex') } },
      signature: { content: b64(signature), publicKey: { content: b64(signerPem) } },
    },
  };
}

export interface DsseLogInput {
  payloadType: string;
  payload: Buffer;
  signature: Buffer;
  signerPem: string;
  /** Recorded payloadHash; default SHA-256 of `payload` (pass another to log a different payload). */
  payloadDigest?: Buffer;
}

const payloadHash = (d: DsseLogInput): object => ({ algorithm: 'sha256', value: (d.payloadDigest ?? sha256(d.payload)).toString('hex') });

/** The envelope as submitted to rekor (DSSE JSON, std base64). */
const envelopeJson = (d: DsseLogInput): string =>
  JSON.stringify({ payload: b64(d.payload), payloadType: d.payloadType, signatures: [{ keyid: '', sig: b64(d.signature) }] });

/**
 * intoto 0.0.2 as rekor stores it: the envelope without its payload, each `sig` base64-encoded once
 * more (sigstore-js decodes twice), the verifier's PEM base64; hash = envelope digest, payloadHash = payload digest.
 */
export function intotoBody(d: DsseLogInput): object {
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: { payloadType: d.payloadType, signatures: [{ publicKey: b64(d.signerPem), sig: b64(b64(d.signature)) }] },
        hash: { algorithm: 'sha256', value: sha256(Buffer.from(envelopeJson(d))).toString('hex') },
        payloadHash: payloadHash(d),
      },
    },
  };
}

/** dsse 0.0.1: envelopeHash, payloadHash and [{signature, verifier}] with the verifier's PEM base64. */
export function dsseBody(d: DsseLogInput): object {
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelopeJson(d))).toString('hex') },
      payloadHash: payloadHash(d),
      signatures: [{ signature: b64(d.signature), verifier: b64(d.signerPem) }],
    },
  };
}
