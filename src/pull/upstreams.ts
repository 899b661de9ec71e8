import type { Config } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { instrumentClient } from '../metrics/instrumented-client.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { createUpstreamClient } from '../upstream/index.ts';
import { createUpstreamOutcomes, type UpstreamHealth } from '../upstream/outcomes.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { AddressResolver } from '../upstream/egress.ts';
import type { BlobStore } from '../blobcache/types.ts';
import { createBlobProxy } from './blobs.ts';
import { createCachedBlobs, uncachedBlobs, type BlobServer } from './cached-blobs.ts';

export interface UpstreamHandle {
  readonly client: UpstreamClient;
  readonly blobs: BlobServer;
}

export interface Upstreams {
  get(name: string): UpstreamHandle;
  /** Per upstream, what the last real request to it said (for /readyz). */
  health(): Record<string, UpstreamHealth>;
  /** Whether the last real request to this upstream found it unreachable. */
  down(name: string): boolean;
  close(): Promise<void>;
}

/**
 * Opens one client (manifests, tags, referrers) and one blob proxy per configured upstream; with
 * `store` (blobCache.enabled), the blob proxy sits behind the verified cache.
 */
export function openUpstreams(config: Config, logger: Logger, metrics?: Metrics, resolver?: AddressResolver, store?: BlobStore): Upstreams {
  const handles = new Map<string, UpstreamHandle>();
  const outcomes = createUpstreamOutcomes(config.upstreams.map((u) => u.name));
  for (const upstream of config.upstreams) {
    const raw = createUpstreamClient(upstream, {
      logger,
      onOutcome: (reachable) => outcomes.record(upstream.name, reachable),
      ...(resolver === undefined ? {} : { resolver }),
    });
    const client = metrics === undefined ? raw : instrumentClient(raw, metrics);
    const proxy = createBlobProxy(client, logger, metrics, resolver, (reachable) => outcomes.record(upstream.name, reachable));
    const blobs =
      store === undefined
        ? uncachedBlobs(proxy)
        : createCachedBlobs({
            store,
            proxy,
            client,
            failStatic: config.blobCache.failStatic,
            upstreamDown: () => outcomes.state(upstream.name) === 'down',
            logger,
            metrics,
          });
    handles.set(upstream.name, { client, blobs });
  }
  return {
    get(name) {
      const handle = handles.get(name);
      if (handle === undefined) throw new TypeError(`unknown upstream "${name}"`);
      return handle;
    },
    health: () => outcomes.states(),
    down: (name) => outcomes.state(name) === 'down',
    async close() {
      for (const handle of handles.values()) {
        handle.blobs.close();
        await handle.client.close();
      }
    },
  };
}
