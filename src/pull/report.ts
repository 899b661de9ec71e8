import { createHash } from 'node:crypto';
import type { Decision } from '../decision/decision.ts';
import type { DecisionLog } from '../gate/decision-log.ts';
import { logsAt, type Logger } from '../log/logger.ts';
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
  readonly metrics?: Pick<Metrics, 'decision' | 'deniedPull'> | undefined;
  /** GET /admin/v1/decisions: every judged manifest (one with a digest) is recorded. */
  readonly decisions?: DecisionLog | undefined;
  readonly now: () => number;
  /** Which denied pulls repeat one already counted; a fresh window when absent (tests pass one to watch its size). */
  readonly deniedPullWindow?: RepeatWindow | undefined;
  /** Each denied manifest pull, for webhooks (notify/: it rate-limits them); never throws. */
  readonly onDenied?: ((denial: DeniedPull) => void) | undefined;
}

/** A denied manifest pull as webhooks see it: public data only. */
export interface DeniedPull {
  readonly name: string;
  readonly upstream: string | undefined;
  readonly reference: string | undefined;
  readonly digest: Digest | undefined;
  readonly rule: string;
  readonly reasons: Decision['reasons'];
}

/** How long a client's repeat of a denied pull counts as the same pull: HEAD then GET, or a quick retry. */
export const DENIED_PULL_WINDOW_MS = 1000;
/** Keys a window holds at most; past that the oldest is forgotten (its next repeat counts again). */
export const DENIED_PULL_WINDOW_KEYS = 4096;

/**
 * Remembers keys for `windowMs` from when each was counted, in bounded memory: at most `capacity`
 * keys, each a fixed-size hash. Insertion order is counting order, so expired keys are dropped from
 * the front and, when full, the oldest goes first.
 */
export interface RepeatWindow {
  /** True when `key` was not counted in the last `windowMs` (and counts it now); false for a repeat. */
  first(key: string, now: number): boolean;
  /** Keys held now. */
  readonly size: number;
}

export function createRepeatWindow(windowMs = DENIED_PULL_WINDOW_MS, capacity = DENIED_PULL_WINDOW_KEYS): RepeatWindow {
  const counted = new Map<string, number>();
  return {
    first(key, now) {
      for (const [oldest, at] of counted) {
        if (now - at < windowMs && at <= now) break;
        counted.delete(oldest);
      }
      const id = createHash('sha256').update(key).digest('base64');
      const at = counted.get(id);
      if (at !== undefined && now - at < windowMs && at <= now) return false;
      counted.delete(id);
      if (counted.size >= capacity) counted.delete(counted.keys().next().value as string);
      counted.set(id, now);
      return true;
    },
    get size() {
      return counted.size;
    },
  };
}

/**
 * The one place a decision is logged, metered and recorded (README "Logs": the `decision` record).
 * Every kind logs the same fields; `trustgate_decisions_total` counts manifest pulls only, so a
 * blob or tag request never inflates it, and counts each of them.
 *
 * `trustgate_denied_pulls_total` counts denied manifest pulls as a user sees them: a client that
 * asks for the same denied name and digest again within a second (a HEAD then a GET, as Docker does
 * to read the error; a retry) made one pull. The client is the connection's address and the pull-auth
 * subject; a refusal before the manifest was fetched (no digest yet) is keyed by the reference.
 */
export function createDecisionReporter(deps: ReporterDeps): DecisionReporter {
  const deniedPulls = deps.deniedPullWindow ?? createRepeatWindow();
  return {
    report(exchange, { decision, route, name, upstream, reference, digest, started }) {
      const subject = exchange.client?.subject;
      const clientAddress = clientAddressOf(exchange);
      // The record is built only when it is written: at `warn` or `silent` it was an object and an
      // array made and dropped on every pull (bench profile of #15).
      if (logsAt(deps.logger, 'info')) {
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
            clientAddress,
            subject,
          },
          `${route} ${decision.outcome}`,
        );
      }
      if (route !== 'manifest') return;
      deps.metrics?.decision(decision, upstream ?? 'none');
      if (decision.outcome === 'deny')
        deps.onDenied?.({
          name,
          upstream,
          reference: reference && referenceString(reference),
          digest,
          rule: decision.rule,
          reasons: decision.reasons,
        });
      if (decision.outcome === 'deny' && deps.metrics !== undefined) {
        const what = digest ?? (reference === undefined ? '' : referenceString(reference));
        const key = JSON.stringify([clientAddress ?? '', subject ?? '', name, what]);
        if (deniedPulls.first(key, deps.now())) deps.metrics.deniedPull(decision, upstream ?? 'none');
      }
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
