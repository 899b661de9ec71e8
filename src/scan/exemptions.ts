// Exemptions (a rule's `scan.allow`): a CVE that may pass, optionally only for some images, until it expires.
import { compilePattern } from '../oci/pattern.ts';
import type { ImagePattern } from '../oci/pattern.ts';
import type { Exemption, Finding } from './types.ts';

// Policies are compiled once and frozen, so each exemption's pattern is compiled once too.
const patterns = new WeakMap<Exemption, ImagePattern | null>();

function patternOf(exemption: Exemption): ImagePattern | null {
  let pattern = patterns.get(exemption);
  if (pattern === undefined) {
    try {
      pattern = compilePattern(exemption.repository!);
    } catch {
      pattern = null; // the policy schema rejects bad patterns; should one slip through, it matches nothing
    }
    patterns.set(exemption, pattern);
  }
  return pattern;
}

/** Whether this exemption covers the finding for this image right now (an exemption is over at `expires`). */
export function exempts(exemption: Exemption, finding: Finding, canonicalName: string, now: number): boolean {
  if (exemption.id.trim().toUpperCase() !== finding.id.toUpperCase()) return false;
  if (!(now < exemption.expires)) return false;
  if (exemption.repository === undefined) return true;
  return patternOf(exemption)?.test(canonicalName) ?? false;
}

/** The latest expiry among the exemptions that cover the finding, or undefined when none does. */
export function exemptUntil(allow: readonly Exemption[], finding: Finding, canonicalName: string, now: number): number | undefined {
  let until: number | undefined;
  for (const exemption of allow) {
    if (exempts(exemption, finding, canonicalName, now))
      until = until === undefined ? exemption.expires : Math.max(until, exemption.expires);
  }
  return until;
}
