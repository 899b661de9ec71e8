import type { Decision } from '../decision/decision.ts';
import type { DecisionLog } from '../gate/decision-log.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { referenceString, type Digest, type Reference } from '../oci/reference.ts';
import type { Route } from '../oci/route.ts';
import { clientAddressOf, type Exchange } from '../server/exchange.ts';

/** One decision about a `/v2` request, whichever check made it: pull auth, the source, the gate, the blob gate. */
export interface DecisionReport {
  readonly decision: Decision;
  readonly route: Route['kind'];
  /** The canonical name when the source resolved, else the name as the client sent it. */
  readonly name: string;
  readonly upstream: string | undefined;
  readonly reference: Reference | undefined;
  readonly digest: Digest | undefined;
  /** performance.now() when the request began. */
  readonly started: number;
}

export interface DecisionReporter {
  report(exchange: Exchange, report: DecisionReport): void;
}

export interface ReporterDeps {
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'decision'> | undefined;
  /** GET /admin/v1/decisions: every judged manifest (one with a digest) is recorded. */
  readonly decisions?: DecisionLog | undefined;
  readonly now: () => number;
}

/**
 * The one place a decision is logged, metered and recorded (README "Logs": the `decision` record).
 * Every kind logs the same fields; `trustgate_decisions_total` counts manifest pulls only, so a
 * blob or tag request never inflates it.
 */
export function createDecisionReporter(deps: ReporterDeps): DecisionReporter {
  return {
    report(exchange, { decision, route, name, upstream, reference, digest, started }) {
      const subject = exchange.client?.subject;
      deps.logger.info(
        {
          event: 'decision',
          name,
          upstream,
          reference: reference?.kind === 'tag' ? reference.tag : undefined,
          digest,
          method: exchange.method,
          outcome: decision.outcome,
          rule: decision.rule,
          reasons: decision.reasons.map((r) => r.code),
          ms: Math.round((performance.now() - started) * 10) / 10,
          requestId: exchange.requestId,
          clientAddress: clientAddressOf(exchange),
          subject,
        },
        `${route} ${decision.outcome}`,
      );
      if (route !== 'manifest') return;
      deps.metrics?.decision(decision, upstream ?? 'none');
      if (digest === undefined || reference === undefined) return;
      deps.decisions?.record({
        time: deps.now(),
        name,
        reference: referenceString(reference),
        digest,
        outcome: decision.outcome,
        rule: decision.rule,
        reasons: decision.reasons,
        signers: decision.signers,
        ...(decision.notAfter === undefined ? {} : { notAfter: decision.notAfter }),
        ...(subject === undefined ? {} : { subject }),
      });
    },
  };
}
