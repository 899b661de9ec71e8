// Pagination per distribution-spec "Listing Tags" / "Listing Referrers": `Link: <url>; rel="next"`.
import type { Source } from '../upstream/source.ts';

const NEXT = /<([^>]*)>\s*;\s*rel="?next"?/i;
const PASSED = ['n', 'last', 'artifactType'] as const;

/**
 * Rewrites an upstream `Link` header into a relative link on the proxy, in the client's own
 * addressing (path prefix or `ns`). Only the pagination parameters are carried over.
 */
export function rewriteNextLink(header: string | undefined, source: Source, endpoint: string): string | undefined {
  const match = header === undefined ? null : NEXT.exec(header);
  if (match === null) return undefined;
  let upstreamUrl: URL;
  try {
    upstreamUrl = new URL(match[1]!, 'http://upstream.invalid');
  } catch {
    return undefined;
  }
  const query = new URLSearchParams();
  for (const key of PASSED) {
    const value = upstreamUrl.searchParams.get(key);
    if (value !== null) query.set(key, value);
  }
  if (source.ns !== undefined) query.set('ns', source.ns);
  return `</v2/${source.clientName}/${endpoint}?${query.toString()}>; rel="next"`;
}
