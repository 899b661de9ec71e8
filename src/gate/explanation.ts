import type { Rule } from '../policy/types.ts';
import { evaluateScan, type ScanEvaluation } from '../scan/evaluate.ts';
import type { ScanRecord } from '../scan/types.ts';
import type { DecisionReads, Judged } from './ports.ts';
import { judgeEach } from './decision-input.ts';
import type { Explanation, PullContext, ScanExplanation } from './types.ts';

/**
 * A judged pull as GET /admin/v1/explain shows it. When the decision did not reach the scan (the
 * signatures denied first, or no scan is required), the scan on record is shown beside it.
 */
export async function explanationOf(judged: Judged, context: PullContext, reads: DecisionReads): Promise<Explanation> {
  const { decision, trace, input } = judged;
  const overridden = trace.overridden === undefined ? {} : { overridden: trace.overridden };
  if (input === undefined) return { decision, findings: [], judgements: [], scan: undefined, ...overridden };
  const scan =
    trace.scan === undefined
      ? await storedScan(context, input.rule, reads)
      : scanView(input.rule, trace.scan.evaluation, trace.scan.record);
  return { decision, findings: trace.findings, judgements: judgeEach(input, trace.findings, reads.now()), scan, ...overridden };
}

async function storedScan(context: PullContext, rule: Rule | undefined, reads: DecisionReads): Promise<ScanExplanation | undefined> {
  const { digest, children } = context.manifest;
  if (children.length > 0) return undefined; // an index holds no packages: each child has its own scan
  const record = await reads.scans.get(digest);
  const pending = record === undefined && (await reads.scans.isPending(digest));
  return scanView(rule, evaluateScan(rule?.scan, record, pending, context.canonicalName, reads.now(), digest), record);
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
