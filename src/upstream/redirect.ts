// Upstream redirects (docs/redirects.md). A registry may answer a blob GET with a redirect to
// storage on another host (distribution-spec "Pulling blobs": 307 to a signed storage URL), and
// registry.k8s.io answers every API request with one. Each hop is checked here the same way,
// whoever will follow it: trustgate itself (signature blobs, `follow` mode, API redirects) or the
// client (`pass` mode).
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { parseNetworks, pickAddress, pinnedUndiciConnector, redirectGuard, type AddressGuard, type AddressResolver } from './egress.ts';

/** What a redirect leads to: blob content, or an API answer (manifest, tags, referrers, `/v2/`). */
export type RedirectKind = 'blob' | 'api';

export interface RedirectInit {
  readonly kind: RedirectKind;
  readonly method: 'GET' | 'HEAD';
  /** Headers trustgate built for the request (Accept, the client's Range): sent on every hop. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** trustgate's credentials for the upstream: sent only on hops to the upstream's own origin. */
  readonly authorization?: string | undefined;
  /** Aborts every hop and the final body (a caller's deadline); its reason is what the caller then sees. */
  readonly signal?: AbortSignal | undefined;
}

/** The answer at the end of the redirects: streamed, never buffered here. */
export interface Redirected {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Dispatcher.ResponseData['body'];
  /** Where the answer came from (never logged: a storage URL's query is a credential). */
  readonly url: URL;
}

export interface Redirects {
  /** Follows `location` (relative to `from`) hop by hop, each hop checked; the final answer's body is the caller's to read or discard. */
  follow(location: string, from: URL, init: RedirectInit): Promise<Redirected>;
  /** A blob redirect handed to the client in `pass` mode: the absolute URL, if host and addresses pass. */
  forClient(location: string, from: URL): Promise<string>;
  close(): Promise<void>;
}

/** The settings a refusal names, so the message says what to change. */
function settingFor(upstream: UpstreamConfig, kind: RedirectKind): string {
  return `${upstream.field}.${kind === 'blob' ? 'blobRedirects' : 'apiRedirects'}.allowedHosts`;
}

function refused(upstream: UpstreamConfig, host: string, why: string, setting: string): TrustgateError {
  return new TrustgateError(
    'UPSTREAM_REDIRECT_REFUSED',
    `upstream_redirect_refused: upstream ${JSON.stringify(upstream.name)} redirected to ${host}, ${why}; to allow it, change ${setting}`,
    { detail: { reason: 'upstream_redirect_refused', host, setting } },
  );
}

/**
 * Whether `url`'s host matches a pattern from config: `host[:port]`, where a `*` inside a DNS
 * label matches one or more letters, digits or hyphens of that label only (`*-docker.pkg.dev`,
 * `prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com`). Without a port, any port matches.
 */
export function hostMatches(pattern: string, url: URL): boolean {
  const colon = pattern.startsWith('[') ? pattern.indexOf(']:') + 1 : pattern.lastIndexOf(':');
  const host = (colon > 0 ? pattern.slice(0, colon) : pattern).toLowerCase();
  const port = colon > 0 ? pattern.slice(colon + 1) : undefined;
  const urlPort = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  if (port !== undefined && port !== urlPort) return false;
  const hostname = url.hostname.toLowerCase();
  if (!host.includes('*')) return host === hostname;
  const want = host.split('.');
  const have = hostname.split('.');
  if (want.length !== have.length) return false;
  return want.every((label, i) => new RegExp(`^${label.split('*').map(escape).join('[a-z0-9-]+')}$`).test(have[i]!));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type Hop = { readonly url: URL; readonly sameOrigin: boolean };

/** One hop's target, if its scheme and host are allowed (addresses are checked when connecting). */
export function planHop(upstream: UpstreamConfig, location: string, from: URL, kind: RedirectKind): Hop {
  let url: URL;
  try {
    url = new URL(location, from);
  } catch {
    throw refused(upstream, '(an unparseable location)', 'which is not a URL', settingFor(upstream, kind));
  }
  const origin = new URL(upstream.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw refused(upstream, url.protocol, 'which is not http or https', settingFor(upstream, kind));
  }
  if (url.username !== '' || url.password !== '')
    throw refused(upstream, url.host, 'a URL with credentials in it', settingFor(upstream, kind));
  if (url.origin === origin.origin) return { url, sameOrigin: true };
  // A downgrade from an https upstream to plain http would hand the content to anyone on the path.
  if (origin.protocol === 'https:' && url.protocol === 'http:') {
    throw refused(upstream, url.host, 'over plain http from an https upstream', settingFor(upstream, kind));
  }
  const allowed = kind === 'blob' ? upstream.blobRedirects.allowedHosts : upstream.apiRedirects.allowedHosts;
  if (!allowed.some((pattern) => hostMatches(pattern, url))) {
    const where = upstream.preset === undefined ? '' : ` (preset ${upstream.preset})`;
    throw refused(
      upstream,
      url.host,
      `which is not an allowed ${kind === 'blob' ? 'storage' : 'API redirect'} host${where}`,
      settingFor(upstream, kind),
    );
  }
  return { url, sameOrigin: false };
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number, location: string | undefined): location is string {
  return REDIRECT_STATUSES.has(status) && location !== undefined && location !== '';
}

/**
 * The redirect side of one upstream: two pinned agents, one for its own origin (no address
 * policy: the operator chose that host) and one for every other host (the address policy of
 * `blobRedirects.allowedNetworks`). Credentials go only to the upstream's own origin.
 */
export function createRedirects(upstream: UpstreamConfig, resolver: AddressResolver): Redirects {
  const networks = parseNetworks(upstream.blobRedirects.allowedNetworks);
  const guard: AddressGuard = redirectGuard(networks);
  const setting = `${upstream.field}.blobRedirects.allowedNetworks`;
  const onRefused = (host: string, why: string): TrustgateError => refused(upstream, host, why, setting);
  const { connectMs, headersMs, bodyIdleMs } = upstream.timeouts;
  const agent = (hopGuard: AddressGuard | undefined): Agent =>
    new Agent({
      headersTimeout: headersMs,
      bodyTimeout: bodyIdleMs,
      connections: upstream.maxConcurrentRequests,
      connect: pinnedUndiciConnector({ resolver, guard: hopGuard, onRefused, tls: upstream.tls, timeoutMs: connectMs }),
    });
  const own = agent(undefined);
  const foreign = agent(guard);
  const wholeAnswerDeadline = (): { signal: AbortSignal; clear: () => void } => {
    const controller = new AbortController();
    const ms = headersMs + bodyIdleMs;
    const timer = setTimeout(
      () =>
        controller.abort(
          new TrustgateError(
            'UPSTREAM_TIMEOUT',
            `upstream ${JSON.stringify(upstream.name)} did not send its whole redirected answer within ${ms} ms`,
          ),
        ),
      ms + 1_000,
    );
    timer.unref();
    return { signal: controller.signal, clear: () => clearTimeout(timer) };
  };

  return {
    async follow(location, from, init) {
      let hop = planHop(upstream, location, from, init.kind);
      // An API answer is buffered, so it must arrive whole within headersMs + bodyIdleMs (+1 s,
      // undici's timer grain) however many hops it takes, as a direct answer must (transport.ts):
      // otherwise a mirror trickling a byte per bodyIdleMs holds the request forever.
      const deadline = init.kind === 'api' ? wholeAnswerDeadline() : undefined;
      const signals = [init.signal, deadline?.signal].filter((signal) => signal !== undefined);
      const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
      try {
        for (let hops = 1; ; hops++) {
          const headers: Record<string, string> = { ...init.headers, 'user-agent': 'trustgate' };
          if (hop.sameOrigin && init.authorization !== undefined) headers['authorization'] = init.authorization;
          const answer = await request(hop.url, { method: init.method, headers, dispatcher: hop.sameOrigin ? own : foreign, signal });
          const next = flat(answer.headers)['location'];
          if (!isRedirect(answer.statusCode, next)) {
            if (deadline !== undefined) answer.body.once('close', deadline.clear);
            return { status: answer.statusCode, headers: flat(answer.headers), body: answer.body, url: hop.url };
          }
          answer.body.on('error', () => {});
          answer.body.destroy();
          if (hops >= upstream.blobRedirects.maxHops) {
            throw refused(upstream, hop.url.host, `which redirected again after ${hops} hops`, `${upstream.field}.blobRedirects.maxHops`);
          }
          hop = planHop(upstream, next, hop.url, init.kind);
        }
      } catch (error) {
        deadline?.clear();
        throw error;
      }
    },

    async forClient(location, from) {
      const hop = planHop(upstream, location, from, 'blob');
      if (!hop.sameOrigin) {
        const port = Number(hop.url.port !== '' ? hop.url.port : hop.url.protocol === 'https:' ? 443 : 80);
        await pickAddress(resolver, hop.url.hostname.replace(/^\[|\]$/g, ''), port, guard, onRefused);
      }
      return hop.url.href;
    },

    async close() {
      await Promise.all([own.close(), foreign.close()]);
    },
  };
}

function flat(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[name.toLowerCase()] = value;
    else if (Array.isArray(value)) out[name.toLowerCase()] = value.join(', ');
  }
  return out;
}
