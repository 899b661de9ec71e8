import { SIGNATURE_CONFIG_FORMAT } from '../oci/signature-artifact.ts';
import type { BlobGrant } from '../verdicts/types.ts';
import type { ManifestKind } from './manifest-kind.ts';
import type { Decision } from '../decision/decision.ts';
import type { PullContext } from './types.ts';

/** Built-in rule names for manifests no policy rule judges. */
export const BuiltInRule = {
  signatureArtifact: 'signature-artifact',
  referrersListing: 'referrers-listing',
  manifestFormat: 'manifest-format',
} as const;

/** Pure: the decision for a manifest no rule judges (refused formats, referrers listings, signature artifacts), else undefined. */
export function builtInDecision(context: PullContext, kind: ManifestKind): Decision | undefined {
  const { digest, unsupported } = context.manifest;
  const decision = (outcome: Decision['outcome'], rule: string, reasons: Decision['reasons'] = []): Decision => ({
    outcome,
    rule,
    reasons,
    signers: [],
    digest,
    notAfter: undefined,
  });
  switch (kind) {
    case 'unsupported':
      return decision('deny', BuiltInRule.manifestFormat, [
        { code: 'unsupported_manifest', message: unsupported ?? 'unsupported manifest format' },
      ]);
    case 'listing':
      return decision('allow', BuiltInRule.referrersListing);
    case 'signature-artifact':
      return decision('allow', BuiltInRule.signatureArtifact);
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
