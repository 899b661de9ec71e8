import { ruleDecision, type Decision } from '../decision/decision.ts';
import { discoverVulnAttestations } from '../discovery/attestations.ts';
import type { Rule } from '../policy/types.ts';
import { evaluateScan } from '../scan/evaluate.ts';
import type { ScanRecord } from '../scan/types.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import { verifyVulnAttestation } from '../verify/cosign/vuln-attestation.ts';
import type { DecisionEffects, DecisionReads, DecisionTrace } from './ports.ts';
import type { PullContext } from './types.ts';

type ScanReads = Pick<DecisionReads, 'scans' | 'clientFor' | 'limits' | 'now' | 'logger'>;

/**
 * The scan half of a decision (docs/design.md §3), applied to an image the signature half did not deny.
 * Evidence: the newest of the stored report and any valid vuln attestation signed by a key trusted
 * to vouch for scans (purpose `scan`) that did not sign the image itself. An unscanned digest is
 * queued once and denied now. Indexes carry no packages: each child is judged on its own scan.
 */
export async function withScan(
  context: PullContext,
  rule: Rule | undefined,
  decision: Decision,
  trust: CompiledTrust,
  deps: ScanReads,
  effects: Pick<DecisionEffects, 'requestScan'>,
  trace: DecisionTrace,
): Promise<Decision> {
  const requirement = rule?.scan;
  if (
    decision.outcome === 'deny' ||
    requirement === undefined ||
    !requirement.required ||
    context.manifest.children.length > 0 ||
    rule?.mode === 'off'
  )
    return decision;
  const now = deps.now();
  const { digest } = context.manifest;
  let record = await deps.scans.get(digest);
  if (record === undefined || now - record.finishedAt >= requirement.maxAgeMs) {
    const attested = await attestedScan(context, decision, trust, deps);
    if (attested !== undefined && (record === undefined || attested.finishedAt > record.finishedAt)) record = attested;
  }
  const pending = record === undefined && (await deps.scans.isPending(digest));
  const scan = evaluateScan(requirement, record, pending, context.canonicalName, now, digest);
  trace.scan = { evaluation: scan, record };
  if (scan.state === 'unscanned' || scan.state === 'stale') {
    effects.requestScan({ digest, canonicalName: context.canonicalName, upstream: context.upstream.name, requestedAt: now });
  }
  if (scan.reasons.length === 0) return { ...decision, notAfter: earliest(decision.notAfter, scan.notAfter) };
  const outcome = rule?.mode === 'warn' ? 'warn' : 'deny';
  return ruleDecision(outcome, decision.rule, decision.digest, [...decision.reasons, ...scan.reasons], decision.signers, undefined);
}

async function attestedScan(
  context: PullContext,
  decision: Decision,
  trust: CompiledTrust,
  deps: ScanReads,
): Promise<ScanRecord | undefined> {
  const vouchers = trust.material.keys.filter((key) => {
    const entry = trust.byId.get(key.id);
    const now = deps.now();
    return (
      entry !== undefined &&
      entry.entry.purposes.includes('scan') &&
      !decision.signers.includes(key.id) &&
      !trust.revoked.has(key.id) &&
      entry.scopes.some((scope) => scope.test(context.canonicalName)) &&
      (entry.entry.notBefore === undefined || now >= entry.entry.notBefore) &&
      (entry.entry.notAfter === undefined || now < entry.entry.notAfter)
    );
  });
  if (vouchers.length === 0) return undefined;
  const envelopes = await discoverVulnAttestations(
    deps.clientFor(context.upstream.name),
    context.repository,
    context.manifest.digest,
    deps.limits,
  );
  let newest: ScanRecord | undefined;
  for (const envelope of envelopes) {
    const result = verifyVulnAttestation(envelope, { digest: context.manifest.digest }, vouchers, deps.now());
    if (result.failure !== undefined || result.record === undefined) {
      deps.logger.debug(
        { event: 'attestation_rejected', source: envelope.source, problem: result.failure?.message },
        'vuln attestation does not count',
      );
      continue;
    }
    if (newest === undefined || result.record.finishedAt > newest.finishedAt) newest = result.record;
  }
  return newest;
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
