import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent, request } from 'undici';
import type { UpstreamConfig } from '../config/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { copyBlobHeaders } from './blob-headers.ts';

export type RedirectPlan =
  | { readonly action: 'pass'; readonly location: string }
  | { readonly action: 'follow'; readonly url: URL; readonly sameOrigin: boolean }
  | { readonly action: 'refuse'; readonly host: string };

/**
 * What to do with an upstream blob redirect (distribution api.md "Pulling a Layer": 307 to storage).
 * `pass` hands the absolute URL to the client, which verifies the blob digest itself. `follow`
 * streams it only from the upstream's own origin or a host the config lists: no SSRF.
 */
export function planRedirect(upstream: UpstreamConfig, location: string): RedirectPlan {
  let url: URL;
  try {
    url = new URL(location, `${upstream.url}/`);
  } catch {
    return { action: 'refuse', host: '(unparseable)' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { action: 'refuse', host: url.protocol };
  if (upstream.blobRedirects.mode === 'pass') return { action: 'pass', location: url.href };
  const sameOrigin = url.origin === new URL(upstream.url).origin;
  if (sameOrigin || upstream.blobRedirects.allowedHosts.includes(url.host)) return { action: 'follow', url, sameOrigin };
  return { action: 'refuse', host: url.host };
}

/** Streams a followed redirect to the client. Authorization never crosses to another host (distribution-spec). */
export async function followRedirect(
  agent: Agent,
  url: URL,
  authorization: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  upstream: UpstreamConfig,
): Promise<void> {
  const headers: Record<string, string> = {};
  if (typeof req.headers.range === 'string') headers['range'] = req.headers.range;
  if (authorization !== undefined) headers['authorization'] = authorization;
  let answer;
  try {
    answer = await request(url, { method: req.method === 'HEAD' ? 'HEAD' : 'GET', headers, dispatcher: agent });
  } catch (error) {
    throw new TrustgateError('UPSTREAM_UNREACHABLE', `blob storage of upstream "${upstream.name}" is unreachable`, { cause: error });
  }
  if (answer.statusCode !== 200 && answer.statusCode !== 206) {
    answer.body.resume();
    throw new TrustgateError('UPSTREAM_BAD_RESPONSE', `blob storage of upstream "${upstream.name}" answered ${answer.statusCode}`);
  }
  res.writeHead(answer.statusCode, copyBlobHeaders(answer.headers));
  await pipeline(answer.body, res);
}
