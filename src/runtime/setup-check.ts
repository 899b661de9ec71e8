// The facts the checks at start read (policy/setup-check.ts), taken from a config, the disk and a
// trust snapshot; and how their problems are logged. Shared by the proxy's start and reload,
// `trustgate policy check --config` and `trustgate doctor`.
import { statSync } from 'node:fs';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { SetupFacts, SetupProblem } from '../policy/setup-check.ts';
import type { TrustSnapshot } from '../trust/types.ts';

/** What of a config the checks read: a Config is one, and so is a parsed config whose secrets are still unread. */
export interface SetupConfig {
  readonly source: string;
  readonly keysDir: string;
  readonly keysDirWritten: string | undefined;
  readonly redis: Config['redis'];
  readonly upstreams: readonly Pick<Config['upstreams'][number], 'name' | 'allow'>[];
  readonly trust: { readonly sigstoreTuf: Pick<NonNullable<Config['trust']['sigstoreTuf']>, 'root' | 'scopes'> | undefined };
}

export function setupFacts(config: SetupConfig, trust: Pick<TrustSnapshot, 'entries' | 'revocations'>, now: number): SetupFacts {
  const tuf = config.trust.sigstoreTuf;
  return {
    configFile: config.source,
    keysDir: { path: config.keysDir, written: config.keysDirWritten, exists: isDirectory(config.keysDir) },
    shared: config.redis.url !== undefined,
    upstreams: config.upstreams.map((u) => ({ name: u.name, repositories: u.allow.map((pattern) => pattern.source) })),
    trust: { entries: trust.entries, revocations: trust.revocations },
    // The TUF refresh creates its root in the background, but only with scopes to give it.
    pending: tuf?.scopes === undefined ? [] : [{ id: tuf.root, kind: 'sigstore-root', scopes: tuf.scopes }],
    now,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * One record per problem, with its `field`: errors at error level, warnings at warn. `context`
 * says when (`start`, `reload`) and which policy (its hash and source).
 */
export function logProblems(logger: Logger, problems: readonly SetupProblem[], context: Record<string, unknown>): void {
  for (const { severity, field, message } of problems) {
    const record = { event: 'setup_problem', severity, field, ...context };
    if (severity === 'error') logger.error(record, `${field}: ${message}`);
    else logger.warn(record, `${field}: ${message}`);
  }
}
