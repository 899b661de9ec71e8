import type { Revocation, TrustEntry, TrustSnapshot } from '../trust/types.ts';
import { fingerprintOf } from '../trust/trust-pem.ts';

/** A trust entry as the admin API shows it (and audits it): public data only, never the PEM. */
export interface KeyView {
  readonly id: string;
  readonly kind: TrustEntry['kind'];
  readonly scopes: readonly string[];
  readonly purposes: readonly string[];
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly origin: TrustEntry['origin'];
  readonly status: 'active' | 'revoked';
  readonly revokedAt?: string;
  readonly reason?: string;
  /** `sha256:<hex>` of the SPKI DER (keys) or the certificate DER (roots); `unparsable` for a broken entry. */
  readonly fingerprint: string;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function keyView(entry: TrustEntry, revocation: Revocation | undefined): KeyView {
  const notBefore = iso(entry.notBefore);
  const notAfter = iso(entry.notAfter);
  return {
    id: entry.id,
    kind: entry.kind,
    scopes: entry.scopes,
    purposes: entry.purposes,
    ...(notBefore === undefined ? {} : { notBefore }),
    ...(notAfter === undefined ? {} : { notAfter }),
    origin: entry.origin,
    status: revocation === undefined ? 'active' : 'revoked',
    ...(revocation === undefined ? {} : { revokedAt: new Date(revocation.revokedAt).toISOString(), reason: revocation.reason }),
    fingerprint: fingerprintOf(entry.kind, entry.pem, entry.trustedRoot) ?? 'unparsable',
  };
}

/** The entry `id` of a snapshot, viewed; undefined when the store has no entry for it. */
export function findKey(snapshot: TrustSnapshot, id: string): { entry: TrustEntry; view: KeyView } | undefined {
  const entry = snapshot.entries.find((e) => e.id === id);
  if (entry === undefined) return undefined;
  return {
    entry,
    view: keyView(
      entry,
      snapshot.revocations.find((r) => r.id === id),
    ),
  };
}

/** Whether the entry counts at `now`: not revoked and inside its validity window. */
export function validAt(view: KeyView, entry: TrustEntry, now: number): boolean {
  return (
    view.status === 'active' &&
    (entry.notBefore === undefined || now >= entry.notBefore) &&
    (entry.notAfter === undefined || now < entry.notAfter)
  );
}
