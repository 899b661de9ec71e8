import { isIndex } from '../oci/media-types.ts';
import type { Policy, Rule } from '../policy/types.ts';
import { evaluateScan, type ScanEvaluation } from '../scan/evaluate.ts';
import type { ScanRecord } from '../scan/types.ts';
import type { AllowSets, Liveness } from '../verdicts/types.ts';
import type { ScanStore } from '../scan-store/types.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import type { SignatureFinding } from '../verify/types.ts';
import { builtInDecision } from './built-in.ts';
import { decisionInput, type DecisionInput } from './decision-input.ts';
import type { ManifestKind } from './manifest-kind.ts';
import { withScan, type ScanCheckDeps } from './scan-check.ts';
import { checkSource } from './source-check.ts';
import type { Decision } from '../decision/decision.ts';
import type { Explanation, PullContext, ScanExplanation } from './types.ts';

export interface ExplainDeps extends ScanCheckDeps {
  readonly policy: () => Policy;
  readonly trust: () => CompiledTrust;
  readonly allowSets: AllowSets;
  /** Whether an allowance's source still holds. */
  readonly live: Liveness;
  /** The gate's own content classification. */
  readonly classify: (context: PullContext) => Promise<ManifestKind>;
  /** The gate's own discovery and verification; `seen` is told every finding. */
  readonly verify: (
    context: PullContext,
    input: DecisionInput,
    seen?: (findings: readonly SignatureFinding[]) => void,
  ) => Promise<Decision>;
}

/**
 * The signature gate's decision for a pull, with its findings and scan state (GET
 * /admin/v1/explain). The same steps as `decide`, minus every side effect: no verdict is read
 * or cached (a cached one holds no findings), no scan is queued, and nothing is recorded as
 * allowed, so explaining an image never lets its blobs through.
 */
export async function explainPull(context: PullContext, deps: ExplainDeps): Promise<Explanation> {
  const { manifest, canonicalName } = context;
  const denied = checkSource(context);
  if (denied !== undefined) return { decision: { ...denied, digest: manifest.digest }, findings: [], scan: undefined };
  const builtIn = builtInDecision(context, await deps.classify(context));
  if (builtIn !== undefined) return { decision: builtIn, findings: [], scan: undefined };
  // The same input, and so the same key, as `decide` builds for this pull.
  const input = decisionInput(deps.policy(), deps.trust(), context);
  const { rule, trust } = input;
  const seen: { findings: readonly SignatureFinding[]; scan?: ScanExplanation } = { findings: [] };
  let decision: Decision | undefined;
  if (rule !== undefined && rule.mode !== 'off' && rule.multiArch === 'index' && !isIndex(manifest.mediaType)) {
    const parent = await deps.allowSets.childAllowance(input.generation, canonicalName, manifest.digest, deps.live);
    if (parent !== undefined)
      decision = {
        outcome: 'allow',
        rule: rule.name,
        reasons: [],
        signers: [`index ${parent.index}`],
        digest: manifest.digest,
        notAfter: parent.expiresAt,
      };
  }
  decision ??= await deps.verify(context, input, (findings) => {
    seen.findings = findings;
  });
  const quiet: ScanCheckDeps = {
    ...deps,
    scans: readOnly(deps.scans),
    onScan: (scan, record) => void (seen.scan = scanView(rule, scan, record)),
  };
  const final = await withScan(context, rule, decision, trust, quiet);
  return { decision: final, findings: seen.findings, scan: seen.scan ?? (await storedScan(context, rule, deps)) };
}

/** When the gate did not judge the scan (the signatures denied first, or no scan is required): what is on record. */
async function storedScan(context: PullContext, rule: Rule | undefined, deps: ExplainDeps): Promise<ScanExplanation | undefined> {
  const { digest, children } = context.manifest;
  if (children.length > 0) return undefined; // an index holds no packages: each child has its own scan
  const record = await deps.scans.get(digest);
  const pending = record === undefined && (await deps.scans.isPending(digest));
  return scanView(rule, evaluateScan(rule?.scan, record, pending, context.canonicalName, deps.now(), digest), record);
}

function scanView(rule: Rule | undefined, scan: ScanEvaluation, record: ScanRecord | undefined): ScanExplanation {
  return {
    required: rule !== undefined && rule.mode !== 'off' && rule.scan?.required === true,
    state: scan.state,
    ...(record === undefined
      ? {}
      : { record: { scanner: record.scanner, finishedAt: record.finishedAt, source: record.source, counts: record.counts } }),
  };
}

/** The scan store as explain sees it: reads only; a request to queue a scan is dropped. */
function readOnly(scans: ScanStore): ScanStore {
  return {
    get: (digest) => scans.get(digest),
    isPending: (digest) => scans.isPending(digest),
    pending: (limit) => scans.pending(limit),
    request: async () => false,
    put: async () => {
      throw new Error('explain stores no scan');
    },
    onPosted: () => () => {},
    close: async () => {},
  };
}
