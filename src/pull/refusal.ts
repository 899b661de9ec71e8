import type { Decision } from '../decision/decision.ts';
import { denialError } from '../decision/denial.ts';
import type { TrustgateError } from '../errors/errors.ts';
import type { Exchange } from '../server/exchange.ts';

/**
 * The error that refuses a `/v2` request the gate, the allowlist, pull access or the blob gate
 * denied: the OCI DENIED error, whose message says why. A HEAD answer has no body, so containerd,
 * which resolves with HEAD, only sees `403 Forbidden`; a HEAD refusal therefore also carries a
 * `Warning` with the reason code and the request id (README "Pointing clients at trustgate").
 */
export function refusal(exchange: Exchange, decision: Decision, canonicalName: string): TrustgateError {
  if (exchange.isHead) exchange.res.setHeader('warning', denialWarning(decision, exchange.requestId));
  return denialError(decision, canonicalName);
}

/**
 * RFC 9111 §5.5 (RFC 7234 §5.5): warn-code 299 (miscellaneous persistent warning), the pseudonym
 * `trustgate` as warn-agent, and a quoted warn-text of two ASCII tokens: the primary reason code and
 * `request-id=<id>`. Never an image name or free text, so nothing in it needs escaping or leaks.
 */
export function denialWarning(decision: Decision, requestId: string): string {
  return reasonWarning(decision.reasons[0]?.code ?? 'denied', requestId);
}

/** The same Warning for a refusal that is not a decision: a redirect the config does not allow (upstream_redirect_refused). */
export function reasonWarning(code: string, requestId: string): string {
  const token = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return `299 trustgate "${token(code)} request-id=${token(requestId)}"`;
}
