import type { Config } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { instrumentClient } from '../metrics/instrumented-client.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { createUpstreamClient } from '../upstream/index.ts';
import { createUpstreamOutcomes, type UpstreamHealth } from '../upstream/outcomes.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { AddressResolver } from '../upstream/egress.ts';
import { createBlobProxy, type BlobProxy } from './blobs.ts';

export interface UpstreamHandle {
  readonly client: UpstreamClient;
  readonly blobs: BlobProxy;
}

export interface Upstreams {
  get(name: string): UpstreamHandle;
  /** Per upstream, what the last real request to it said (for /readyz). */
  health(): Record<string, UpstreamHealth>;
  close(): Promise<void>;
}

/** Opens one client (manifests, tags, referrers) and one blob proxy per configured upstream. */
export function openUpstreams(config: Config, logger: Logger, metrics?: Metrics, resolver?: AddressResolver): Upstreams {
  const handles = new Map<string, UpstreamHandle>();
  const outcomes = createUpstreamOutcomes(config.upstreams.map((u) => u.name));
  for (const upstream of config.upstreams) {
    const raw = createUpstreamClient(upstream, {
      logger,
      onOutcome: (reachable) => outcomes.record(upstream.name, reachable),
      ...(resolver === undefined ? {} : { resolver }),
    });
    const client = metrics === undefined ? raw : instrumentClient(raw, metrics);
    handles.set(upstream.name, { client, blobs: createBlobProxy(client, logger, metrics, resolver) });
  }
  return {
    get(name) {
      const handle = handles.get(name);
      if (handle === undefined) throw new TypeError(`unknown upstream "${name}"`);
      return handle;
    },
    health: () => outcomes.states(),
    async close() {
      for (const handle of handles.values()) {
        handle.blobs.close();
        await handle.client.close();
      }
    },
  };
}
