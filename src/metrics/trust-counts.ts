import type { CompiledTrust } from '../trust/compile.ts';

/** What the trust-store gauges show: entries that count (not revoked) and revocations. */
export function compiledTrustCounts(trust: CompiledTrust): { version: number; active: number; revoked: number } {
  let active = 0;
  for (const id of trust.byId.keys()) if (!trust.revoked.has(id)) active += 1;
  return { version: trust.version, active, revoked: trust.revoked.size };
}
