// Every scenario, in the order they run and are reported. Add new ones here.
import { blob10Mib, blob10MibCached } from './scenarios/blob-10mib.ts';
import { blob1Gib, blob1GibCached } from './scenarios/blob-1gib.ts';
import { coldStart } from './scenarios/cold-start.ts';
import { coldVerification, coldVerificationKeyless, coldVerificationKeylessBundle } from './scenarios/cold-verification.ts';
import { manifestGetByDigest } from './scenarios/manifest-get-by-digest.ts';
import { manifestGetByTag } from './scenarios/manifest-get-by-tag.ts';
import { manifestHeadByTag } from './scenarios/manifest-head-by-tag.ts';
import { thunderingHerd } from './scenarios/thundering-herd.ts';
import type { Scenario } from './types.ts';

export const SCENARIOS: readonly Scenario[] = [
  manifestGetByTag,
  manifestGetByDigest,
  manifestHeadByTag,
  blob10Mib,
  blob10MibCached,
  blob1Gib,
  blob1GibCached,
  coldStart,
  coldVerification,
  coldVerificationKeyless,
  coldVerificationKeylessBundle,
  thunderingHerd,
];

/** The scenarios named by --only (all when undefined); throws on an unknown name. */
export function selectScenarios(only: readonly string[] | undefined): Scenario[] {
  if (only === undefined) return [...SCENARIOS];
  const unknown = only.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  return SCENARIOS.filter((s) => only.includes(s.name));
}
