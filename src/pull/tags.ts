import { TrustgateError } from '../errors/errors.ts';
import { isTag } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { answer, singleQuery, type Exchange } from '../server/exchange.ts';
import { rewriteNextLink } from './link.ts';
import { pullScope } from './manifest-fetch.ts';
import type { Source } from '../upstream/source.ts';
import { upstreamError } from '../upstream/upstream-answer.ts';

const MAX_TAG_LIST_BYTES = 8 * 1_048_576;

/** Tags list with `n`/`last` pagination (distribution-spec "Listing Tags"). */
export async function serveTags(exchange: Exchange, source: Source, client: UpstreamClient): Promise<void> {
  const { res } = exchange;
  const query = new URLSearchParams();
  const n = singleQuery(exchange, 'n');
  const last = singleQuery(exchange, 'last');
  if (n !== undefined) {
    if (!/^\d{1,5}$/.test(n)) throw new TrustgateError('QUERY_INVALID', 'query parameter "n" must be a whole number up to 99999');
    query.set('n', n);
  }
  if (last !== undefined) {
    if (!isTag(last)) throw new TrustgateError('QUERY_INVALID', 'query parameter "last" must be a tag');
    query.set('last', last);
  }
  const qs = query.toString();
  const response = await client.request({
    method: 'GET',
    path: `/v2/${source.repository}/tags/list${qs === '' ? '' : `?${qs}`}`,
    headers: { accept: 'application/json' },
    scope: pullScope(source),
    maxBytes: MAX_TAG_LIST_BYTES,
  });
  if (response.status !== 200)
    throw upstreamError(source.upstream.name, {
      status: response.status,
      body: response.body,
      headers: response.headers,
      missing: 'NAME_UNKNOWN',
    });
  let tags: unknown;
  try {
    tags = (JSON.parse(response.body.toString('utf8')) as { tags?: unknown }).tags;
  } catch {
    throw new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream "${source.upstream.name}" sent an invalid tag list`);
  }
  const list = Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  const link = rewriteNextLink(response.headers['link'], source, 'tags/list');
  if (link !== undefined) res.setHeader('link', link);
  res.setHeader('content-type', 'application/json');
  const body = JSON.stringify({ name: source.clientName, tags: list });
  res.setHeader('content-length', Buffer.byteLength(body));
  answer(exchange, 200, body);
}
