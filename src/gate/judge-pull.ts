import { TrustgateError } from '../errors/errors.ts';
import { allowDecision, type Decision } from '../decision/decision.ts';
import { discoverSignatures } from '../discovery/discover.ts';
import { isIndex } from '../oci/media-types.ts';
import type { Rule } from '../policy/types.ts';
import type { Grant } from '../verdicts/types.ts';
import { verifyArtifact } from '../verify/verify-artifact.ts';
import type { SignatureFinding } from '../verify/types.ts';
import { breakGlassOverride } from './break-glass.ts';
import { builtInDecision, signatureBlobs } from './built-in.ts';
import { decisionInput, generationOf, judge, type DecisionInput } from './decision-input.ts';
import type { DecisionEffects, DecisionReads, DecisionTrace, Judged } from './ports.ts';
import { AllowanceSource } from './provenance.ts';
import { withScan } from './scan-check.ts';
import type { PullContext } from './types.ts';

/**
 * The one decision for a manifest pull (docs/integrity.md), for `/v2` and for explain alike; they
 * differ only in the effects passed. Steps: what the manifest is, by its content; a child of an
 * allowed index is judged with its parent (mode `index`); else the verdict cache, else one shared
 * verification (discover, verify, evaluate, scan); then break glass. Every allow grants its blobs
 * (and an index its children) under its source, so they end when it does. The source allowlist and
 * pull auth are checked before the manifest is fetched (pull/prepare.ts), never here.
 */
export async function judgePull(context: PullContext, reads: DecisionReads, effects: DecisionEffects): Promise<Judged> {
  const trace: DecisionTrace = { findings: [], scan: undefined, overridden: undefined };
  const kind = await reads.classify(context);
  const builtIn = builtInDecision(context, kind);
  if (builtIn !== undefined) {
    // A signature artifact grants its own blobs only, each to be read whole and parsed before it is served.
    if (kind === 'signature-artifact') {
      const grant = { source: AllowanceSource.artifact(context.manifest.digest), expiresAt: reads.now() + reads.allowTtlMs };
      await effects.grantBlobs(generationOf(reads.policy(), reads.trust()), context.canonicalName, signatureBlobs(context), grant);
    }
    return { decision: builtIn, trace, input: undefined };
  }
  const input = decisionInput(reads.policy(), reads.trust(), context);
  const judging: Judging = { context, input, reads, effects, trace };
  const decided = (await judgedWithParent(judging)) ?? (await byVerdict(judging));
  // Fail static: the upstream is unreachable, and break glass never reaches a recalled manifest (docs/blob-cache.md).
  if (decided.outcome !== 'deny' || context.failStatic === true) return { decision: decided, trace, input };
  const now = reads.now();
  const overridden = breakGlassOverride(context, decided, reads.breakGlass(now), now);
  if (overridden === undefined) return { decision: decided, trace, input };
  const { entry } = overridden;
  trace.overridden = decided;
  // The image's own blobs, under the entry: they stop with it. An index's children are not covered.
  const expiresAt = Math.min(entry.expires, now + reads.allowTtlMs);
  await grantBlobs(judging, { source: AllowanceSource.breakGlass(entry.id), expiresAt });
  await effects.breakGlassUsed(context, decided, entry);
  return { decision: overridden.decision, trace, input };
}

/** One pull being judged: what every step reads, and where it writes. */
interface Judging {
  readonly context: PullContext;
  readonly input: DecisionInput;
  readonly reads: DecisionReads;
  readonly effects: DecisionEffects;
  readonly trace: DecisionTrace;
}

/** The verdict cache, else one verification shared by concurrent pulls of the same key. */
async function byVerdict(judging: Judging): Promise<Decision> {
  const { context, input, reads, effects, trace } = judging;
  const cached = await effects.memo.get(input);
  if (cached !== undefined) {
    if (cached.outcome !== 'deny' && !(await stillGranted(judging))) await grant(judging, cached);
    return cached;
  }
  // While Redis is down the trust snapshot may miss revocations made elsewhere, so a digest never
  // judged is not verified against it; only verdicts already known are served.
  if (reads.sharedStateUp !== undefined && !(await reads.sharedStateUp())) {
    throw new TrustgateError(
      'STORE_UNAVAILABLE',
      'the shared state (Redis) is unreachable: until it is back, only images this replica already verified are served',
    );
  }
  return effects.memo.run(
    input,
    async () => {
      const started = performance.now();
      const verified = await verify(judging);
      const decision = await withScan(context, input.rule, verified, input.trust, reads, effects, trace);
      effects.verified(decision.outcome, (performance.now() - started) / 1000);
      return decision;
    },
    (decision) => grant(judging, decision),
  );
}

/** Mode `index`: a child listed by an index whose allowance still holds is allowed with it, for no longer than it. */
async function judgedWithParent(judging: Judging): Promise<Decision | undefined> {
  const { context, input, reads, effects, trace } = judging;
  const { rule } = input;
  if (rule === undefined || rule.mode === 'off' || rule.multiArch !== 'index' || isIndex(context.manifest.mediaType)) return undefined;
  const parent = await reads.childAllowance(input.generation, context.canonicalName, context.manifest.digest);
  if (parent === undefined) return undefined;
  const byParent = allowDecision(rule.name, context.manifest.digest, [`index ${parent.index}`], parent.expiresAt);
  const decision = await withScan(context, rule, byParent, input.trust, reads, effects, trace);
  if (decision.outcome !== 'deny') await grantBlobs(judging, { source: parent.source, expiresAt: decision.notAfter ?? parent.expiresAt });
  return decision;
}

async function verify(judging: Judging): Promise<Decision> {
  const { context, input, reads, effects, trace } = judging;
  const { rule, trust, key } = input;
  const now = reads.now();
  let findings: SignatureFinding[] = [];
  if (rule !== undefined && rule.mode !== 'off') {
    effects.verifying(context.canonicalName);
    const signatureRepository = signatureRepositoryOf(rule, context);
    if (signatureRepository === undefined) {
      const message = `signature repository "${rule.signatures.signatureRepository}" is not on upstream "${context.upstream.name}"`;
      findings.push({ scheme: 'cosign', source: 'signatureRepository', verifiedBy: [], failure: { kind: 'format', message } });
    }
    const client = reads.clientFor(context.upstream.name);
    const found = await discoverSignatures(client, context.repository, signatureRepository ?? context.repository, key.digest, reads.limits);
    const subject = { digest: key.digest, size: context.manifest.bytes.length, mediaType: key.mediaType, bytes: context.manifest.bytes };
    findings = [
      ...findings,
      ...found.unreadable,
      ...(await Promise.all(found.artifacts.map((a) => verifyArtifact(a, subject, trust.material, now)))),
    ];
  }
  trace.findings = findings;
  return judge(context, input, findings, now);
}

/** An allowed (or warned) manifest grants its blobs, and an index its children, under its verdict. */
async function grant(judging: Judging, decision: Decision): Promise<void> {
  if (decision.outcome === 'deny') return;
  const { context, input, reads, effects } = judging;
  const expiresAt = Math.min(reads.now() + reads.allowTtlMs, decision.notAfter ?? Infinity);
  const source: Grant = { source: AllowanceSource.verdict(input.id), expiresAt };
  await grantBlobs(judging, source);
  const { children, digest } = context.manifest;
  if (children.length > 0) await effects.grantChildren(input.generation, context.canonicalName, digest, children, source);
}

async function grantBlobs(judging: Judging, source: Grant): Promise<void> {
  const { context, input, reads, effects } = judging;
  const { blobs } = context.manifest;
  if (blobs.length === 0 || source.expiresAt <= reads.now()) return;
  const grants = blobs.map((digest) => ({ digest }));
  await effects.grantBlobs(input.generation, context.canonicalName, grants, source);
}

/** Whether this verdict's grants are still held (they may have been evicted): the first blob or child stands for all. */
function stillGranted({ context, input, effects }: Judging): Promise<boolean> {
  const [blob] = context.manifest.blobs;
  const [child] = context.manifest.children;
  const first = { ...(blob === undefined ? {} : { blob }), ...(child === undefined ? {} : { child }) };
  return effects.stillGranted(input.generation, context.canonicalName, first, AllowanceSource.verdict(input.id));
}

/** cosign's COSIGN_REPOSITORY, per rule; it must live on the same upstream (undefined when it does not). */
function signatureRepositoryOf(rule: Rule, context: PullContext): string | undefined {
  const configured = rule.signatures.signatureRepository;
  if (configured === undefined) return context.repository;
  const prefix = `${context.upstream.registryHost}/`;
  return configured.startsWith(prefix) ? configured.slice(prefix.length) : undefined;
}
