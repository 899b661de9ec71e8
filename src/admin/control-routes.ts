import type { Router } from 'express';
import type { BreakGlassStore } from '../breakglass/entries.ts';
import type { DecisionLog } from '../gate/decision-log.ts';
import type { Gate } from '../gate/types.ts';
import type { PolicyHolder } from '../policy-store/holder.ts';
import type { ApiPolicy } from '../policy-store/api-policy.ts';
import { registerBreakGlassRoutes } from './break-glass-routes.ts';
import { registerExplainRoutes, type ExplainRoutesDeps } from './explain-routes.ts';
import type { Guard } from './route-table.ts';
import { registerPolicyHistoryRoutes } from './policy-history-routes.ts';
import { registerPolicyRoutes } from './policy-routes.ts';
import type { AuditLog } from '../audit/types.ts';

/** What the policy, break-glass, explain and decisions routes need beyond the admin router's own deps. */
export interface ControlDeps {
  readonly policy: PolicyHolder;
  /** Undefined without Redis: policy changes answer 409. */
  readonly apiPolicy: ApiPolicy | undefined;
  readonly breakGlass: BreakGlassStore;
  readonly decisions: DecisionLog;
  /** The gate pulls go through, break glass included. */
  readonly gate: Gate;
}

/** /admin/v1/policy, /breakglass, /explain and /decisions. */
export function registerControlRoutes(
  router: Router,
  guarded: Guard,
  deps: ControlDeps & Omit<ExplainRoutesDeps, 'gate' | 'decisions'> & { readonly audit: AuditLog; readonly now: () => number },
): void {
  registerPolicyRoutes(router, guarded, deps);
  registerPolicyHistoryRoutes(router, guarded, deps);
  registerBreakGlassRoutes(router, guarded, { breakGlass: deps.breakGlass, audit: deps.audit, now: deps.now });
  registerExplainRoutes(router, guarded, deps);
}
