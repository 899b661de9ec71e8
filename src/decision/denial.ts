import { TrustgateError } from '../errors/errors.ts';
import type { Decision } from './decision.ts';

/** The OCI DENIED error for a refused pull. skopeo and kubelet print only `message`, so it carries the reason. */
export function denialError(decision: Decision, canonicalName: string): TrustgateError {
  const because = decision.reasons.map((r) => r.message).join('; ');
  return new TrustgateError('DENIED', `trustgate denied ${canonicalName} (rule "${decision.rule}"): ${because}`, {
    detail: {
      name: canonicalName,
      ...(decision.digest === undefined ? {} : { digest: decision.digest }),
      rule: decision.rule,
      reasons: decision.reasons.map((r) => r.code),
    },
  });
}
