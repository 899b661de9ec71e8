import { z } from 'zod';
import { PRESET_NAMES } from './presets.ts';
import { KEY_ID } from '../trust/key-id.ts';

// The file format. Every field is documented in config/README.md; keep the two in step.
// Each default is written once, on its field: `.prefault({})` runs an absent section through its
// fields' own defaults (a `.default({...})` there would repeat them).
const durationMs = z.number().int().positive();
/** A secret named, never written: `{ env: NAME }` or `{ file: path }` (relative to the config file). */
const secretRef = z
  .strictObject({ env: z.string().min(1).optional(), file: z.string().min(1).optional() })
  .refine((ref) => (ref.env === undefined) !== (ref.file === undefined), 'give exactly one of "env" or "file"');

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, 'expected "host:port"')
  .refine((address) => Number(address.slice(address.lastIndexOf(':') + 1)) <= 65_535, 'the port must be from 0 to 65535');

/**
 * A redirect host: `host[:port]`, where `*` inside a label matches part of one DNS label. The last
 * two labels are always literal, so no pattern can cover a whole top-level domain (`*.com`).
 */
const hostPattern = z
  .string()
  .toLowerCase()
  .regex(
    /^(?:(?:[a-z0-9*-]+\.)*[a-z0-9-]+\.[a-z0-9-]+|\[[0-9a-f:.]+\]|[0-9.]+)(?::\d{1,5})?$/,
    'a host such as "cdn.example.com", "*.blob.core.windows.net" or "cdn.example.com:8443"',
  )
  .refine((p) => !/\*\*/.test(p), 'one "*" per run of characters');

/** 4 or 6 for an IP address literal, else 0 (the URL parser checks IPv6; no I/O). */
function ipFamily(text: string): 0 | 4 | 6 {
  if (/^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(text)) return 4;
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return 0;
  return URL.canParse(`http://[${text}]/`) ? 6 : 0;
}

const cidr = z.string().refine((text) => {
  const [net = '', bits, ...rest] = text.split('/');
  const family = ipFamily(net);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}, 'an address or CIDR network such as "10.0.0.0/8" or "fd00::/8"');

const upstreamAuth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('anonymous') }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: secretRef }),
  z.strictObject({ type: z.literal('bearer'), token: secretRef }),
]);

const upstream = z.strictObject({
  name: z.string().regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, 'lowercase letters, digits, "-" and "_"'),
  /** A big public registry's settings (presets.ts); explicit fields replace the preset's. */
  preset: z.enum(PRESET_NAMES).optional(),
  /** Required unless the preset has a fixed URL (config/presets.ts). */
  url: z
    .url({ protocol: /^https?$/ })
    .refine((u) => !/[?#]/.test(u), 'no query or fragment')
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), 'no credentials in the URL (they would be ignored and logged): use auth')
    .optional(),
  registryHost: z
    .string()
    .regex(/^[a-z0-9.-]+(?::\d{1,5})?$/, 'a registry host such as "docker.io" or "127.0.0.1:5000"')
    .optional(),
  // aliases, tokenRealms and the redirect host lists have no default here: absent means "the
  // preset's value, or none" (upstreams.ts), and an explicit list, even [], replaces the preset's.
  aliases: z.array(z.string().min(1)).optional(),
  default: z.boolean().default(false),
  repositories: z.array(z.string().min(1)).min(1),
  auth: upstreamAuth.default({ type: 'anonymous' }),
  tokenRealms: z.array(z.url({ protocol: /^https?$/ })).optional(),
  allowAnonymousPulls: z.boolean().default(false),
  tls: z
    .strictObject({ caFile: z.string().optional(), certFile: z.string().optional(), keyFile: z.string().optional() })
    .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'certFile and keyFile go together')
    .prefault({}),
  timeouts: z
    .strictObject({ connectMs: durationMs.default(5_000), headersMs: durationMs.default(30_000), bodyIdleMs: durationMs.default(30_000) })
    .prefault({}),
  retries: z.number().int().min(0).max(5).default(2),
  maxConcurrentRequests: z.number().int().min(1).max(10_000).default(64),
  blobRedirects: z
    .strictObject({
      mode: z.enum(['pass', 'follow']).default('pass'),
      allowedHosts: z.array(hostPattern).optional(),
      /** Networks a redirect hop may resolve into although they are loopback, private, link-local or otherwise special. */
      allowedNetworks: z.array(cidr).default([]),
      maxHops: z.number().int().min(1).max(10).default(3),
    })
    .prefault({}),
  apiRedirects: z.strictObject({ allowedHosts: z.array(hostPattern).optional() }).prefault({}),
});

const listen = z.strictObject({
  address: hostPort.default('127.0.0.1:5050'),
  plainHttp: z.boolean().default(false),
  tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  maxHeaderBytes: z.number().int().min(1024).max(1_048_576).default(16_384),
  headersTimeoutMs: durationMs.default(10_000),
  requestTimeoutMs: durationMs.default(300_000),
  keepAliveTimeoutMs: durationMs.default(5_000),
  maxConnections: z.number().int().positive().default(4_096),
  /** On SIGTERM/SIGINT: how long in-flight requests may run before their connections are closed. */
  shutdownGraceMs: durationMs.default(25_000),
});

const gate = z.strictObject({
  /** Serve a blob only when an allowed manifest of that repository references it. */
  blobGate: z.boolean().default(true),
  verdicts: z
    .strictObject({
      allowTtlMs: durationMs.default(3_600_000),
      denyTtlMs: durationMs.default(30_000),
      memoryEntries: z.number().int().min(1).max(1_000_000).default(10_000),
    })
    .prefault({}),
  discovery: z
    .strictObject({
      maxSignatures: z.number().int().min(1).max(200).default(50),
      maxBlobBytes: z
        .number()
        .int()
        .min(1024)
        .max(16 * 1_048_576)
        .default(1_048_576),
      maxRequests: z.number().int().min(2).max(1_000).default(64),
    })
    .prefault({}),
  /** Decision records in Redis (`<prefix>decisions:<digest>`): at most this many digests have a list. */
  decisionLog: z.strictObject({ maxDigests: z.number().int().min(100).max(10_000_000).default(100_000) }).prefault({}),
});

/** `admin.console`: the security console at /admin/ui/ and its OIDC sign-in (authorization code + PKCE). */
const CONSOLE_LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** https, or http on a loopback host (a console run on the operator's machine); no fragment (RFC 6749 §3.1.2). */
const consoleUrl = (what: string) =>
  z
    .string()
    .min(1)
    .max(2048)
    .refine((text) => {
      try {
        const url = new URL(text);
        return url.hash === '' && (url.protocol === 'https:' || (url.protocol === 'http:' && CONSOLE_LOOPBACK.has(url.hostname)));
      } catch {
        return false;
      }
    }, `${what} must be an https URL (or http on 127.0.0.1, [::1] or localhost), without a fragment`);
const adminConsole = z
  .strictObject({
    /** Serve the console beside the admin API (the API enforces every check either way). */
    enabled: z.boolean().default(true),
    /** The console's OIDC client at the admin issuer; absent: the console takes a pasted token only. */
    oidc: z
      .strictObject({
        clientId: z.string().min(1).max(256),
        /** Compared as an exact string by the issuer: give it exactly as registered there. */
        redirectUri: consoleUrl('the redirect URI'),
        scopes: z
          .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'a scope is printable ASCII without spaces, quotes or backslashes'))
          .min(1)
          .max(32)
          .optional(),
        /** Absent: read from the issuer's /.well-known/openid-configuration. */
        authorizationEndpoint: consoleUrl('the authorization endpoint').optional(),
        tokenEndpoint: consoleUrl('the token endpoint').optional(),
      })
      .optional(),
  })
  .prefault({});

const admin = z
  .strictObject({
    /** The JWKS that verifies admin bearer tokens: a local file, or a remote issuer's jwks_uri. */
    jwks: z
      .strictObject({ file: z.string().min(1).optional(), url: z.url({ protocol: /^https?$/ }).optional() })
      .refine((j) => (j.file === undefined) !== (j.url === undefined), 'give exactly one of "file" or "url"')
      .optional(),
    /** Also trust tokens from `trustgate token mint`, signed with the key in dataDir (made there if missing). */
    bootstrap: z.strictObject({ dataDir: z.string().min(1).optional() }).optional(),
    issuer: z.string().min(1),
    audience: z.string().min(1),
    /** The claim that lists a token's roles (admin, key-manager, scanner, auditor). */
    rolesClaim: z.string().min(1).default('roles'),
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1_048_576)
      .default(16 * 1_048_576),
    /** A scan report dated later than now by more than this is refused. */
    maxClockSkewMs: z.number().int().min(0).max(3_600_000).default(300_000),
    /** Fixed one-minute windows: authenticated calls per subject and per address; 401s per address. */
    rateLimit: z
      .strictObject({
        requestsPerMinute: z.number().int().min(1).max(1_000_000).default(600),
        failedAuthPerMinute: z.number().int().min(1).max(100_000).default(20),
      })
      .prefault({}),
    console: adminConsole,
  })
  .refine((a) => a.jwks !== undefined || a.bootstrap !== undefined, { path: ['jwks'], message: 'required unless admin.bootstrap is set' })
  .optional();

const scanQueue = z
  .strictObject({
    /** A queued digest nobody scanned is queued again after this long. */
    requeueAfterMs: durationMs.default(900_000),
  })
  .prefault({});

// The `pullAuth:` section (config/README.md, "pullAuth"). Absent: pulls are not authenticated.
// Both go into a quoted WWW-Authenticate auth-param (RFC 9110 §11.2): no quotes, backslashes or controls.
const quotable = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

const pullAuth = z
  .strictObject({
    signingKey: secretRef,
    issuer: z.string().min(1).max(256).default('trustgate'),
    service: z.string().max(256).regex(quotable, 'printable characters without spaces, quotes or backslashes').optional(),
    tokenTtlSeconds: z.number().int().min(60).max(86_400).default(300),
    realm: z
      .url({ protocol: /^https?$/ })
      .regex(quotable, 'no quotes, spaces or backslashes')
      .optional(),
    oidc: z
      .strictObject({
        issuer: z.string().min(1),
        jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
        jwksFile: z.string().min(1).optional(),
        audience: z.string().min(1),
        usernameClaim: z.string().min(1).default('sub'),
        grants: z.array(z.strictObject({ subject: z.string().min(1), repositories: z.array(z.string().min(1)).min(1) })).default([]),
      })
      .refine((o) => (o.jwksUrl === undefined) !== (o.jwksFile === undefined), 'give exactly one of "jwksUrl" or "jwksFile"')
      .optional(),
    rateLimit: z
      .strictObject({
        maxFailures: z.number().int().min(1).max(100_000).default(10),
        windowMs: z.number().int().min(1_000).default(60_000),
      })
      .prefault({}),
  })
  .optional();

// The `trust:` section (config/README.md, "trust"). Absent: nothing is refreshed from the network.
/** Plain http only to this host (a local mirror or a test): TUF signs the metadata, but https is the rule elsewhere. */
const LOOPBACK = /^(127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/;
const httpsOrLoopback = (u: string): boolean => {
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || LOOPBACK.test(url.hostname);
  } catch {
    return false;
  }
};

const sigstoreTuf = z.strictObject({
  /** The `sigstore-root` trust entry this refresh keeps up to date. */
  root: z.string().regex(KEY_ID, 'a trust entry id: lowercase letters, digits, ".", "_" and "-", at most 63'),
  /** The TUF repository (metadata at `<mirror>/N.root.json`, `timestamp.json`…; targets under `<mirror>/targets/`). */
  mirror: z
    .url({ protocol: /^https?$/ })
    .refine((u) => !/[?#]/.test(u), 'no query or fragment')
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), 'no credentials in the URL')
    .refine(httpsOrLoopback, 'must be https:// (plain http only on a loopback address)'),
  /** The first trusted TUF root.json, relative to this config file: read once, into an empty cacheDir. */
  initialRoot: z.string().min(1),
  /** Where the TUF client keeps the metadata it trusts (rollback protection) and the target; relative to this config file. */
  cacheDir: z.string().min(1),
  intervalMs: z.number().int().min(60_000).max(604_800_000).default(21_600_000),
  /** Only used to create the entry when the store has none with this id. */
  scopes: z.array(z.string().min(1)).min(1).optional(),
  purposes: z
    .array(z.enum(['sign', 'scan']))
    .min(1)
    .default(['sign']),
});

const trust = z.strictObject({ sigstoreTuf: sigstoreTuf.optional() });

// The `notifications:` section (docs/notifications.md). Absent: no webhooks are sent.
/** Every event a webhook may carry, a closed set (docs/notifications.md "Events"). */
export const NOTIFICATION_TYPES = [
  'pull.denied',
  'breakglass.opened',
  'breakglass.used',
  'breakglass.ended',
  'key.revoked',
  'key.expiring',
  'policy.applied',
  'scans.stalled',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** An event type, `<group>.*` (`breakglass.*`) or `*`. */
const notificationFilter = z
  .string()
  .refine(
    (f) =>
      f === '*' ||
      (NOTIFICATION_TYPES as readonly string[]).includes(f) ||
      (f.endsWith('.*') && NOTIFICATION_TYPES.some((t) => t.startsWith(f.slice(0, -1)))),
    `an event type (${NOTIFICATION_TYPES.join(', ')}), a group such as "breakglass.*", or "*"`,
  );

const notificationEndpoint = z
  .strictObject({
    /** Logs and metrics name the endpoint by this, never by its URL (a URL is a secret: Slack's holds its token). */
    name: z
      .string()
      .regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, 'lowercase letters, digits, "-" and "_"')
      .max(64),
    url: secretRef,
    /** The HMAC-SHA256 key of `X-Trustgate-Signature`. */
    secret: secretRef.optional(),
    format: z.enum(['generic', 'slack', 'teams']).default('generic'),
    events: z.array(notificationFilter).min(1).default(['*']),
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  })
  .refine((e) => e.format !== 'generic' || e.secret !== undefined, {
    path: ['secret'],
    message: 'required for format "generic": receivers verify the signature with it',
  });

const notifications = z
  .strictObject({
    endpoints: z.array(notificationEndpoint).min(1),
    /** `trustgate.instance` in every payload; absent: the host name. */
    instance: z.string().min(1).max(128).optional(),
    /** Networks an endpoint may resolve into although they are loopback, private, link-local or otherwise special (docs/redirects.md). */
    allowedNetworks: z.array(cidr).default([]),
    queue: z
      .strictObject({
        maxPending: z.number().int().min(1).max(1_000_000).default(10_000),
        maxAttempts: z.number().int().min(1).max(30).default(8),
        backoffMs: z.number().int().min(100).max(600_000).default(1_000),
        maxBackoffMs: z.number().int().min(100).max(86_400_000).default(300_000),
      })
      .prefault({}),
    denials: z
      .strictObject({
        windowMs: z.number().int().min(1_000).max(86_400_000).default(600_000),
        maxKeys: z.number().int().min(1).max(1_000_000).default(10_000),
      })
      .prefault({}),
    keyExpiry: z
      .strictObject({
        warnDays: z.array(z.number().int().min(1).max(365)).min(1).default([14]),
        checkIntervalMs: z.number().int().min(60_000).max(86_400_000).default(3_600_000),
      })
      .prefault({}),
    scanStall: z
      .strictObject({
        afterMs: z.number().int().min(60_000).max(86_400_000).default(1_800_000),
        checkIntervalMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
      })
      .prefault({}),
  })
  .optional();

export const configSchema = z.strictObject({
  listen: listen.prefault({}),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  redis: z
    .strictObject({
      url: z.string().min(1).optional(),
      /** Prefix of every key and channel; a hash tag keeps them in one Cluster slot. */
      prefix: z
        .string()
        .regex(/^\{[A-Za-z0-9_.-]+\}:$/, 'a hash tag and a colon, like "{trustgate}:"')
        .default('{trustgate}:'),
    })
    .prefault({}),
  manifests: z
    .strictObject({
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .max(64 * 1_048_576)
        .default(4 * 1_048_576),
      cacheMaxBytes: z
        .number()
        .int()
        .min(0)
        .default(64 * 1_048_576),
      /** Off (0) by default: every by-tag pull asks the upstream which digest the tag names. */
      tagTtlMs: z.number().int().min(0).max(300_000).default(0),
    })
    .prefault({}),
  /**
   * The verified pull-through blob cache (docs/blob-cache.md); off by default. Blobs (and, for fail
   * static, manifests) on local disk under `directory`, at most `maxBytes`, least recently used evicted.
   */
  blobCache: z
    .strictObject({
      enabled: z.boolean().default(false),
      directory: z.string().min(1).default('/var/cache/trustgate/blobs'),
      maxBytes: z
        .number()
        .int()
        .min(16 * 1_048_576)
        .default(10 * 1_073_741_824),
      /** Opt-in: while the upstream is unreachable, serve by digest from the cache under still-valid verdicts only. */
      failStatic: z.boolean().default(false),
    })
    .prefault({}),
  upstreams: z.array(upstream).min(1),
  /** The policy file, relative to this config file. */
  policy: z.strictObject({ file: z.string().min(1).default('policy.yaml') }).prefault({}),
  /** The trust store's declarations (keys/README.md), relative to this config file. */
  keys: z.strictObject({ dir: z.string().min(1).default('../keys') }).prefault({}),
  gate: gate.prefault({}),
  /** The admin API under /admin/v1; absent: no admin API. */
  admin,
  scans: scanQueue,
  /** The audit log (Redis stream `<prefix>audit`, or memory): how many entries it keeps. */
  audit: z.strictObject({ maxEntries: z.number().int().min(100).max(10_000_000).default(100_000) }).prefault({}),
  /** Pull-side access control (Docker token auth); absent: pulls are not authenticated. */
  pullAuth,
  /** Trust-store sources beyond keys/ and the admin API; `trust.sigstoreTuf` absent: no refresh. */
  trust: trust.prefault({}),
  /** Outbound webhooks (docs/notifications.md); absent: none. */
  notifications,
});

export type ConfigFile = z.infer<typeof configSchema>;
export type UpstreamFile = z.infer<typeof upstream>;
export type PullAuthFile = z.infer<typeof pullAuth>;
export type NotificationsFile = z.infer<typeof notifications>;
