import type { UpstreamConfig } from '../config/types.ts';
import { denyDecision, type Decision } from '../decision/decision.ts';

interface Named {
  readonly upstream: UpstreamConfig;
  readonly canonicalName: string;
}

/** The first check of every request: the repository must be on its upstream's allowlist. */
export function checkSource(source: Named): Decision | undefined {
  if (source.upstream.allow.some((pattern) => pattern.test(source.canonicalName))) return undefined;
  return denySource(`not on the allowlist of upstream "${source.upstream.name}"`);
}

export function denySource(message: string): Decision {
  return denyDecision('source-allowlist', [{ code: 'source_not_allowed', message }]);
}

/** The blob gate's refusal (docs/design.md §1 "Blobs"): layers of a blocked image cannot be pulled by digest. */
export function blobDenied(digest: Decision['digest']): Decision {
  const message = 'no manifest trustgate allowed from this repository references this blob; pull the image by its manifest first';
  return denyDecision('blob-gate', [{ code: 'blob_not_referenced', message }], digest);
}
