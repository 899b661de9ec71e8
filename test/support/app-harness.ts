import { createApp } from '../../src/app.ts';
import { parseConfig, type Config } from '../../src/config/index.ts';
import { createGate } from '../../src/gate/index.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { ManifestCache } from '../../src/proxy/manifest-cache.ts';
import { openUpstreams, type Upstreams } from '../../src/proxy/upstreams.ts';
import type express from 'express';

export interface Harness {
  readonly app: express.Express;
  readonly config: Config;
  readonly upstreams: Upstreams;
  close(): Promise<void>;
}

/** The real app over real upstream clients, configured from YAML text like a user would. */
export function appFor(yaml: string, env: Record<string, string> = {}): Harness {
  const config = parseConfig(yaml, 'test.yaml', { env });
  const upstreams = openUpstreams(config, noopLogger);
  const app = createApp({ config, upstreams, gate: createGate(), manifestCache: new ManifestCache(config.manifests.cacheMaxBytes), logger: noopLogger });
  return { app, config, upstreams, close: () => upstreams.close() };
}

/** One default upstream at `url` allowing `<host>/allowed/**`, with optional extra YAML under it. */
export function singleUpstream(url: string, extra = ''): string {
  const host = new URL(url).host;
  return `
listen: { plainHttp: true }
upstreams:
  - name: up
    url: ${url}
    default: true
    repositories: ["${host}/allowed/**"]
    retries: 1
    timeouts: { connectMs: 1000, headersMs: 1000, bodyIdleMs: 1000 }
${extra}`;
}
