import { checkSource, SOURCE_RULE } from './source-check.ts';
import type { Decision, Gate, PullContext } from './types.ts';

/**
 * The manifest gate: checks run in order and the first denial wins. The proxy already refused
 * unlisted sources before going upstream; the gate checks again so it is safe on its own.
 * Signature and scan checks plug in after the source check.
 */
export function createGate(): Gate {
  return {
    async decide(context: PullContext): Promise<Decision> {
      const denied = checkSource(context);
      if (denied !== undefined) return { ...denied, digest: context.manifest.digest };
      return { outcome: 'allow', rule: SOURCE_RULE, reasons: [], signers: [], digest: context.manifest.digest, notAfter: undefined };
    },
  };
}
