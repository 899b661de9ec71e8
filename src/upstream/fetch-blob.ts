import { isTrustgateError, TrustgateError } from '../errors/errors.ts';
import { digestOf, algorithmOf } from '../oci/digest.ts';
import type { Digest } from '../oci/reference.ts';
import type { RequestBudget } from './budget.ts';
import { isRedirect } from './redirect.ts';
import { readCapped } from './capped-body.ts';
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
    redirects: 'return',
  });
  let body = response.body;
  const location = response.headers['location'];
  if (isRedirect(response.status, location)) {
    const from = new URL(`${client.config.url}${repositoryPath(repository, `blobs/${digest}`)}`);
    body = await fromStorage(client, location, from, digest, maxBytes, budget, await client.authorization(repositoryScope(repository)));
  } else if (response.status !== 200) {
    throw upstreamError(upstream.name, { status: response.status, body: response.body, headers: response.headers, missing: 'named' });
  }
  if (body.length !== size) throw invalid(upstream.name, `blob ${digest} is ${body.length} bytes, its descriptor says ${size}`);
  if (digestOf(body, algorithmOf(digest)) !== digest) throw invalid(upstream.name, `blob ${digest} does not hash to its digest`);
  return body;
}

/**
 * Reads a redirected blob through the upstream's redirects (redirect.ts): allowed hosts only,
 * addresses checked and pinned, hops bounded, credentials only to the upstream's own origin. A
 * refusal stays UPSTREAM_REDIRECT_REFUSED (a config or egress matter, never a bad signature).
 */
async function fromStorage(
  client: UpstreamClient,
  location: string,
  from: URL,
  digest: Digest,
  maxBytes: number,
  budget: RequestBudget,
  authorization: string | undefined,
): Promise<Buffer> {
  const upstream = client.config;
  budget.spend();
  // The upstream's timeouts apply here too (undici's defaults would wait 300 s): the whole read by headersMs + bodyIdleMs (+1 s grain, as in transport.ts).
  const { headersMs, bodyIdleMs } = upstream.timeouts;
  const deadline = AbortSignal.timeout(headersMs + bodyIdleMs + 1_000);
  try {
    // The deadline covers the hops too: slow hops must not use it up before the body's watch starts.
    const followed = await client.redirects.follow(location, from, { kind: 'blob', method: 'GET', authorization, signal: deadline });
    const timer = () => followed.body.destroy(new Error('deadline'));
    deadline.addEventListener('abort', timer, { once: true });
    try {
      if (followed.status !== 200) {
        followed.body.on('error', () => {}); // the abort that destroying it may raise is expected
        followed.body.destroy();
        throw upstreamError(upstream.name, { status: followed.status, headers: followed.headers, missing: 'named', storage: true });
      }
      return await readCapped(followed.body, followed.headers['content-length'], maxBytes, upstream.name).catch((error: unknown) => {
        if (isTrustgateError(error) && error.code === 'UPSTREAM_MANIFEST_TOO_LARGE')
          throw invalid(upstream.name, `blob ${digest} is over the ${maxBytes}-byte cap for signatures`);
        throw error;
      });
    } finally {
      deadline.removeEventListener('abort', timer);
    }
  } catch (error) {
    if (error instanceof TrustgateError) throw error;
    if (deadline.aborted)
      throw new TrustgateError(
        'UPSTREAM_TIMEOUT',
        `blob storage of upstream "${upstream.name}" did not send ${digest} within ${headersMs + bodyIdleMs} ms`,
      );
    throw upstreamError(upstream.name, { thrown: error, timeouts: upstream.timeouts, storage: true });
  }
}

function invalid(upstream: string, what: string): TrustgateError {
  return new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream "${upstream}" ${what}`);
}
