// One POST to one webhook (docs/notifications.md "Delivery"). The connection goes to the address
// the name resolved to, after #11's address checks (upstream/egress.ts), with TLS verified against
// the name; a redirect is an answer, never followed. Nothing here names the URL: it is a secret.
import { Agent, request } from 'undici';
import { TrustgateError, isTrustgateError } from '../errors/errors.ts';
import { parseNetworks, pinnedUndiciConnector, redirectGuard, systemResolver, type AddressResolver } from '../upstream/egress.ts';

/** How an attempt ended: `status` for an answer, else why it never got one. */
export type SendOutcome =
  | { readonly kind: 'answer'; readonly status: number; readonly retryAfterMs: number | undefined }
  | { readonly kind: 'refused'; readonly why: string }
  | { readonly kind: 'network'; readonly code: string };

export interface Sender {
  send(url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal): Promise<SendOutcome>;
  close(): Promise<void>;
}

export interface SenderOptions {
  readonly resolver?: AddressResolver | undefined;
  /** `notifications.allowedNetworks`: special ranges an endpoint may resolve into. */
  readonly allowedNetworks: readonly string[];
  readonly connectTimeoutMs: number;
}

/** Marks the address policy's refusal apart from network failures: its message says why, and names no host. */
const refusal = (_host: string, why: string): TrustgateError => new TrustgateError('UPSTREAM_REDIRECT_REFUSED', why);

export function createSender(options: SenderOptions): Sender {
  const agent = new Agent({
    connect: pinnedUndiciConnector({
      resolver: options.resolver ?? systemResolver,
      guard: redirectGuard(parseNetworks(options.allowedNetworks)),
      onRefused: refusal,
      tls: {},
      timeoutMs: options.connectTimeoutMs,
    }),
  });
  return {
    async send(url, headers, body, timeoutMs, signal) {
      try {
        const answer = await request(url, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        await answer.body.dump({ limit: 65_536 }).catch(() => {});
        return { kind: 'answer', status: answer.statusCode, retryAfterMs: retryAfter(answer.headers['retry-after']) };
      } catch (error) {
        if (isTrustgateError(error) && error.code === 'UPSTREAM_REDIRECT_REFUSED') return { kind: 'refused', why: error.message };
        const code = (error as { code?: unknown }).code;
        const name = (error as { name?: unknown }).name;
        return { kind: 'network', code: typeof code === 'string' ? code : typeof name === 'string' ? name : 'error' };
      }
    },
    close: () => agent.close(),
  };
}

/** `Retry-After` in seconds (a date form is ignored: the backoff applies). */
function retryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\d{1,6}$/.test(text) ? Number(text) * 1000 : undefined;
}
