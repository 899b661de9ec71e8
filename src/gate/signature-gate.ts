import { TrustgateError } from '../errors/errors.ts';
import type { Logger } from '../log/logger.ts';
import { isIndex } from '../oci/media-types.ts';
import { evaluateSignatures } from '../policy/evaluate.ts';
import { selectRule } from '../policy/select.ts';
import type { Policy, Rule } from '../policy/types.ts';
import { discoverSignatures, type DiscoveryLimits } from '../registry/discover.ts';
import type { AllowSets, ScanStore, VerdictCache, VerdictKey } from '../state/types.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { verifyArtifact } from '../verify/verify-artifact.ts';
import type { SignatureFinding } from '../verify/types.ts';
import { withScan } from './scan-check.ts';
import { ScanEpochs } from './scan-epochs.ts';
import { SingleFlight } from './single-flight.ts';
import { checkSource } from './source-check.ts';
import { explainPull } from './explain.ts';
import type { Decision, Gate, PullContext } from './types.ts';

export interface SignatureGateDeps {
  readonly policy: () => Policy;
  readonly trust: () => CompiledTrust;
  readonly verdicts: VerdictCache;
  readonly allowSets: AllowSets;
  readonly scans: ScanStore;
  readonly clientFor: (upstream: string) => UpstreamClient;
  readonly limits: DiscoveryLimits;
  /** How long an allowed image's blobs and children stay allowed (capped by the verdict's notAfter). */
  readonly allowTtlMs: number;
  /** When false, any blob of an allowed repository is served (the blob gate is off). */
  readonly blobGate: boolean;
  readonly now: () => number;
  readonly logger: Logger;
  /** Called once per real verification (not per cache hit), for tests and metrics. */
  readonly onVerify?: (canonicalName: string) => void;
  /** Called with each verification's outcome and duration (cache misses only). */
  readonly onVerified?: (outcome: Decision['outcome'], seconds: number) => void;
  /** Whether the shared state (Redis) answers; absent without Redis. */
  readonly sharedStateUp?: () => Promise<boolean>;
}

const SIGNATURE_ARTIFACT_RULE = 'signature-artifact';

/**
 * The manifest gate (DESIGN §1–§4): source allowlist, then the most specific rule; signature
 * artifacts stay readable; a child of an allowed index is judged with its parent (mode `index`);
 * otherwise the verdict cache, else one shared verification: discover, verify, evaluate.
 */
export function createSignatureGate(deps: SignatureGateDeps): Gate {
  const flights = new SingleFlight<Decision>();
  const epochs = new ScanEpochs();
  const generation = (): string => `${deps.policy().hash}:${deps.trust().version}`;
  // A scan posted on any replica: forget what was decided about that digest without it.
  deps.scans.onPosted((digest) => {
    epochs.bump(digest);
    void deps.verdicts.forgetDigest(digest, true);
  });

  async function decide(context: PullContext): Promise<Decision> {
    const denied = checkSource(context);
    if (denied !== undefined) return { ...denied, digest: context.manifest.digest };
    const { manifest, canonicalName } = context;
    if (manifest.isSignatureArtifact) {
      return remember(context, { outcome: 'allow', rule: SIGNATURE_ARTIFACT_RULE, reasons: [], signers: [], digest: manifest.digest, notAfter: undefined });
    }
    const policy = deps.policy();
    const rule = selectRule(policy, canonicalName);
    if (rule !== undefined && rule.mode !== 'off' && rule.multiArch === 'index' && !isIndex(manifest.mediaType)) {
      const parent = await deps.allowSets.parentOf(generation(), canonicalName, manifest.digest);
      if (parent !== undefined) {
        const byParent: Decision = { outcome: 'allow', rule: rule.name, reasons: [], signers: [`index ${parent}`], digest: manifest.digest, notAfter: undefined };
        return remember(context, await withScan(context, rule, byParent, deps.trust(), deps));
      }
    }
    const trust = deps.trust();
    // Blob and child records go under the generation the verdict was made in, never a newer one: a
    // key revoked while this verification runs must not leave its image's blobs allowed after it.
    const gen = `${policy.hash}:${trust.version}`;
    const key: VerdictKey = { canonicalName, digest: manifest.digest, policyHash: policy.hash, trustVersion: trust.version };
    const cached = await deps.verdicts.get(key, deps.now());
    if (cached !== undefined) return (await stillRemembered(context, cached, gen)) ? cached : remember(context, cached, gen);
    // DESIGN §5: while Redis is down the trust snapshot may miss revocations made elsewhere, so a
    // digest never judged is not verified against it; only verdicts already known are served.
    if (deps.sharedStateUp !== undefined && !(await deps.sharedStateUp())) {
      throw new TrustgateError('STORE_UNAVAILABLE', 'the shared state (Redis) is unreachable: until it is back, only images this replica already verified are served');
    }
    return flights.run(`${canonicalName}@${manifest.digest}|${policy.hash}|${trust.version}`, async () => {
      const epoch = epochs.of(manifest.digest);
      const started = performance.now();
      const decision = await withScan(context, rule, await verify(context, rule, trust), trust, deps);
      deps.onVerified?.(decision.outcome, (performance.now() - started) / 1000);
      // A scan that arrived while this verification ran makes its verdict stale: do not cache it.
      if (epochs.of(manifest.digest) === epoch) await deps.verdicts.put(key, decision, deps.now());
      return remember(context, decision, gen);
    });
  }

  async function verify(context: PullContext, rule: Rule | undefined, trust: CompiledTrust, seen?: (findings: readonly SignatureFinding[]) => void): Promise<Decision> {
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
      const found = await discoverSignatures(client, context.repository, signatureRepository ?? context.repository, context.manifest.digest, deps.limits);
      const subject = { digest: context.manifest.digest, size: context.manifest.bytes.length, mediaType: context.manifest.mediaType, bytes: context.manifest.bytes };
      findings = [...findings, ...found.unreadable, ...(await Promise.all(found.artifacts.map((a) => verifyArtifact(a, subject, trust.material, now))))];
    }
    seen?.(findings);
    return evaluateSignatures({ rule, canonicalName: context.canonicalName, requested: context.requested, digest: context.manifest.digest, findings, trust, now });
  }

  /** An allowed (or warned) manifest vouches for its blobs, and an index for its children. */
  async function remember(context: PullContext, decision: Decision, gen = generation()): Promise<Decision> {
    if (decision.outcome === 'deny') return decision;
    const ttl = Math.max(1, Math.min(deps.allowTtlMs, (decision.notAfter ?? Infinity) - deps.now()));
    if (context.manifest.blobs.length > 0) await deps.allowSets.recordBlobs(gen, context.canonicalName, context.manifest.blobs, ttl);
    if (context.manifest.children.length > 0) await deps.allowSets.recordChildren(gen, context.canonicalName, context.manifest.digest, context.manifest.children, ttl);
    return decision;
  }

  /** A cached allow whose blob or children records were evicted gets them back (cheap: local copy first). */
  async function stillRemembered(context: PullContext, decision: Decision, gen: string): Promise<boolean> {
    if (decision.outcome === 'deny') return true;
    const { blobs, children, digest } = context.manifest;
    if (blobs.length > 0 && !(await deps.allowSets.isBlobAllowed(gen, context.canonicalName, blobs[0]!))) return false;
    if (children.length > 0 && (await deps.allowSets.parentOf(gen, context.canonicalName, children[0]!)) !== digest) return false;
    return true;
  }

  return {
    decide,
    explain: (context) => explainPull(context, { ...deps, generation, verify, artifactRule: SIGNATURE_ARTIFACT_RULE }),
    vouch: async (context, decision) => void (await remember(context, decision)),
    async allowsBlob(canonicalName, digest) {
      return !deps.blobGate || deps.allowSets.isBlobAllowed(generation(), canonicalName, digest);
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
