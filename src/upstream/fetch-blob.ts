import { request } from 'undici';
import { TrustgateError } from '../errors/errors.ts';
import { digestOf, algorithmOf } from '../oci/digest.ts';
import type { Digest } from '../oci/reference.ts';
import type { RequestBudget } from './budget.ts';
import { planRedirect } from './redirect.ts';
import { repositoryPath, repositoryScope } from './registry-paths.ts';
import type { UpstreamClient } from './types.ts';
import { upstreamError } from './upstream-answer.ts';

/**
 * A small blob trustgate reads itself (signature payloads, envelopes, bundles, signature configs),
 * named by a descriptor (docs/wire-formats.md "Blobs and redirects"): the descriptor's size is
 * checked against the cap before the request, then the body length against the size, then the
 * digest. Redirects are followed only where blob redirects may go. A blob that is not there, or not
 * what its descriptor says, is UPSTREAM_BAD_RESPONSE (the artifact naming it is bad); a 5xx or no
 * answer fails as the upstream failing; 429 passes on.
 */
export async function fetchSmallBlob(
  client: UpstreamClient,
  repository: string,
  digest: Digest,
  size: number,
  maxBytes: number,
  budget: RequestBudget,
): Promise<Buffer> {
  const upstream = client.config;
  if (size > maxBytes) throw invalid(upstream.name, `blob ${digest} is ${size} bytes, over the ${maxBytes}-byte cap for signatures`);
  budget.spend();
  const response = await client.request({
    method: 'GET',
    path: repositoryPath(repository, `blobs/${digest}`),
    scope: repositoryScope(repository),
    maxBytes,
  });
  let body = response.body;
  const location = response.headers['location'];
  if (response.status >= 300 && response.status < 400 && location !== undefined) {
    body = await fromStorage(client, location, digest, maxBytes, budget);
  } else if (response.status !== 200) {
    throw upstreamError(upstream.name, { status: response.status, body: response.body, headers: response.headers, missing: 'named' });
  }
  if (body.length !== size) throw invalid(upstream.name, `blob ${digest} is ${body.length} bytes, its descriptor says ${size}`);
  if (digestOf(body, algorithmOf(digest)) !== digest) throw invalid(upstream.name, `blob ${digest} does not hash to its digest`);
  return body;
}

/** Reads a redirected blob from storage: only from the upstream's origin or `blobRedirects.allowedHosts`, never with credentials. */
async function fromStorage(
  client: UpstreamClient,
  location: string,
  digest: Digest,
  maxBytes: number,
  budget: RequestBudget,
): Promise<Buffer> {
  const upstream = client.config;
  const plan = planRedirect({ ...upstream, blobRedirects: { ...upstream.blobRedirects, mode: 'follow' } }, location);
  if (plan.action !== 'follow') throw invalid(upstream.name, `redirected signature blob ${digest} to a host the config does not allow`);
  budget.spend();
  // The upstream's timeouts apply here too (undici's defaults would wait 300 s): the whole read by headersMs + bodyIdleMs (+1 s grain, as in transport.ts).
  const { headersMs, bodyIdleMs } = upstream.timeouts;
  const signal = AbortSignal.timeout(headersMs + bodyIdleMs + 1_000);
  try {
    const followed = await request(plan.url, { method: 'GET', headersTimeout: headersMs, bodyTimeout: bodyIdleMs, signal });
    if (followed.statusCode !== 200) {
      followed.body.on('error', () => {}); // the abort that destroying it may raise is expected
      followed.body.destroy();
      throw upstreamError(upstream.name, { status: followed.statusCode, headers: flat(followed.headers), missing: 'named', storage: true });
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of followed.body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        followed.body.destroy();
        throw invalid(upstream.name, `blob ${digest} is over the ${maxBytes}-byte cap for signatures`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } catch (error) {
    if (error instanceof TrustgateError) throw error;
    if (signal.aborted)
      throw new TrustgateError(
        'UPSTREAM_TIMEOUT',
        `blob storage of upstream "${upstream.name}" did not send ${digest} within ${headersMs + bodyIdleMs} ms`,
      );
    throw upstreamError(upstream.name, { thrown: error, timeouts: upstream.timeouts, storage: true });
  }
}

function flat(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name] = value;
  return out;
}

function invalid(upstream: string, what: string): TrustgateError {
  return new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream "${upstream}" ${what}`);
}
