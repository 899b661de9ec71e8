import { request } from 'undici';
import { TrustgateError } from '../errors/errors.ts';
import { digestOf, algorithmOf } from '../oci/digest.ts';
import type { Digest } from '../oci/reference.ts';
import { planRedirect } from './redirect.ts';
import { upstreamFailure } from './upstream-answer.ts';
import { toUpstreamError } from './transport-errors.ts';
import type { UpstreamClient } from './types.ts';
import type { RequestBudget } from './budget.ts';
import { upstreamUnavailable } from './fetch-json.ts';

/**
 * A small blob trustgate reads itself (signature payloads, envelopes, bundles): size checked before
 * hashing, then the digest (docs/wire-formats.md "Blobs and redirects"). Redirects are followed only where blob redirects may go.
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
    path: `/v2/${repository}/blobs/${digest}`,
    scope: `repository:${repository}:pull`,
    maxBytes,
  });
  let body = response.body;
  if (response.status >= 300 && response.status < 400 && response.headers['location'] !== undefined) {
    const plan = planRedirect({ ...upstream, blobRedirects: { ...upstream.blobRedirects, mode: 'follow' } }, response.headers['location']);
    if (plan.action !== 'follow') throw invalid(upstream.name, `redirected signature blob ${digest} to a host the config does not allow`);
    budget.spend();
    // The upstream's timeouts apply here too (undici's defaults would wait 300 s): the whole read by headersMs + bodyIdleMs (+1 s grain, as in transport.ts).
    const { headersMs, bodyIdleMs } = upstream.timeouts;
    const signal = AbortSignal.timeout(headersMs + bodyIdleMs + 1_000);
    try {
      const followed = await request(plan.url, { method: 'GET', headersTimeout: headersMs, bodyTimeout: bodyIdleMs, signal });
      if (followed.statusCode !== 200) throw invalid(upstream.name, `blob storage answered ${followed.statusCode} for ${digest}`);
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
      body = Buffer.concat(chunks);
    } catch (error) {
      if (error instanceof TrustgateError) throw error;
      if (signal.aborted)
        throw new TrustgateError(
          'UPSTREAM_TIMEOUT',
          `blob storage of upstream "${upstream.name}" did not send ${digest} within ${headersMs + bodyIdleMs} ms`,
        );
      throw toUpstreamError(upstream, error);
    }
  } else if (response.status === 429) {
    throw upstreamFailure(upstream.name, response.status, undefined, 'BLOB_UNKNOWN', response.headers);
  } else if (response.status >= 500) {
    throw upstreamUnavailable(upstream.name, response.status);
  } else if (response.status !== 200) {
    throw invalid(upstream.name, `answered ${response.status} for signature blob ${digest}`);
  }
  if (body.length !== size) throw invalid(upstream.name, `blob ${digest} is ${body.length} bytes, its descriptor says ${size}`);
  if (digestOf(body, algorithmOf(digest)) !== digest) throw invalid(upstream.name, `blob ${digest} does not hash to its digest`);
  return body;
}

function invalid(upstream: string, what: string): TrustgateError {
  return new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream "${upstream}" ${what}`);
}
