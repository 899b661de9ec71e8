import type { ImagePattern } from '../oci/pattern.ts';
import type { Secret } from './secret.ts';
import type { PullAuthConfig } from './pull-auth.ts';
import type { Purpose } from '../trust/types.ts';
import type { NotificationType } from './schema.ts';

export type UpstreamCredentials =
  | { readonly type: 'anonymous' }
  | { readonly type: 'basic'; readonly username: string; readonly password: Secret }
  | { readonly type: 'bearer'; readonly token: Secret };

export interface UpstreamConfig {
  readonly name: string;
  /** Where this upstream sits in the config (`upstreams[2]`), so errors name the setting to change. */
  readonly field: string;
  /** The registry preset it was built from (config/presets.ts), if any. */
  readonly preset?: string | undefined;
  /** Base URL without a trailing slash; `/v2/...` is appended. */
  readonly url: string;
  /** The host in canonical names: `<registryHost>/<repository>`. */
  readonly registryHost: string;
  /** Hosts a client may name in `?ns=` for this upstream (registryHost included). */
  readonly namespaces: readonly string[];
  readonly isDefault: boolean;
  readonly allow: readonly ImagePattern[];
  readonly credentials: UpstreamCredentials;
  /**
   * Token endpoints (Docker token auth `realm`) trustgate may call for this upstream, besides
   * realms on the upstream's own origin. Anything else an upstream names is refused (no SSRF).
   */
  readonly tokenRealms: readonly string[];
  readonly tls: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  readonly timeouts: { readonly connectMs: number; readonly headersMs: number; readonly bodyIdleMs: number };
  readonly retries: number;
  readonly maxConcurrentRequests: number;
  /**
   * Blob redirects (docs/redirects.md): `pass` hands the checked Location to the client, `follow`
   * streams it through trustgate; signature blobs are always followed. `allowedHosts` are host
   * patterns besides the upstream's own origin; `allowedNetworks` lets hops reach special addresses
   * (loopback, private, ...); at most `maxHops` redirects are followed in a row (API redirects too).
   */
  readonly blobRedirects: {
    readonly mode: 'pass' | 'follow';
    readonly allowedHosts: readonly string[];
    readonly allowedNetworks: readonly string[];
    readonly maxHops: number;
  };
  /** Hosts a manifest, tag or referrers request may be redirected to (registry.k8s.io's mirrors). */
  readonly apiRedirects: { readonly allowedHosts: readonly string[] };
}

export interface ListenConfig {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
  /** Drain time on SIGTERM/SIGINT before the remaining connections are closed. */
  readonly shutdownGraceMs: number;
}

export interface AdminConfig {
  /** Absent when only bootstrap tokens are accepted. */
  readonly jwks?: { readonly file?: string; readonly url?: string };
  /** `trustgate token mint` tokens are accepted too; dataDir is absolute. */
  readonly bootstrap?: { readonly dataDir: string };
  readonly issuer: string;
  readonly audience: string;
  readonly rolesClaim: string;
  readonly maxBodyBytes: number;
  readonly maxClockSkewMs: number;
  /** Per minute: authenticated calls per subject and per address; failed authentications (401) per address. */
  readonly rateLimit: { readonly requestsPerMinute: number; readonly failedAuthPerMinute: number };
  /** The security console at /admin/ui/ (`admin.console`). */
  readonly console: AdminConsoleConfig;
}

/** `admin.console`: whether the console is served, and its OIDC client (authorization code + PKCE). */
export interface AdminConsoleConfig {
  readonly enabled: boolean;
  readonly oidc?: {
    readonly clientId: string;
    readonly redirectUri: string;
    readonly scopes?: readonly string[];
    readonly authorizationEndpoint?: string;
    readonly tokenEndpoint?: string;
  };
}

/**
 * `trust.sigstoreTuf`: keep one `sigstore-root` trust entry up to date from a TUF repository's
 * `trusted_root.json` target (docs/tuf-refresh.md). Paths are absolute.
 */
export interface SigstoreTufConfig {
  /** The trust entry id. */
  readonly root: string;
  /** The TUF repository's base URL, without a trailing slash. */
  readonly mirror: string;
  /** The pinned first TUF root.json; copied into the cache only when the cache holds none. */
  readonly initialRoot: string;
  readonly cacheDir: string;
  readonly intervalMs: number;
  /** For creating the entry when the store has none with this id; an existing entry keeps its own. */
  readonly scopes: readonly string[] | undefined;
  readonly purposes: readonly Purpose[];
}

export interface Config {
  readonly source: string;
  readonly listen: ListenConfig;
  readonly log: { readonly level: string };
  readonly redis: { readonly url?: string; readonly prefix: string };
  readonly manifests: { readonly maxBytes: number; readonly cacheMaxBytes: number; readonly tagTtlMs: number };
  readonly upstreams: readonly UpstreamConfig[];
  /** The verified pull-through blob cache (docs/blob-cache.md); `directory` is absolute. */
  readonly blobCache: BlobCacheConfig;
  /** Absolute paths. */
  readonly policyFile: string;
  readonly keysDir: string;
  /** `keys.dir` as written in the file; undefined when it is not set and the default (relative to the file) applies. */
  readonly keysDirWritten: string | undefined;
  readonly admin: AdminConfig | undefined;
  readonly scans: { readonly requeueAfterMs: number };
  /** The audit log keeps about this many entries (XADD MAXLEN ~). */
  readonly audit: { readonly maxEntries: number };
  /** Pull-side access control; undefined: pulls are not authenticated. */
  readonly pullAuth: PullAuthConfig | undefined;
  /** Trust-store sources beyond keys/ and the admin API. */
  readonly trust: { readonly sigstoreTuf: SigstoreTufConfig | undefined };
  /** Outbound webhooks; undefined: none. */
  readonly notifications: NotificationsConfig | undefined;
  readonly gate: {
    readonly blobGate: boolean;
    readonly verdicts: { readonly allowTtlMs: number; readonly denyTtlMs: number; readonly memoryEntries: number };
    readonly discovery: { readonly maxSignatures: number; readonly maxBlobBytes: number; readonly maxRequests: number };
    /** Most digests with a decision-record list in Redis; the least recently pulled are evicted past it. */
    readonly decisionLog: { readonly maxDigests: number };
  };
}

/** One webhook endpoint (docs/notifications.md); `S` is a Secret once read, a SecretRef before. */
export interface NotificationEndpointOf<S> {
  readonly name: string;
  /** Where it sits in the config (`notifications.endpoints[0]`). */
  readonly field: string;
  readonly url: S;
  readonly secret: S | undefined;
  readonly format: 'generic' | 'slack' | 'teams';
  /** Event types, `<group>.*` or `*`. */
  readonly events: readonly string[];
  readonly timeoutMs: number;
}

/** `notifications:`: outbound webhooks, configured in the file only. */
export interface NotificationsConfigOf<S> {
  readonly endpoints: readonly NotificationEndpointOf<S>[];
  readonly instance: string | undefined;
  readonly allowedNetworks: readonly string[];
  readonly queue: { readonly maxPending: number; readonly maxAttempts: number; readonly backoffMs: number; readonly maxBackoffMs: number };
  readonly denials: { readonly windowMs: number; readonly maxKeys: number };
  readonly keyExpiry: { readonly warnDays: readonly number[]; readonly checkIntervalMs: number };
  readonly scanStall: { readonly afterMs: number; readonly checkIntervalMs: number };
}

export type NotificationEndpointConfig = NotificationEndpointOf<Secret>;
export type NotificationsConfig = NotificationsConfigOf<Secret>;
export type { NotificationType };

export interface BlobCacheConfig {
  readonly enabled: boolean;
  readonly directory: string;
  readonly maxBytes: number;
  /** While an upstream is unreachable (connection errors, timeouts, 5xx), serve by digest from the cache under still-valid verdicts only. */
  readonly failStatic: boolean;
}

/** Where `admin.bootstrap` keeps its signing key when the file names no dataDir, relative to the working directory. */
export const DEFAULT_BOOTSTRAP_DIR = '.data/admin';
