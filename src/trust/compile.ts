import { createPublicKey, X509Certificate } from 'node:crypto';
import { compilePattern, type ImagePattern } from '../oci/pattern.ts';
import type { SigstoreRoot, TrustedKey, TrustedRoot, TrustMaterial } from '../verify/types.ts';
import { compileSigstoreRoot } from './sigstore-root.ts';
import type { Revocation, TrustEntry, TrustSnapshot } from './types.ts';

export interface CompiledEntry {
  readonly entry: TrustEntry;
  readonly scopes: readonly ImagePattern[];
}

/** A snapshot turned into what verification and policy need, once per trust version (never per pull). */
export interface CompiledTrust {
  readonly version: number;
  readonly byId: ReadonlyMap<string, CompiledEntry>;
  readonly revoked: ReadonlyMap<string, Revocation>;
  readonly material: TrustMaterial;
  /** Entries whose PEM could not be parsed; they never verify anything. */
  readonly broken: readonly { readonly id: string; readonly problem: string }[];
}

export function compileTrust(snapshot: TrustSnapshot): CompiledTrust {
  const byId = new Map<string, CompiledEntry>();
  const keys: TrustedKey[] = [];
  const roots: TrustedRoot[] = [];
  const sigstoreRoots: SigstoreRoot[] = [];
  const tsaRoots: TrustedRoot[] = [];
  const broken: { id: string; problem: string }[] = [];
  for (const entry of snapshot.entries) {
    try {
      byId.set(entry.id, { entry, scopes: entry.scopes.map(compilePattern) });
      switch (entry.kind) {
        case 'key':
          keys.push({ id: entry.id, publicKey: createPublicKey(entry.pem) });
          break;
        case 'notation-root':
          roots.push({ id: entry.id, certificate: new X509Certificate(entry.pem) });
          break;
        case 'tsa':
          tsaRoots.push({ id: entry.id, certificate: new X509Certificate(entry.pem) });
          break;
        case 'sigstore-root':
          sigstoreRoots.push(compileSigstoreRoot(entry));
          break;
      }
    } catch (error) {
      byId.delete(entry.id);
      broken.push({ id: entry.id, problem: (error as Error).message });
    }
  }
  return {
    version: snapshot.version,
    byId,
    revoked: new Map(snapshot.revocations.map((r) => [r.id, r])),
    material: { keys, roots, sigstoreRoots, tsaRoots },
    broken,
  };
}
