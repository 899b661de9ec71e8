/**
 * The trust store: public keys (cosign), X.509 roots (notation), sigstore trust roots (keyless and
 * BYO PKI certificates, transparency logs, CT logs) and timestamp-authority roots (notation
 * countersignatures), with what each may do. Entries are plain data; `compileTrust` turns a snapshot
 * into the verifier's TrustMaterial once per version, never per pull (docs/keyless.md).
 */
export type TrustKind = 'key' | 'notation-root' | 'sigstore-root' | 'tsa';
export type Purpose = 'sign' | 'scan';

export interface TrustEntry {
  readonly id: string;
  readonly kind: TrustKind;
  /**
   * PEM, never a private key: an SPKI public key (`key`), a certificate (`notation-root`, `tsa`), or
   * for a `sigstore-root` given as PEM (bring-your-own PKI) its certificates: self-signed ones are
   * the anchors, the others only build chains. Empty for a `sigstore-root` given as `trustedRoot`.
   */
  readonly pem: string;
  /**
   * `sigstore-root` only: a sigstore `TrustedRoot` (protobuf-specs trusted_root.json) as JSON text:
   * Fulcio CAs, Rekor logs, CT logs and timestamp authorities, each with its validity window.
   */
  readonly trustedRoot?: string;
  /** Image patterns over canonical names this entry may sign for. */
  readonly scopes: readonly string[];
  readonly purposes: readonly Purpose[];
  /** Epoch ms; the entry counts only inside [notBefore, notAfter). */
  readonly notBefore?: number;
  readonly notAfter?: number;
  /** Where it came from: the `keys/` directory or the admin API. */
  readonly origin: 'file' | 'api';
}

/** A revocation is a tombstone: sticky across restarts and reloads of `keys/`. */
export interface Revocation {
  readonly id: string;
  /** Epoch ms. A key-based signature has no trusted time, so it stops counting at once for every signature. */
  readonly revokedAt: number;
  readonly reason: string;
}

export interface TrustSnapshot {
  /** Bumped on every change; part of every verdict cache key. */
  readonly version: number;
  readonly entries: readonly TrustEntry[];
  readonly revocations: readonly Revocation[];
}

/**
 * Shared trust state. Reads are synchronous from the last snapshot the process holds, so a Redis
 * outage keeps the last known store (fail static). Every change bumps the version and notifies
 * every replica.
 */
export interface TrustStore {
  snapshot(): TrustSnapshot;
  /** Adds or replaces entries (e.g. from `keys/`); a revoked id stays revoked. */
  upsert(entries: readonly TrustEntry[]): Promise<TrustSnapshot>;
  /**
   * Upserts the entries of `keys/` (origin `file`), skipping ids whose stored entry came from the
   * admin API (origin `api`): what the API created or changed is not undone by a reload. Skipped
   * ids are logged; a revoked id stays revoked, as with `upsert`.
   */
  upsertFromFiles(entries: readonly TrustEntry[]): Promise<TrustSnapshot>;
  revoke(id: string, reason: string, at: number): Promise<TrustSnapshot>;
  /** Called with each new snapshot, from this or another replica. Returns an unsubscribe function. */
  onChange(listener: (snapshot: TrustSnapshot) => void): () => void;
  close(): Promise<void>;
}
