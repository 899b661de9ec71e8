// Registry presets (`upstreams[].preset`, docs/presets.md): each big public registry's URL, the
// host in image names, its aliases, its token realms (exact origin + path, never a wildcard) and
// the storage hosts its blob redirects go to, as each registry documents them. A preset never
// fills `repositories`: what may be pulled is always written out. An explicit field replaces the
// preset's value for that field. No I/O here.
import { ConfigError } from '../input/config-error.ts';

export const PRESET_NAMES = ['dockerhub', 'ghcr', 'quay', 'gcr', 'registry-k8s', 'ecr', 'acr', 'artifact-registry'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** What a preset fills in. `url` is absent where the registry is per account or region (the config must give it). */
export interface PresetValues {
  readonly url: string;
  readonly registryHost: string;
  readonly aliases: readonly string[];
  readonly tokenRealms: readonly string[];
  readonly storageHosts: readonly string[];
  readonly apiRedirectHosts: readonly string[];
}

interface Preset {
  /** The fixed URL, or undefined when the config gives it (it must then match `host`). */
  readonly url?: string;
  /** The shape the URL's host must have; its groups feed `derive`. */
  readonly host: RegExp;
  /** What the example host looks like, for the error when the URL does not match. */
  readonly example: string;
  readonly derive: (host: string, groups: readonly string[]) => Omit<PresetValues, 'url' | 'registryHost'> & { registryHost?: string };
}

const PRESETS: Record<PresetName, Preset> = {
  // Docker Hub: images are named docker.io/...; the API is registry-1.docker.io; tokens from
  // auth.docker.io; blobs redirect to Cloudflare (docs.docker.com "Allowlist" for Docker Hub).
  dockerhub: {
    url: 'https://registry-1.docker.io',
    host: /^registry-1\.docker\.io$/,
    example: 'registry-1.docker.io',
    derive: () => ({
      registryHost: 'docker.io',
      aliases: ['index.docker.io', 'registry-1.docker.io'],
      tokenRealms: ['https://auth.docker.io/token'],
      storageHosts: ['production.cloudflare.docker.com', 'docker-images-prod.6aa30f8b08e16409b46e0173d6de2f56.r2.cloudflarestorage.com'],
      apiRedirectHosts: [],
    }),
  },
  // GitHub Container Registry: tokens from ghcr.io/token; blobs from pkg-containers.githubusercontent.com.
  ghcr: {
    url: 'https://ghcr.io',
    host: /^ghcr\.io$/,
    example: 'ghcr.io',
    derive: () => ({
      aliases: [],
      tokenRealms: ['https://ghcr.io/token'],
      storageHosts: ['pkg-containers.githubusercontent.com'],
      apiRedirectHosts: [],
    }),
  },
  // Quay.io: tokens from quay.io/v2/auth; blobs from its CDN and S3 buckets (Quay "firewall" notes).
  quay: {
    url: 'https://quay.io',
    host: /^quay\.io$/,
    example: 'quay.io',
    derive: () => ({
      aliases: [],
      tokenRealms: ['https://quay.io/v2/auth'],
      storageHosts: [
        'cdn.quay.io',
        'cdn01.quay.io',
        'cdn02.quay.io',
        'cdn03.quay.io',
        'quay-registry.s3.amazonaws.com',
        'quayio-production-s3.s3.amazonaws.com',
      ],
      apiRedirectHosts: [],
    }),
  },
  // Google Container Registry (gcr.io and its regional hosts): tokens from <host>/v2/token; blobs from Cloud Storage.
  gcr: {
    url: 'https://gcr.io',
    host: /^(?:(?:us|eu|asia)\.)?gcr\.io$/,
    example: 'gcr.io, us.gcr.io, eu.gcr.io or asia.gcr.io',
    derive: (host) => ({
      aliases: [],
      tokenRealms: [`https://${host}/v2/token`],
      storageHosts: ['storage.googleapis.com'],
      apiRedirectHosts: [],
    }),
  },
  // registry.k8s.io redirects every /v2 request to an Artifact Registry mirror (<region>-docker.pkg.dev)
  // and blobs to those mirrors or to S3 buckets (kubernetes/registry.k8s.io docs: "*.pkg.dev" and
  // "prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com"). Anonymous only.
  'registry-k8s': {
    url: 'https://registry.k8s.io',
    host: /^registry\.k8s\.io$/,
    example: 'registry.k8s.io',
    derive: () => ({
      aliases: [],
      tokenRealms: [],
      storageHosts: ['*-docker.pkg.dev', 'prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com'],
      apiRedirectHosts: ['*-docker.pkg.dev'],
    }),
  },
  // Amazon ECR (private): <account>.dkr.ecr.<region>.amazonaws.com, Basic auth with the 12-hour
  // token of `aws ecr get-login-password`; blobs from the region's S3 layer bucket (ECR user guide,
  // "VPC endpoints": prod-<region>-starport-layer-bucket).
  ecr: {
    host: /^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/,
    example: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    derive: (_host, [region = '', cn = '']) => ({
      aliases: [],
      tokenRealms: [],
      storageHosts: [
        `prod-${region}-starport-layer-bucket.s3.${region}.amazonaws.com${cn}`,
        `prod-${region}-starport-layer-bucket.s3.amazonaws.com${cn}`,
      ],
      apiRedirectHosts: [],
    }),
  },
  // Azure Container Registry: <name>.azurecr.io, token flow on its own origin (/oauth2/token);
  // blobs from its dedicated data endpoints or from Azure Storage ("Configure rules to access an
  // Azure container registry behind a firewall").
  acr: {
    host: /^([a-z0-9]+)\.azurecr\.(io|cn|us)$/,
    example: 'myregistry.azurecr.io',
    derive: (host, [name = '', tld = 'io']) => ({
      aliases: [],
      tokenRealms: [`https://${host}/oauth2/token`],
      storageHosts: [
        `${name}.*.data.azurecr.${tld}`,
        tld === 'cn' ? '*.blob.core.chinacloudapi.cn' : tld === 'us' ? '*.blob.core.usgovcloudapi.net' : '*.blob.core.windows.net',
      ],
      apiRedirectHosts: [],
    }),
  },
  // Google Artifact Registry: <location>-docker.pkg.dev, token flow at <host>/v2/token; blob
  // downloads come from the same host or Cloud Storage.
  'artifact-registry': {
    host: /^[a-z0-9-]+-docker\.pkg\.dev$/,
    example: 'europe-west1-docker.pkg.dev',
    derive: (host) => ({
      aliases: [],
      tokenRealms: [`https://${host}/v2/token`],
      storageHosts: ['storage.googleapis.com'],
      apiRedirectHosts: [],
    }),
  },
};

/**
 * The values `preset` gives an upstream whose config wrote `url` (or nothing, where the preset
 * has a fixed URL). A URL that is not the registry's shape is a ConfigError on `field.url`.
 */
export function presetValues(preset: PresetName, url: string | undefined, field: string, source: string): PresetValues {
  const spec = PRESETS[preset];
  const chosen = url ?? spec.url;
  if (chosen === undefined) {
    throw new ConfigError(source, `${field}.url`, `preset "${preset}" needs the registry's URL, such as https://${spec.example}`);
  }
  const parsed = new URL(chosen);
  // Every registry a preset names is served over HTTPS; plain http would send its credentials in clear.
  if (parsed.protocol !== 'https:')
    throw new ConfigError(source, `${field}.url`, `preset "${preset}" is served over https; "${chosen}" is not`);
  const host = parsed.hostname;
  const match = spec.host.exec(host);
  if (match === null) {
    throw new ConfigError(
      source,
      `${field}.url`,
      `preset "${preset}" is for ${spec.example}; "${host}" is not that registry (drop the preset to use another)`,
    );
  }
  const derived = spec.derive(host, match.slice(1));
  return { url: chosen, registryHost: derived.registryHost ?? host, ...derived };
}
