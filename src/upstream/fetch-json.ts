import { TrustgateError } from '../errors/errors.ts';
import { bareMediaType } from '../oci/media-types.ts';
import { isDigest, type Digest } from '../oci/reference.ts';
import { sha256Digest } from '../oci/digest.ts';
import { upstreamFailure } from './upstream-answer.ts';
import type { UpstreamClient } from './types.ts';
import type { RequestBudget } from './budget.ts';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
}

const MAX_MANIFEST_BYTES = 4 * 1_048_576;

/**
 * GETs a manifest or referrers index as JSON; undefined on 404. With `expected`, the bytes must hash
 * to it. Descriptors are checked for shape so later code can trust digest and size.
 */
export async function fetchJson(
  client: UpstreamClient,
  repository: string,
  path: string,
  accept: string,
  budget: RequestBudget,
  expected?: Digest,
): Promise<{ json: Record<string, unknown>; mediaType: string } | undefined> {
  budget.spend();
  const response = await client.request({
    method: 'GET',
    path: `/v2/${repository}/${path}`,
    headers: { accept },
    scope: `repository:${repository}:pull`,
    maxBytes: MAX_MANIFEST_BYTES,
  });
  if (response.status === 404) return undefined;
  if (response.status >= 500) throw upstreamUnavailable(client.config.name, response.status);
  if (response.status !== 200)
    throw upstreamFailure(client.config.name, response.status, response.body, 'MANIFEST_UNKNOWN', response.headers);
  if (expected !== undefined && sha256Digest(response.body) !== expected) {
    throw bad(client.config.name, `sent ${path.slice(0, 90)} with bytes that do not hash to it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw bad(client.config.name, `sent invalid JSON for ${path.slice(0, 90)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw bad(client.config.name, `sent a non-object for ${path.slice(0, 90)}`);
  for (const key of ['layers', 'manifests']) {
    const list = (json as Record<string, unknown>)[key];
    if (list !== undefined && (!Array.isArray(list) || !list.every(isDescriptor)))
      throw bad(client.config.name, `sent malformed descriptors in ${path.slice(0, 90)}`);
  }
  return { json: json as Record<string, unknown>, mediaType: bareMediaType(response.headers['content-type']) };
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Partial<Descriptor> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.mediaType === 'string' &&
    typeof d.digest === 'string' &&
    isDigest(d.digest) &&
    typeof d.size === 'number' &&
    Number.isSafeInteger(d.size) &&
    d.size >= 0 &&
    (d.annotations === undefined ||
      (typeof d.annotations === 'object' && d.annotations !== null && Object.values(d.annotations).every((v) => typeof v === 'string')))
  );
}

/**
 * A 5xx is the upstream failing, not a bad signature or attestation: it fails the pull (502) and must
 * not become a finding, which would turn it into a deny cached for `denyTtlMs`.
 */
export function upstreamUnavailable(upstream: string, status: number): TrustgateError {
  return new TrustgateError('UPSTREAM_UNREACHABLE', `upstream "${upstream}" answered ${status}`);
}

function bad(upstream: string, what: string): TrustgateError {
  return new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream "${upstream}" ${what}`);
}
