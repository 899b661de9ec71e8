import type { ControlDeps } from '../admin/control-routes.ts';
import type { Gate } from '../gate/types.ts';
import type { PolicyHolder, PolicyHolderOptions } from '../policy-store/holder.ts';
import { parsePolicy } from '../policy/parse.ts';
import { parseTrustedIdentity } from '../verify/notation/index.ts';
import type { Backend } from './backend.ts';

/** How the policy holder compiles policy text from the admin API: the same checks as the file. */
export const POLICY_TEXT: PolicyHolderOptions = {
  compile: (text, source) => parsePolicy(text, source, (identity) => void parseTrustedIdentity(identity)),
};

/**
 * What the admin API controls pulls through: the backend's API policy (undefined in memory:
 * changes answer 409), break-glass entries and decision records, the policy and the gate. The
 * backend closes the stores.
 */
export function controlDeps(
  backend: Pick<Backend, 'apiPolicy' | 'breakGlass' | 'decisions'>,
  policy: PolicyHolder,
  gate: Gate,
): ControlDeps {
  return { apiPolicy: backend.apiPolicy, breakGlass: backend.breakGlass, decisions: backend.decisions, policy, gate };
}
