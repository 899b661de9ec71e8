import { TrustgateError } from '../errors/errors.ts';
import type { Logger } from '../log/logger.ts';
import { isIndex } from '../oci/media-types.ts';
import type { Policy, Rule } from '../policy/types.ts';
import { discoverSignatures, type DiscoveryLimits } from '../discovery/discover.ts';
import type { AllowSets, Grant, VerdictCache } from '../verdicts/types.ts';
import type { ScanStore } from '../scan-store/types.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { verifyArtifact } from '../verify/verify-artifact.ts';
import type { SignatureFinding } from '../verify/types.ts';
import type { BreakGlassStore } from '../breakglass/entries.ts';
import { builtInDecision, signatureBlobs } from './built-in.ts';
import { decisionInput, generationOf, judge, type DecisionInput } from './decision-input.ts';
import { explainPull } from './explain.ts';
import { createManifestClassifier } from './manifest-kind.ts';
import { AllowanceSource, createLiveness } from './provenance.ts';
import { withScan } from './scan-check.ts';
import { ScanEpochs } from '../scan-store/scan-epochs.ts';
import { SingleFlight } from './single-flight.ts';
import { checkSource } from './source-check.ts';
import type { BlobAccess, Gate, PullContext } from './types.ts';
import type { Decision } from '../decision/decision.ts';

export interface SignatureGateDeps {
  readonly policy: () => Policy;
  readonly trust: () => CompiledTrust;
  readonly verdicts: VerdictCache;
  readonly allowSets: AllowSets;
  readonly scans: ScanStore;
  readonly clientFor: (upstream: string) => UpstreamClient;
  readonly limits: DiscoveryLimits;
  /** How long an allowed image's blobs and children stay allowed (capped by the source's own end). */
  readonly allowTtlMs: number;
  /** When false, any blob of an allowed repository is served (the blob gate is off: the integrity invariant does not hold for blobs). */
  readonly blobGate: boolean;
  /** Break-glass entries, so an allowance granted by one ends with it. */
  readonly breakGlass?: BreakGlassStore;
  readonly now: () => number;
  readonly logger: Logger;
  /** Called once per real verification (not per cache hit), for tests and metrics. */
  readonly onVerify?: (canonicalName: string) => void;
  /** Called with each verification's outcome and duration (cache misses only). */
  readonly onVerified?: (outcome: Decision['outcome'], seconds: number) => void;
  /** Whether the shared state (Redis) answers; absent without Redis. */
  readonly sharedStateUp?: () => Promise<boolean>;
}

/**
 * The manifest gate (docs/integrity.md): the source allowlist; then what the manifest is, by its
 * content; a child of an allowed index is judged with its parent (mode `index`); otherwise the
 * verdict cache, else one shared verification: discover, verify, evaluate. Every allow grants its
 * blobs (and an index its children) under the verdict's id, so they end when the verdict does.
 */
export function createSignatureGate(deps: SignatureGateDeps): Gate {
  const flights = new SingleFlight<Decision>();
  const epochs = new ScanEpochs();
  const classify = createManifestClassifier(deps);
  const live = createLiveness({ verdicts: deps.verdicts, breakGlass: deps.breakGlass, now: deps.now });
  const currentGeneration = (): string => generationOf(deps.policy(), deps.trust());
  // A scan posted on any replica: forget what was decided about that digest without it.
  deps.scans.onPosted((digest) => {
    epochs.bump(digest);
    void deps.verdicts.forgetDigest(digest, true);
  });

  async function decide(context: PullContext): Promise<Decision> {
    const denied = checkSource(context);
    if (denied !== undefined) return { ...denied, digest: context.manifest.digest };
    const kind = await classify(context);
    const builtIn = builtInDecision(context, kind);
    if (builtIn !== undefined) {
      // A signature artifact grants its own blobs only, each to be read whole and parsed before it is served.
      if (kind === 'signature-artifact') {
        const source = { source: AllowanceSource.artifact(context.manifest.digest), expiresAt: deps.now() + deps.allowTtlMs };
        await deps.allowSets.grantBlobs(currentGeneration(), context.canonicalName, signatureBlobs(context), source);
      }
      return builtIn;
    }
    const input = decisionInput(deps.policy(), deps.trust(), context);
    const byParent = await judgedWithParent(context, input);
    if (byParent !== undefined) return byParent;
    const cached = await deps.verdicts.get(input.key, deps.now());
    if (cached !== undefined) {
      if (cached.outcome !== 'deny' && !(await stillGranted(context, input))) await grant(context, input, cached);
      return cached;
    }
    // While Redis is down the trust snapshot may miss revocations made elsewhere, so a digest never
    // judged is not verified against it; only verdicts already known are served.
    if (deps.sharedStateUp !== undefined && !(await deps.sharedStateUp())) {
      throw new TrustgateError(
        'STORE_UNAVAILABLE',
        'the shared state (Redis) is unreachable: until it is back, only images this replica already verified are served',
      );
    }
    return flights.run(input.id, async () => {
      const epoch = epochs.of(input.key.digest);
      const started = performance.now();
      const decision = await withScan(context, input.rule, await verify(context, input), input.trust, deps);
      deps.onVerified?.(decision.outcome, (performance.now() - started) / 1000);
      // A scan that arrived while this verification ran makes its verdict stale: neither cached nor granted.
      if (epochs.of(input.key.digest) !== epoch) return decision;
      await deps.verdicts.put(input.key, decision, deps.now());
      await grant(context, input, decision);
      return decision;
    });
  }

  /** Mode `index`: a child listed by an index whose allowance still holds is allowed with it, for no longer than it. */
  async function judgedWithParent(context: PullContext, input: DecisionInput): Promise<Decision | undefined> {
    const { rule } = input;
    if (rule === undefined || rule.mode === 'off' || rule.multiArch !== 'index' || isIndex(context.manifest.mediaType)) return undefined;
    const parent = await deps.allowSets.childAllowance(input.generation, context.canonicalName, context.manifest.digest, live);
    if (parent === undefined) return undefined;
    const byParent: Decision = {
      outcome: 'allow',
      rule: rule.name,
      reasons: [],
      signers: [`index ${parent.index}`],
      digest: context.manifest.digest,
      notAfter: parent.expiresAt,
    };
    const decision = await withScan(context, rule, byParent, input.trust, deps);
    if (decision.outcome !== 'deny')
      await grantBlobs(context, input.generation, { source: parent.source, expiresAt: decision.notAfter ?? parent.expiresAt });
    return decision;
  }

  async function verify(
    context: PullContext,
    input: DecisionInput,
    seen?: (findings: readonly SignatureFinding[]) => void,
  ): Promise<Decision> {
    const { rule, trust, key } = input;
    const now = deps.now();
    let findings: SignatureFinding[] = [];
    if (rule !== undefined && rule.mode !== 'off') {
      deps.onVerify?.(context.canonicalName);
      const client = deps.clientFor(context.upstream.name);
      const signatureRepository = signatureRepositoryOf(rule, context);
      if (signatureRepository === undefined) {
        const message = `signature repository "${rule.signatures.signatureRepository}" is not on upstream "${context.upstream.name}"`;
        findings.push({ scheme: 'cosign', source: 'signatureRepository', verifiedBy: [], failure: { kind: 'format', message } });
      }
      const found = await discoverSignatures(
        client,
        context.repository,
        signatureRepository ?? context.repository,
        key.digest,
        deps.limits,
      );
      const subject = { digest: key.digest, size: context.manifest.bytes.length, mediaType: key.mediaType, bytes: context.manifest.bytes };
      findings = [
        ...findings,
        ...found.unreadable,
        ...(await Promise.all(found.artifacts.map((a) => verifyArtifact(a, subject, trust.material, now)))),
      ];
    }
    seen?.(findings);
    return judge(context, input, findings, now);
  }

  /** An allowed (or warned) manifest grants its blobs, and an index its children, under its verdict. */
  async function grant(context: PullContext, input: DecisionInput, decision: Decision): Promise<void> {
    if (decision.outcome === 'deny') return;
    const expiresAt = Math.min(deps.now() + deps.allowTtlMs, decision.notAfter ?? Infinity);
    const source: Grant = { source: AllowanceSource.verdict(input.id), expiresAt };
    await grantBlobs(context, input.generation, source);
    const { children, digest } = context.manifest;
    if (children.length > 0) await deps.allowSets.grantChildren(input.generation, context.canonicalName, digest, children, source);
  }

  async function grantBlobs(context: PullContext, generation: string, source: Grant): Promise<void> {
    const { blobs } = context.manifest;
    if (blobs.length > 0 && source.expiresAt > deps.now())
      await deps.allowSets.grantBlobs(
        generation,
        context.canonicalName,
        blobs.map((digest) => ({ digest })),
        source,
      );
  }

  /** Whether this verdict's grants are still held (they may have been evicted): the first blob or child stands for all. */
  async function stillGranted(context: PullContext, input: DecisionInput): Promise<boolean> {
    const source = AllowanceSource.verdict(input.id);
    const mine = async (allowance: { source: string }): Promise<boolean> => allowance.source === source;
    const { blobs, children } = context.manifest;
    if (blobs.length > 0 && (await deps.allowSets.blobAllowance(input.generation, context.canonicalName, blobs[0]!, mine)) === undefined)
      return false;
    if (
      children.length > 0 &&
      (await deps.allowSets.childAllowance(input.generation, context.canonicalName, children[0]!, mine)) === undefined
    )
      return false;
    return true;
  }

  return {
    decide,
    explain: (context) => explainPull(context, { ...deps, classify, live, verify }),
    vouch: async (context, source) =>
      grantBlobs(context, currentGeneration(), {
        source: source.source,
        expiresAt: Math.min(source.expiresAt, deps.now() + deps.allowTtlMs),
      }),
    async blobAccess(canonicalName, digest): Promise<BlobAccess> {
      if (!deps.blobGate) return { kind: 'stream' };
      const allowance = await deps.allowSets.blobAllowance(currentGeneration(), canonicalName, digest, live);
      if (allowance === undefined) return { kind: 'deny' };
      return allowance.format === undefined ? { kind: 'stream' } : { kind: 'check', format: allowance.format, size: allowance.size ?? 0 };
    },
  };
}

/** cosign's COSIGN_REPOSITORY, per rule; it must live on the same upstream (undefined when it does not). */
function signatureRepositoryOf(rule: Rule, context: PullContext): string | undefined {
  const configured = rule.signatures.signatureRepository;
  if (configured === undefined) return context.repository;
  const prefix = `${context.upstream.registryHost}/`;
  return configured.startsWith(prefix) ? configured.slice(prefix.length) : undefined;
}
