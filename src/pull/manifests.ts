import type { Decision } from '../decision/decision.ts';
import { denialError } from '../decision/denial.ts';
import type { Gate } from '../gate/types.ts';
import type { Reference } from '../oci/reference.ts';
import type { Exchange } from '../server/exchange.ts';
import type { VerifiedManifest } from './manifest-cache.ts';
import type { StaticManifests } from './manifest-fetch.ts';
import type { DecisionReporter } from './report.ts';
import type { Source } from '../upstream/source.ts';
import type { PullContext } from '../gate/types.ts';

export interface ManifestServeDeps {
  readonly gate: Gate;
  readonly reporter: DecisionReporter;
  /** With fail static: what is served under a verdict is kept for an outage, and break glass must see the upstream up. */
  readonly staticCopy?: StaticManifests | undefined;
}

/** GET and HEAD of a manifest already fetched and hashed: ask the gate, report, then serve exactly the bytes hashed. */
export async function serveManifest(
  exchange: Exchange,
  pull: { readonly source: Source; readonly reference: Reference; readonly manifest: VerifiedManifest; readonly context: PullContext },
  started: number,
  deps: ManifestServeDeps,
): Promise<void> {
  const { req, res } = exchange;
  const { source, reference, manifest } = pull;
  const decision = await deps.gate.decide(pull.context);
  const { staticCopy } = deps;
  // docs/blob-cache.md "Fail static": break glass needs the upstream answering now, even for a manifest from memory.
  if (staticCopy !== undefined && decision.rule === 'break-glass') await staticCopy.confirm(source, manifest.digest);
  deps.reporter.report(exchange, {
    decision,
    route: 'manifest',
    name: source.canonicalName,
    upstream: source.upstream.name,
    reference,
    digest: manifest.digest,
    started,
  });
  if (decision.outcome === 'deny') throw denialError(decision, source.canonicalName);
  if (decision.outcome === 'warn') res.setHeader('warning', warning(decision));
  // Kept only once a verdict allowed it: denied manifests never take room from the layers.
  if (staticCopy !== undefined && decision.rule !== 'break-glass' && manifest.static !== true) staticCopy.keep(source, manifest);
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

/** RFC 9111 §5.5 / distribution-spec "Warnings": `299 - "text"`, at most 4096 bytes in all. */
function warning(decision: Decision): string {
  const text = `trustgate: rule "${decision.rule}" is in warn mode and would deny this pull: ${decision.reasons.map((r) => r.message).join('; ')}`;
  return `299 - "${text
    .replace(/["\\]/g, "'")
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 4000)}"`;
}
