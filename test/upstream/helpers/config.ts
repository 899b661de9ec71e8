import type { UpstreamConfig } from '../../../src/config/types.ts';

/** An UpstreamConfig for tests: anonymous, short timeouts, 2 retries. */
export function upstreamConfig(url: string, overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    name: 'local',
    field: 'upstreams[0]',
    url,
    registryHost: new URL(url).host,
    namespaces: [new URL(url).host],
    isDefault: true,
    allow: [],
    credentials: { type: 'anonymous' },
    tokenRealms: [],
    tls: {},
    timeouts: { connectMs: 2_000, headersMs: 2_000, bodyIdleMs: 2_000 },
    retries: 2,
    maxConcurrentRequests: 8,
    blobRedirects: { mode: 'pass', allowedHosts: [], allowedNetworks: [], maxHops: 3 },
    apiRedirects: { allowedHosts: [] },
    ...overrides,
  };
}

export const MANIFEST = {
  method: 'GET',
  path: '/v2/library/app/manifests/latest',
  scope: 'repository:library/app:pull',
  maxBytes: 4 * 1024 * 1024,
} as const;
