import type { UpstreamConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { ScanRequest } from '../scan-store/types.ts';
import { postReport, type PostTarget } from './post.ts';
import { scanTarget } from './target.ts';
import { runTrivy, type TrivyRun } from './trivy.ts';

export interface ScanOneDeps {
  readonly upstreams: readonly UpstreamConfig[];
  readonly trivy: TrivyRun;
  readonly post: PostTarget;
  readonly logger: Logger;
}

/**
 * What became of one request:
 * - `posted`: the report is stored (acknowledge);
 * - `refused`: the admin API refused the report (acknowledge: it will not get better);
 * - `failed`: trivy failed or timed out, the API was unavailable, or this worker cannot map the
 *   request (leave it unacknowledged: another claim retries it after reclaimIdleMs).
 */
export type ScanOutcome = 'posted' | 'refused' | 'failed';

export async function scanOne(request: ScanRequest, deps: ScanOneDeps): Promise<ScanOutcome> {
  const { logger } = deps;
  const about = { name: request.canonicalName, digest: request.digest, upstream: request.upstream };
  const mapped = scanTarget(request, deps.upstreams);
  if (!mapped.ok) {
    logger.error({ event: 'scan_failed', ...about, problem: mapped.problem }, 'cannot scan this request; left for a worker that can');
    return 'failed';
  }
  const { target } = mapped;
  const started = Date.now();
  logger.info({ event: 'scan_started', ...about, reference: target.reference, insecure: target.insecure }, `scanning ${target.reference}`);
  const scanned = await runTrivy(target, deps.trivy);
  if (!scanned.ok) {
    logger.error(
      { event: 'scan_failed', ...about, reference: target.reference, problem: scanned.problem, ms: Date.now() - started },
      'trivy failed; the request will be retried',
    );
    return 'failed';
  }
  const posted = await postReport(deps.post, target.image, scanned.report);
  const ms = Date.now() - started;
  switch (posted.kind) {
    case 'stored':
      logger.info({ event: 'scan_posted', ...about, status: posted.status, stored: posted.body, ms }, `report for ${target.image} stored`);
      return 'posted';
    case 'refused':
      logger.warn(
        { event: 'scan_refused', ...about, status: posted.status, problem: posted.problem, ms },
        'the admin API refused the report; dropping the request',
      );
      return 'refused';
    case 'retry':
      logger.error(
        { event: 'scan_post_failed', ...about, status: posted.status, problem: posted.problem, ms },
        'posting the report failed; the request will be retried',
      );
      return 'failed';
  }
}
