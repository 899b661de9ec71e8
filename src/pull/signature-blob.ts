import { isTrustgateError } from '../errors/errors.ts';
import { denyDecision, type Decision } from '../decision/decision.ts';
import type { Digest } from '../oci/reference.ts';
import { parsesAsSignatureBlob } from '../oci/signature-artifact.ts';
import { RequestBudget } from '../upstream/budget.ts';
import { fetchSmallBlob } from '../upstream/reader.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { answer, type Exchange } from '../server/exchange.ts';
import type { Source } from '../upstream/source.ts';

/**
 * A blob reachable only through a signature artifact (docs/integrity.md "Signature artifacts"):
 * read whole (at most `maxBytes`, digest and size checked), then served only if it parses as the
 * format its descriptor declared. Never streamed unchecked, so a runnable layer dressed as a
 * signature never leaves. `Range` is ignored: the whole blob is answered (RFC 9110 §14.2 allows it).
 */
export async function serveSignatureBlob(
  exchange: Exchange,
  source: Source,
  digest: Digest,
  check: { format: string; size: number },
  client: UpstreamClient,
  maxBytes: number,
): Promise<Decision | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fetchSmallBlob(client, source.repository, digest, check.size, maxBytes, new RequestBudget(2));
  } catch (error) {
    if (!isTrustgateError(error) || error.code !== 'UPSTREAM_BAD_RESPONSE') throw error;
    return refused(digest, `it could not be read whole within ${maxBytes} bytes as its descriptor declares`);
  }
  if (!parsesAsSignatureBlob(bytes, check.format)) return refused(digest, `it does not parse as ${check.format.slice(0, 100)}`);
  const { res } = exchange;
  res.setHeader('content-type', 'application/octet-stream');
  res.setHeader('content-length', bytes.length);
  res.setHeader('docker-content-digest', digest);
  answer(exchange, 200, bytes);
  return undefined;
}

function refused(digest: Digest, why: string): Decision {
  return denyDecision(
    'blob-gate',
    [{ code: 'blob_not_referenced', message: `only a signature artifact names this blob, and ${why}` }],
    digest,
  );
}
