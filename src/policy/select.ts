import type { ImagePattern } from '../oci/pattern.ts';
import type { Policy, Rule } from './types.ts';

/**
 * The most specific matching pattern wins (docs/design.md §2 "Policy"). Tie-breaks, in order:
 *   1. a pattern without `**` beats one with `**`;
 *   2. more literal characters beat fewer;
 *   3. fewer wildcards beat more;
 *   4. the rule written first in the file wins.
 * Returns undefined when no rule matches: the caller applies the default rule, which denies.
 */
export function selectRule(policy: Policy, canonicalName: string): Rule | undefined {
  let best: { rule: Rule; pattern: ImagePattern } | undefined;
  for (const rule of policy.rules) {
    for (const pattern of rule.images) {
      if (!pattern.test(canonicalName)) continue;
      if (best === undefined || moreSpecific(pattern, rule, best.pattern, best.rule)) best = { rule, pattern };
    }
  }
  return best?.rule;
}

function moreSpecific(a: ImagePattern, ruleA: Rule, b: ImagePattern, ruleB: Rule): boolean {
  const deepA = a.source.includes('**');
  const deepB = b.source.includes('**');
  if (deepA !== deepB) return !deepA;
  if (a.literalLength !== b.literalLength) return a.literalLength > b.literalLength;
  if (a.wildcards !== b.wildcards) return a.wildcards < b.wildcards;
  return ruleA.order < ruleB.order;
}
