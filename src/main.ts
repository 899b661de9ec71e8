#!/usr/bin/env node
import { createApp } from './app.ts';
import { ConfigError, configFromProcess } from './config/index.ts';
import { createGate } from './gate/index.ts';
import { createLogger } from './log/logger.ts';
import { ManifestCache } from './proxy/manifest-cache.ts';
import { openUpstreams } from './proxy/upstreams.ts';
import { listen } from './server/listen.ts';

/** The composition root: the one place real adapters are wired together. */
async function main(): Promise<void> {
  let config;
  try {
    config = configFromProcess();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`trustgate: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.log.level);
  const upstreams = openUpstreams(config, logger);
  const app = createApp({ config, upstreams, gate: createGate(), manifestCache: new ManifestCache(config.manifests.cacheMaxBytes), logger });
  const listening = await listen(app, config.listen, logger);
  logger.info(
    { event: 'started', url: listening.url, config: config.source, upstreams: config.upstreams.map((u) => `${u.name}=${u.url}`) },
    `trustgate listening on ${listening.url}`,
  );
  const stop = async (signal: string): Promise<void> => {
    logger.info({ event: 'stopping', signal }, 'shutting down');
    await listening.close();
    await upstreams.close();
    process.exit(0);
  };
  // A stray rejection is a bug to log, not a reason to drop every in-flight pull.
  process.on('unhandledRejection', (reason) => logger.error({ event: 'unhandled_rejection', err: String(reason) }, 'unhandled rejection'));
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

main().catch((error: unknown) => {
  process.stderr.write(`trustgate: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
