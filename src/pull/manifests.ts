import { denialError } from '../decision/denial.ts';
import type { ClientIdentity, Decision } from '../decision/decision.ts';
import type { Gate, PullContext } from '../gate/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Reference } from '../oci/reference.ts';
import { clientAddressOf, type Exchange } from '../server/exchange.ts';
import { fetchManifest, type ManifestFetchOptions } from './manifest-fetch.ts';
import type { VerifiedManifest } from './manifest-cache.ts';
import type { Source } from '../upstream/source.ts';

export interface ManifestDeps extends ManifestFetchOptions {
  readonly gate: Gate;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'decision'>;
}

/** GET and HEAD of a manifest: fetch and hash, ask the gate, then serve exactly the bytes hashed. */
export async function serveManifest(exchange: Exchange, source: Source, reference: Reference, deps: ManifestDeps): Promise<void> {
  const { req, res } = exchange;
  const started = performance.now();
  const manifest = await fetchManifest(source, reference, req.headers.accept, deps);
  const client = exchange.client;
  const decision = await deps.gate.decide(pullContext(source, reference, manifest, client));
  deps.logger.info(
    {
      event: 'decision',
      name: source.canonicalName,
      upstream: source.upstream.name,
      reference: reference.kind === 'tag' ? reference.tag : undefined,
      digest: manifest.digest,
      method: exchange.method,
      outcome: decision.outcome,
      rule: decision.rule,
      reasons: decision.reasons.map((r) => r.code),
      ms: Math.round((performance.now() - started) * 10) / 10,
      requestId: exchange.requestId,
      clientAddress: clientAddressOf(exchange),
      subject: client?.subject,
    },
    'manifest pull',
  );
  deps.metrics?.decision(decision, source.upstream.name);
  if (decision.outcome === 'deny') throw denialError(decision, source.canonicalName);
  if (decision.outcome === 'warn') res.setHeader('warning', warning(decision));
  const etag = `"${manifest.digest}"`;
  res.statusCode = req.headers['if-none-match'] === etag ? 304 : 200;
  res.setHeader('content-type', manifest.parsed.mediaType);
  res.setHeader('docker-content-digest', manifest.digest);
  res.setHeader('content-length', manifest.bytes.length);
  res.setHeader('etag', etag);
  if (exchange.isHead || res.statusCode === 304) {
    res.end();
    return;
  }
  res.end(manifest.bytes);
}

export function pullContext(
  source: Source,
  reference: Reference,
  manifest: VerifiedManifest,
  client: ClientIdentity | undefined,
): PullContext {
  return {
    canonicalName: source.canonicalName,
    repository: source.repository,
    upstream: source.upstream,
    requested: reference,
    ns: source.ns,
    manifest: {
      bytes: manifest.bytes,
      digest: manifest.digest,
      mediaType: manifest.parsed.mediaType,
      children: manifest.parsed.children,
      blobs: manifest.parsed.blobs,
      parsed: manifest.parsed,
      unsupported: manifest.unsupported,
    },
    parentIndex: undefined,
    client,
  };
}

/** RFC 9111 §5.5 / distribution-spec "Warnings": `299 - "text"`, at most 4096 bytes in all. */
function warning(decision: Decision): string {
  const text = `trustgate: rule "${decision.rule}" is in warn mode and would deny this pull: ${decision.reasons.map((r) => r.message).join('; ')}`;
  return `299 - "${text
    .replace(/["\\]/g, "'")
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 4000)}"`;
}
