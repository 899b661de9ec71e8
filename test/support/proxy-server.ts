import { createApp } from '../../src/app.ts';
import { parseConfig } from '../../src/config/index.ts';
import { createGate } from '../../src/gate/index.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { ManifestCache } from '../../src/proxy/manifest-cache.ts';
import { openUpstreams } from '../../src/proxy/upstreams.ts';
import { listen } from '../../src/server/listen.ts';

export interface RunningProxy {
  readonly url: string;
  /** host:port, for image references. */
  readonly host: string;
  close(): Promise<void>;
}

/** trustgate wired exactly as main.ts wires it, listening on a free loopback port. */
export async function startProxy(yaml: string, env: Record<string, string> = {}): Promise<RunningProxy> {
  const config = parseConfig(yaml, 'test.yaml', { env, overrides: { listen: '127.0.0.1:0' } });
  const upstreams = openUpstreams(config, noopLogger);
  const app = createApp({ config, upstreams, gate: createGate(), manifestCache: new ManifestCache(config.manifests.cacheMaxBytes), logger: noopLogger });
  const listening = await listen(app, config.listen, noopLogger);
  return {
    url: listening.url,
    host: new URL(listening.url).host,
    async close() {
      await listening.close();
      await upstreams.close();
    },
  };
}
