import type { UpstreamConfig } from '../config/types.ts';
import type { Redirects } from './redirect.ts';

export interface UpstreamRequest {
  readonly method: 'GET' | 'HEAD';
  /** Path and query on the upstream, starting with `/v2/`. Built by trustgate from validated parts only. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Docker token scope for this request, e.g. `repository:library/nginx:pull`. */
  readonly scope: string;
  /** Refuse bodies over this many bytes (UPSTREAM_MANIFEST_TOO_LARGE when exceeded). */
  readonly maxBytes: number;
  /** `return` hands a redirect back (blob reads follow storage redirects themselves); by default API redirects are followed. */
  readonly redirects?: 'follow' | 'return';
}

export interface UpstreamResponse {
  readonly status: number;
  /** Lower-cased header names; multi-valued headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The whole body (empty for HEAD). */
  readonly body: Buffer;
}

/**
 * One configured upstream registry. Handles credentials (Basic, static bearer, and the Docker
 * token flow on a `WWW-Authenticate: Bearer` challenge, with tokens cached per scope until they
 * expire), timeouts, bounded retries of idempotent requests, keep-alive pooling, the TLS trust
 * settings, and a cap on concurrent requests. It only ever talks to `config.url`'s origin and to
 * the token realm the upstream names on that same host… see `auth.ts` for the realm rule.
 */
export interface UpstreamClient {
  readonly config: UpstreamConfig;
  /** A bounded, buffered request: manifests, tag lists, referrers. */
  request(request: UpstreamRequest): Promise<UpstreamResponse>;
  /** The Authorization header value to send for `scope`, or undefined when anonymous access works. */
  authorization(scope: string): Promise<string | undefined>;
  /** This upstream's redirects (redirect.ts): every hop checked, pinned and bounded. */
  readonly redirects: Redirects;
  /** Called when a streamed request (blobs) got a 401, so the next `authorization()` fetches a new token. */
  invalidate(scope: string): void;
  close(): Promise<void>;
}
