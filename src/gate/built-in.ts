import { SIGNATURE_CONFIG_FORMAT } from '../oci/signature-artifact.ts';
import type { BlobGrant } from '../verdicts/types.ts';
import type { ManifestKind } from './manifest-kind.ts';
import { allowDecision, denyDecision, type Decision } from '../decision/decision.ts';
import type { PullContext } from './types.ts';

/** Pure: the decision for a manifest no rule judges (refused formats, referrers listings, signature artifacts), else undefined. */
export function builtInDecision(context: PullContext, kind: ManifestKind): Decision | undefined {
  const { digest, unsupported } = context.manifest;
  switch (kind) {
    case 'unsupported':
      return denyDecision(
        'manifest-format',
        [{ code: 'unsupported_manifest', message: unsupported ?? 'unsupported manifest format' }],
        digest,
      );
    case 'listing':
      return allowDecision('referrers-listing', digest);
    case 'signature-artifact':
      return allowDecision('signature-artifact', digest);
    default:
      return undefined;
  }
}

/** A signature artifact's own blobs, each with the format it must parse as before it is served. */
export function signatureBlobs(context: PullContext): BlobGrant[] {
  const { config, layers } = context.manifest.parsed;
  return [
    ...(config === undefined ? [] : [{ digest: config.digest, format: SIGNATURE_CONFIG_FORMAT, size: config.size }]),
    ...(layers ?? []).map((layer) => ({ digest: layer.digest, format: layer.mediaType, size: layer.size })),
  ];
}
