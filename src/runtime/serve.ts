import { unwatchFile, watchFile } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './app.ts';
import { ConfigError, resolveConfig, type Config, type ConfigFlags } from '../config/index.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { formatProblem, SetupError } from '../policy/setup-check.ts';
import { buildRuntime, type Runtime } from './runtime.ts';
import { drain } from '../server/drain.ts';
import { createFront, type Front } from '../server/front.ts';
import { listen, type Listening } from '../server/listen.ts';
import { logProblems } from './setup-check.ts';
import { warmUp, warmupDisabled } from './warmup.ts';

/** How long closing the runtime (Redis, upstream pools) may take after the drain. */
const CLOSE_LIMIT_MS = 5_000;

/**
 * The proxy: the composition root, the one place real adapters are wired together. The config comes
 * from the resolver (config/resolve.ts) given the flags and `env`; never rejects (a bad config, or an
 * error of the checks at start, exits 2; any other start failure exits 1).
 * The listener starts first and answers /healthz and /readyz (503 `starting`) while the runtime
 * (policy, trust store, Redis) is built; then the app is swapped in and /readyz turns 200.
 */
export function serve(flags: ConfigFlags, env: NodeJS.ProcessEnv): Promise<void> {
  return start(flags, env).catch((error: unknown) => {
    process.stderr.write(`trustgate: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

async function start(flags: ConfigFlags, env: NodeJS.ProcessEnv): Promise<void> {
  let config: Config;
  try {
    config = resolveConfig(flags, env);
  } catch (error) {
    bailOnConfigError(error);
  }
  const log = createLogger(config.log.level);
  // A stray rejection is a bug to log, not a reason to drop every in-flight pull.
  process.on('unhandledRejection', (reason) => log.error({ event: 'unhandled_rejection', err: String(reason) }, 'unhandled rejection'));
  const front = createFront(log);
  let runtime: Runtime | undefined;
  const listening = await listen(front.handler, config.listen, log, () => runtime?.deps.metrics.reloadFailure('tls'));
  log.info({ event: 'listening', address: listening.url }, 'listening; loading policy and trust store');
  const onSignal = stopper(config, log, front, listening, () => runtime);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let reload: ((why: string) => void) | undefined;
  process.on('SIGHUP', () => reload?.('SIGHUP')); // ignored until started, instead of ending the process
  // The blob path warms up (runtime/warmup.ts) while the runtime is built; the app takes pulls after both.
  const warming = warmupDisabled(env) ? Promise.resolve(undefined) : warmUp(log);
  runtime = await buildRuntime(config, log).catch(bailOnConfigError);
  await warming;
  if (front.phase() === 'stopping') return; // a signal came first: the drain exits the process
  front.ready(createApp(runtime.deps), runtime.health);
  started(config, runtime, listening, log);
  reload = watchForReloads(config, runtime, log, front);
}

function started(config: Config, runtime: Runtime, listening: Listening, log: Logger): void {
  log.info(
    {
      event: 'started',
      url: listening.url,
      config: config.source,
      policy: { file: config.policyFile, hash: runtime.policy.current().hash, rules: runtime.policy.current().rules.length },
      trust: { version: runtime.trust.snapshot().version, entries: runtime.trust.snapshot().entries.length },
      state: runtime.stateKind,
      upstreams: config.upstreams.map((u) => `${u.name}=${u.url}`),
    },
    `trustgate listening on ${listening.url}`,
  );
}

/**
 * Reloads keys/ and then the policy when the policy file changes; returns the reload for SIGHUP.
 * keys/ goes first, so a policy that trusts a key added with it is checked against that key.
 * Then the checks at start run again and each problem is logged.
 */
function watchForReloads(config: Config, runtime: Runtime, log: Logger, front: Front): (why: string) => void {
  const reload = (why: string): void => {
    if (front.phase() === 'stopping') return;
    log.info({ event: 'reload', why }, 'reloading policy and keys/');
    void runtime
      .reloadKeys()
      .catch((error: unknown) =>
        log.error({ event: 'keys_reload_failed', problem: String(error) }, 'keys/ reload failed; keeping the trust store'),
      )
      .then(() => {
        if (front.phase() === 'stopping') return;
        runtime.policy.reload();
        const running = runtime.policy.current();
        logProblems(log, runtime.setupProblems(), { when: 'reload', policy: running.hash, source: runtime.policy.origin().source });
      });
  };
  const onPolicyFile = (): void => reload('policy file changed');
  watchFile(config.policyFile, { interval: 2_000 }, onPolicyFile);
  return reload;
}

/**
 * SIGTERM/SIGINT: /readyz turns 503 `stopping`, no new connections are accepted, requests in
 * flight get `listen.shutdownGraceMs` to finish, then the rest are cut and the process exits 0.
 * A second signal cuts them at once.
 */
function stopper(
  config: Config,
  log: Logger,
  front: Front,
  listening: Listening,
  runtime: () => Runtime | undefined,
): (signal: string) => void {
  let stopping = false;
  return (signal) => {
    if (stopping) {
      log.warn({ event: 'stopping_now', signal }, 'second signal: closing the remaining connections');
      listening.server.closeAllConnections();
      return;
    }
    stopping = true;
    front.stop();
    unwatchFile(config.policyFile);
    const graceMs = config.listen.shutdownGraceMs;
    log.info({ event: 'stopping', signal, graceMs }, 'shutting down: draining requests in flight');
    const began = performance.now();
    void drain(listening.server, graceMs)
      .then(async (how) => {
        log.info(
          { event: 'drained', forced: how === 'forced', ms: Math.round(performance.now() - began) },
          how === 'forced' ? 'grace period over; remaining connections closed' : 'all requests finished',
        );
        await Promise.race([runtime()?.close(), sleep(CLOSE_LIMIT_MS)]);
      })
      .catch((error: unknown) => log.error({ event: 'stop_failed', err: String(error) }, 'error while stopping'))
      .finally(() => process.exit(0));
  };
}

/** A bad config or policy, or an error of the checks at start, exits 2 with every problem; anything else is rethrown (exit 1). */
function bailOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`trustgate: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof SetupError) {
    const errors = error.problems.filter((p) => p.severity === 'error').length;
    process.stderr.write(
      `trustgate: refusing to start: ${errors} ${errors === 1 ? 'error' : 'errors'} in the checks at start (config/README.md, "Checks at start"):\n` +
        error.problems.map((p) => `  ${formatProblem(p)}\n`).join(''),
    );
    process.exit(2);
  }
  throw error;
}
