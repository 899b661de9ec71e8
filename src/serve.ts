import { unwatchFile, watchFile } from 'node:fs';
import { createApp } from './app.ts';
import { ConfigError, configFromProcess, type Config } from './config/index.ts';
import { createLogger } from './log/logger.ts';
import { buildRuntime } from './runtime.ts';
import { listen } from './server/listen.ts';

/**
 * The proxy: the composition root, the one place real adapters are wired together. `argv` takes
 * `--config <file>`; never rejects (a bad config exits 2, any other start failure exits 1).
 */
export function serve(argv: readonly string[]): Promise<void> {
  return start(argv).catch((error: unknown) => {
    process.stderr.write(`trustgate: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

async function start(argv: readonly string[]): Promise<void> {
  let config: Config;
  let runtime;
  try {
    config = configFromProcess(argv);
    runtime = await buildRuntime(config, createLogger(config.log.level));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`trustgate: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = runtime.deps.logger;
  const listening = await listen(createApp(runtime.deps), config.listen, log);
  log.info(
    {
      event: 'started',
      url: listening.url,
      config: config.source,
      policy: { file: config.policyFile, hash: runtime.policy.current().hash, rules: runtime.policy.current().rules.length },
      trust: { version: runtime.trust.snapshot().version, entries: runtime.trust.snapshot().entries.length },
      state: config.redis.url === undefined ? 'memory' : 'redis',
      upstreams: config.upstreams.map((u) => `${u.name}=${u.url}`),
    },
    `trustgate listening on ${listening.url}`,
  );
  const reload = (why: string): void => {
    log.info({ event: 'reload', why }, 'reloading policy and keys/');
    runtime.policy.reload();
    runtime.reloadKeys().catch((error: unknown) => log.error({ event: 'keys_reload_failed', problem: String(error) }, 'keys/ reload failed; keeping the trust store'));
  };
  const onPolicyFile = (): void => reload('policy file changed');
  watchFile(config.policyFile, { interval: 2_000 }, onPolicyFile);
  process.on('SIGHUP', () => reload('SIGHUP'));
  // A stray rejection is a bug to log, not a reason to drop every in-flight pull.
  process.on('unhandledRejection', (reason) => log.error({ event: 'unhandled_rejection', err: String(reason) }, 'unhandled rejection'));
  const stop = async (signal: string): Promise<void> => {
    log.info({ event: 'stopping', signal }, 'shutting down');
    unwatchFile(config.policyFile, onPolicyFile);
    await listening.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}
