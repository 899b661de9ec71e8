import { readFileSync } from 'node:fs';
import { resolveConfig } from '../config/resolve.ts';
import { createLogger } from '../log/logger.ts';
import { runScanWorker } from '../scanner/worker.ts';
import { UsageError } from '../tools/usage-error.ts';
import { noPositionals, parseFlags, required } from './args.ts';
import { SCAN_WORKER_USAGE } from './usage.ts';

const TOKEN_ENV = 'TRUSTGATE_SCANNER_TOKEN';

/**
 * `trustgate scan-worker`: the reference scanner (src/scanner/). The environment is read here
 * only: the config's (through the resolver), the token's, and trivy's own (passed on to it without
 * any TRUSTGATE_*).
 */
export async function scanWorkerCommand(args: readonly string[], print: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: 'string' },
    api: { type: 'string' },
    'token-file': { type: 'string' },
    trivy: { type: 'string' },
    once: { type: 'boolean' },
    timeout: { type: 'string' },
    'reclaim-idle': { type: 'string' },
    consumer: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    print(SCAN_WORKER_USAGE);
    return 0;
  }
  noPositionals(positionals);
  const api = required(values.api, '--api');
  if (!URL.canParse(api) || !['http:', 'https:'].includes(new URL(api).protocol))
    throw new UsageError(`--api "${api}": trustgate's http:// or https:// base URL`);
  const timeoutMs = milliseconds(values.timeout, '--timeout') ?? 600_000;
  const token = tokenSource(values['token-file'], env);
  const config = resolveConfig({ config: values.config }, env);
  if (config.redis.url === undefined) {
    throw new Error(
      `${config.source} has no redis.url: the scan queue is shared through Redis, so without it there is nothing to take requests from`,
    );
  }
  // trivy gets the environment (HOME, proxies, TRIVY_*, SSL_CERT_FILE) but none of trustgate's own variables.
  const trivyEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('TRUSTGATE_')));
  const controller = new AbortController();
  const logger = createLogger(config.log.level);
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ event: 'stopping', signal }, 'scan worker stopping after the current request');
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const summary = await runScanWorker({
      redisUrl: config.redis.url,
      prefix: config.redis.prefix,
      upstreams: config.upstreams,
      api,
      token,
      trivy: values.trivy ?? 'trivy',
      searchPath: env['PATH'],
      trivyEnv,
      ...(values.consumer === undefined ? {} : { consumer: values.consumer }),
      timeoutMs,
      reclaimIdleMs: milliseconds(values['reclaim-idle'], '--reclaim-idle') ?? config.scans.requeueAfterMs,
      once: values.once ?? false,
      signal: controller.signal,
      logger,
    });
    // --once: 0 when a report was stored or nothing was queued, 1 when the request was not scanned.
    return values.once && summary.claimed > summary.posted ? 1 : 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function milliseconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(ms) || ms <= 0)
    throw new UsageError(`${flag} "${value}": a whole number of milliseconds above 0`);
  return ms;
}

/** The token from --token-file (read again on each post, so it can be rotated) or the environment. */
function tokenSource(file: string | undefined, env: NodeJS.ProcessEnv): () => string {
  if (file !== undefined) {
    const read = (): string => readFileSync(file, 'utf8').trim();
    let first: string;
    try {
      first = read();
    } catch (error) {
      throw new Error(`cannot read --token-file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (first === '') throw new Error(`--token-file ${file} is empty`);
    return read;
  }
  const token = env[TOKEN_ENV]?.trim();
  if (token === undefined || token === '')
    throw new UsageError(`give a token with the role "scanner": --token-file <path>, or ${TOKEN_ENV}`);
  return () => token;
}
