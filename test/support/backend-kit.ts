// Opens the runtime's backend (every store, memory or Redis) for tests, as a replica would.
import { noopLogger, type Logger } from '../../src/log/logger.ts';
import { PolicyHolder } from '../../src/policy-store/holder.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { openBackend, type Backend, type BackendConfig, type BackendOptions } from '../../src/runtime/backend.ts';

export const FILE_POLICY = 'version: 1\nrules: []\n';
export const OPEN_API_POLICY = 'version: 1\nrules:\n  - { name: open, images: ["**"], mode: off }\n';
const HOUR = 3_600_000;

/** The config parts the backend reads; `url` undefined: memory. */
export function backendConfig(url: string | undefined, extra: Partial<BackendConfig> = {}): BackendConfig {
  return {
    redis: { ...(url === undefined ? {} : { url }), prefix: 'unused:' },
    scans: { requeueAfterMs: 60_000 },
    audit: { maxEntries: 100 },
    gate: { verdicts: { allowTtlMs: HOUR, denyTtlMs: HOUR, memoryEntries: 100 }, decisionLog: { maxDigests: 100 } },
    pullAuth: undefined,
    admin: undefined,
    ...extra,
  };
}

/** A policy holder running FILE_POLICY that compiles API policy text (identities unchecked). */
export function policyHolder(logger: Logger = noopLogger): PolicyHolder {
  return new PolicyHolder(() => parsePolicy(FILE_POLICY, 'policy.yaml', () => {}), logger, {
    compile: (text, source) => parsePolicy(text, source, () => {}),
  });
}

export interface Replica {
  readonly backend: Backend;
  readonly policy: PolicyHolder;
}

/** A backend with its own policy holder, closed after the test. */
export async function openReplica(
  defer: (cleanup: () => unknown) => void,
  config: BackendConfig,
  options: Partial<BackendOptions> = {},
): Promise<Replica> {
  const policy = options.policy ?? policyHolder();
  const backend = await openBackend(config, { logger: noopLogger, ...options, policy });
  defer(() => backend.close());
  return { backend, policy };
}
