import type { ControlDeps } from '../admin/control-routes.ts';
import type { Gate } from '../gate/types.ts';
import type { PolicyHolder, PolicyHolderOptions } from '../policy-store/holder.ts';
import { parsePolicy, type SigstoreRootKind } from '../policy/parse.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import { parseTrustedIdentity } from '../verify/notation/index.ts';
import type { Backend } from './backend.ts';

/** How the policy holder compiles policy text from the admin API: the same checks as the file, against the trust store as it stands. */
export function policyText(rootKind: SigstoreRootKind): PolicyHolderOptions {
  return { compile: (text, source) => parsePolicy(text, source, (identity) => void parseTrustedIdentity(identity), rootKind) };
}

/** A root lookup over the compiled trust store; `undefined` (nothing known yet) before the store opens. */
export function sigstoreRootKind(trust: () => CompiledTrust | undefined): SigstoreRootKind {
  return (id) => {
    const root = trust()?.material.sigstoreRoots.find((r) => r.id === id);
    return root === undefined ? undefined : root.pki ? 'pki' : 'logged';
  };
}

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
