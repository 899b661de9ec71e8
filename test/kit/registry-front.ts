// A local stand-in for a big public registry, in front of a real `docker-registry` (registry.ts,
// plain http on loopback, no auth). It behaves like the named registry on the wire: its token realm
// (on another origin for Docker Hub), Basic auth (ECR) or none (registry.k8s.io), blob GETs answered
// with a 307 to a storage host with a signed URL query that the storage host checks, registry.k8s.io's
// redirect of every API request to an Artifact Registry mirror, a 429 switch, and a request log.
//
// Every host name the front stands in for (ghcr.io, auth.docker.io, pkg-containers.githubusercontent.com,
// ...) gets its own HTTPS server on a free 127.0.0.1 port, with one certificate (from a test CA) that
// names them all. A test maps the names to those ports with `connectTo` (upstream/egress.ts
// `connectToResolver`), as curl's --connect-to does. Each server checks that SNI and Host name its
// host (421 otherwise), so a request that reached it was really sent to that name.
//
// The behaviour written here comes from the registries' documents, never from src/config/presets.ts:
// the point is to catch a preset that does not match the registry.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { TLSSocket } from 'node:tls';
import type { HttpGetResult } from './http-get.ts';
import { makeTls, openssl } from './tls.ts';

export const FRONT_PRESETS = ['dockerhub', 'ghcr', 'quay', 'gcr', 'registry-k8s', 'ecr', 'acr', 'artifact-registry'] as const;
export type FrontPreset = (typeof FRONT_PRESETS)[number];

/** A storage host no preset lists: a registry that moved its blobs there needs a config change. */
export const UNLISTED_STORAGE_HOST = 'blobs.unlisted-cdn.example.net';

/** How a storage provider writes a signed (pre-signed) URL's query. */
type SignedUrlStyle = 's3' | 'gcs' | 'azure-sas' | 'cloudfront' | 'cloudflare';

type FrontAuth =
  /** Docker token auth (distribution docs/spec/auth/token.md "How to authenticate"): 401 Bearer challenge, token from the realm. */
  | { readonly kind: 'token'; readonly realm: string; readonly service: string }
  /** A Basic challenge, answered with Basic credentials on every request (ECR: user AWS, a 12-hour token as password). */
  | { readonly kind: 'basic'; readonly realm: string; readonly service: string }
  | { readonly kind: 'anonymous' };

export interface FrontSpec {
  /** The host of the registry API (the preset's URL). */
  readonly apiHost: string;
  /** The host in image names (docker.io for Docker Hub). */
  readonly registryHost: string;
  readonly auth: FrontAuth;
  /** Where blob GETs are redirected to; the first is the default. */
  readonly storageHosts: readonly string[];
  readonly style: SignedUrlStyle;
  /** The storage object's path for a blob (storage paths are the provider's, not the registry's). */
  readonly objectPath: (digest: string, backingRepository: string) => string;
  /**
   * registry.k8s.io: every /v2 request except `/v2/` is answered with a 307 to an Artifact Registry
   * mirror under `/v2/<prefix><name>/...` (kubernetes/registry.k8s.io cmd/archeio
   * docs/request-handling.md; handlers.go `upstreamRedirectURL`, `http.StatusTemporaryRedirect`).
   * The mirror serves the API anonymously and redirects blobs to `storageHosts`.
   */
  readonly mirror?: { readonly host: string; readonly prefix: string };
}

const hex = (digest: string): string => digest.slice(digest.indexOf(':') + 1);

/**
 * Each registry as it documents itself: Docker Hub's and GHCR's allowlist docs, Quay's firewall
 * notes, the ECR user guide ("VPC endpoints"), ACR's "behind a firewall" page, Artifact Registry's
 * and registry.k8s.io's docs. Written out here, not imported from src, so a wrong preset shows.
 */
export const FRONT_SPECS: Readonly<Record<FrontPreset, FrontSpec>> = {
  // Docker Hub: API registry-1.docker.io, tokens from auth.docker.io (another origin), blobs from Cloudflare.
  dockerhub: {
    apiHost: 'registry-1.docker.io',
    registryHost: 'docker.io',
    auth: { kind: 'token', realm: 'https://auth.docker.io/token', service: 'registry.docker.io' },
    storageHosts: ['production.cloudflare.docker.com'],
    style: 'cloudflare',
    objectPath: (d) => `/registry-v2/docker/registry/v2/blobs/sha256/${hex(d).slice(0, 2)}/${hex(d)}/data`,
  },
  ghcr: {
    apiHost: 'ghcr.io',
    registryHost: 'ghcr.io',
    auth: { kind: 'token', realm: 'https://ghcr.io/token', service: 'ghcr.io' },
    storageHosts: ['pkg-containers.githubusercontent.com'],
    style: 'azure-sas',
    objectPath: (d) => `/ghcr1/blobs/${d}`,
  },
  quay: {
    apiHost: 'quay.io',
    registryHost: 'quay.io',
    auth: { kind: 'token', realm: 'https://quay.io/v2/auth', service: 'quay.io' },
    storageHosts: ['cdn01.quay.io'],
    style: 'cloudfront',
    objectPath: (d) => `/quayio-production-s3/sha256/${hex(d).slice(0, 2)}/${hex(d)}`,
  },
  gcr: {
    apiHost: 'gcr.io',
    registryHost: 'gcr.io',
    auth: { kind: 'token', realm: 'https://gcr.io/v2/token', service: 'gcr.io' },
    storageHosts: ['storage.googleapis.com'],
    style: 'gcs',
    objectPath: (d) => `/artifacts.acme-project.appspot.com/containers/images/${d}`,
  },
  'registry-k8s': {
    apiHost: 'registry.k8s.io',
    registryHost: 'registry.k8s.io',
    auth: { kind: 'anonymous' },
    storageHosts: ['prod-registry-k8s-io-us-west-2.s3.dualstack.us-west-2.amazonaws.com'],
    style: 's3',
    objectPath: (d) => `/containers/images/${d}`,
    mirror: { host: 'us-west2-docker.pkg.dev', prefix: 'k8s-artifacts-prod/images/' },
  },
  // ECR: `Basic realm="https://<registry>/",service="ecr.amazonaws.com"`; blobs from the region's S3 layer bucket.
  ecr: {
    apiHost: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    registryHost: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    auth: { kind: 'basic', realm: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/', service: 'ecr.amazonaws.com' },
    storageHosts: ['prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com'],
    style: 's3',
    // ECR's layer objects are opaque: a per-repository prefix and a UUID.
    objectPath: (_d, repo) => `/${createHash('sha256').update(repo).digest('hex').slice(0, 32)}/${randomUUID()}`,
  },
  // ACR: tokens from <name>.azurecr.io/oauth2/token; blobs from the dedicated data endpoint or Azure Storage.
  acr: {
    apiHost: 'myregistry.azurecr.io',
    registryHost: 'myregistry.azurecr.io',
    auth: { kind: 'token', realm: 'https://myregistry.azurecr.io/oauth2/token', service: 'myregistry.azurecr.io' },
    storageHosts: ['myregistry.eastus.data.azurecr.io', 'myregistrystore.blob.core.windows.net'],
    style: 'azure-sas',
    objectPath: (d) => `/docker/registry/v2/blobs/sha256/${hex(d).slice(0, 2)}/${hex(d)}/data`,
  },
  'artifact-registry': {
    apiHost: 'europe-west1-docker.pkg.dev',
    registryHost: 'europe-west1-docker.pkg.dev',
    auth: { kind: 'token', realm: 'https://europe-west1-docker.pkg.dev/v2/token', service: 'europe-west1-docker.pkg.dev' },
    storageHosts: ['storage.googleapis.com'],
    style: 'gcs',
    objectPath: (d) => `/artifact-registry-europe-west1/my-project/${d}`,
  },
};

/** Every host any front stands in for: the SANs of the one front certificate. */
export const FRONT_HOSTS: readonly string[] = [
  ...new Set(
    Object.values(FRONT_SPECS).flatMap((spec) => [
      spec.apiHost,
      ...(spec.auth.kind === 'token' ? [new URL(spec.auth.realm).hostname] : []),
      ...spec.storageHosts,
      ...(spec.mirror === undefined ? [] : [spec.mirror.host]),
    ]),
  ),
  UNLISTED_STORAGE_HOST,
];

export interface FrontTls {
  readonly dir: string;
  /** The test CA (PEM): trustgate's `tls.caFile`. */
  readonly caFile: string;
  /** A certificate for every name in FRONT_HOSTS, from that CA. */
  readonly certFile: string;
  readonly keyFile: string;
}

/** A test CA (tls.ts) and one server certificate naming every host in FRONT_HOSTS. */
export async function makeFrontTls(dir: string): Promise<FrontTls> {
  const ca = await makeTls(dir);
  const ext = join(dir, 'front-ext.cnf');
  await writeFile(
    ext,
    [
      '[v3_front]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${FRONT_HOSTS.map((host) => `DNS:${host}`).join(',')}`,
      '',
    ].join('\n'),
  );
  const keyFile = join(dir, 'front-key.pem');
  const csr = join(dir, 'front.csr.pem');
  const certFile = join(dir, 'front-cert.pem');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    ['req', '-new', '-config', join(dir, 'openssl.cnf'), ...ecKey, '-keyout', keyFile, '-out', csr, '-subj', '/CN=registry-front'],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.caFile,
      '-CAkey',
      join(dir, 'ca-key.pem'),
      '-set_serial',
      `0x1${randomBytes(7).toString('hex')}`,
      '-days',
      '2',
      '-extfile',
      ext,
      '-extensions',
      'v3_front',
      '-out',
      certFile,
    ],
    dir,
  );
  return { dir, caFile: ca.caFile, certFile, keyFile };
}

/** What a front server did with one request. Authorization is recorded by scheme only, never its value. */
export interface FrontRequest {
  readonly seq: number;
  /** The host name the server that took the request stands in for (SNI and Host were checked against it). */
  readonly host: string;
  readonly method: string;
  /** The path, without the query (a storage query is a credential). */
  readonly path: string;
  /** `api`: the registry API; `token`: the token endpoint; `storage`: blob storage; `redirect`: registry.k8s.io. */
  readonly role: 'api' | 'token' | 'storage' | 'redirect';
  readonly authorization: 'none' | 'basic' | 'bearer' | 'other';
  /** For API and redirect requests: the repository (the mirror's prefix taken off) and what follows it. */
  readonly repository?: string;
  readonly kind?: 'manifests' | 'blobs' | 'tags' | 'referrers';
  readonly reference?: string;
  /** For storage requests: the blob served. For blob redirects: the blob redirected. */
  digest?: string;
  /** For token requests: what was asked. */
  readonly token?: { readonly service: string | null; readonly scopes: readonly string[] };
  status: number;
  /** For redirects: the Location sent. */
  location?: string;
}

export interface RateLimit {
  readonly count: number;
  readonly retryAfterSeconds: number;
  /** Only API requests for this repository (and reference, if given); any API request when absent. */
  readonly repository?: string;
  readonly reference?: string;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface RegistryFrontOptions {
  /** The backing docker-registry (plain http), e.g. registry.ts's `url`. */
  readonly backingUrl: string;
  readonly tls: FrontTls;
  /** Basic credentials the token endpoint (token auth) or the registry (basic auth) requires; absent: anonymous. */
  readonly credentials?: Credentials;
}

export interface RegistryFront {
  readonly preset: FrontPreset;
  readonly spec: FrontSpec;
  /** `https://<apiHost>`: the URL an operator writes (or the preset's). */
  readonly url: string;
  /** `host:443` → `127.0.0.1:<port>` for every host of this front (and UNLISTED_STORAGE_HOST), for connectToResolver. */
  readonly connectTo: Readonly<Record<string, string>>;
  readonly log: readonly FrontRequest[];
  /** The log's length now: `since(mark())` is what happened after. */
  mark(): number;
  since(mark: number): FrontRequest[];
  /** Where a repository's content lives on the backing registry: `<preset>/<name>`. */
  backingRepository(name: string): string;
  /** Answers the next `count` matching API requests with 429 TOOMANYREQUESTS and `Retry-After`. */
  rateLimit(limit: RateLimit): void;
  clearRateLimit(): void;
  /** Redirect blob GETs to this host from now on (one of spec.storageHosts, or UNLISTED_STORAGE_HOST). */
  redirectBlobsTo(host: string): void;
  /** Replaces the Basic credentials accepted (a rotated ECR token, say); earlier tokens stay valid until they expire. */
  setCredentials(credentials: Credentials | undefined): void;
  /** An HTTPS request to one of this front's hosts, connected as trustgate is (SNI and Host = the URL's host). */
  request(url: string, options?: { method?: string; headers?: Record<string, string> }): Promise<HttpGetResult>;
  stop(): Promise<void>;
}

const ROUTE = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)\/(.+)$/;
/** Response headers of the backing registry passed on for API answers (hop-by-hop ones never are). */
const API_HEADERS = ['content-type', 'content-length', 'docker-content-digest', 'etag', 'last-modified', 'docker-distribution-api-version'];
/** What S3, GCS and Azure send for an object (no Docker headers: storage knows nothing of registries). */
const STORAGE_HEADERS = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'etag', 'last-modified'];
const TOKEN_TTL_SECONDS = 300;
const URL_TTL_SECONDS = 3600;

interface Issued {
  readonly backingRepository: string;
  readonly digest: string;
}

/** Starts every server of the preset's front; `stop()` closes them. */
export async function startRegistryFront(preset: FrontPreset, options: RegistryFrontOptions): Promise<RegistryFront> {
  const spec = FRONT_SPECS[preset];
  const secret = randomBytes(32);
  const log: FrontRequest[] = [];
  const tokens = new Map<string, { readonly scopes: ReadonlySet<string>; readonly expiresAt: number }>();
  const objects = new Map<string, Issued>();
  let credentials = options.credentials;
  let storageHost = spec.storageHosts[0]!;
  let limit:
    { remaining: number; readonly retryAfterSeconds: number; readonly repository?: string; readonly reference?: string } | undefined;
  const backing = new URL(options.backingUrl);
  const ca = readFileSync(options.tls.caFile);
  const tlsOptions = { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) };

  const backingRepository = (name: string): string => `${preset}/${name}`;
  const registryHosts = new Set([spec.mirror?.host ?? spec.apiHost]);
  const tokenUrl = spec.auth.kind === 'token' ? new URL(spec.auth.realm) : undefined;
  const storageHosts = new Set([...spec.storageHosts, UNLISTED_STORAGE_HOST]);
  const hosts = [...new Set([spec.apiHost, ...registryHosts, ...(tokenUrl ? [tokenUrl.hostname] : []), ...storageHosts])];

  // ---- the request log ----
  function record(entry: Omit<FrontRequest, 'seq' | 'status'>): FrontRequest {
    const full: FrontRequest = { ...entry, seq: log.length, status: 0 };
    log.push(full);
    return full;
  }
  function schemeOf(header: string | undefined): FrontRequest['authorization'] {
    if (header === undefined || header === '') return 'none';
    const scheme = header.split(' ')[0]!.toLowerCase();
    return scheme === 'basic' ? 'basic' : scheme === 'bearer' ? 'bearer' : 'other';
  }
  function send(entry: FrontRequest, res: ServerResponse, status: number, headers: Record<string, string>, body?: string | Buffer): void {
    entry.status = status;
    const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
    res.end(bytes);
  }
  const ociError = (code: string, message: string): string => JSON.stringify({ errors: [{ code, message }] });
  const JSON_TYPE = { 'content-type': 'application/json' };

  // ---- the backing registry ----
  function toBacking(method: string, path: string, headers: Record<string, string>): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: backing.hostname, port: backing.port, method, path, headers, agent: false }, resolve);
      req.on('error', reject);
      req.end();
    });
  }
  function pick(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of names) {
      const value = headers[name];
      if (typeof value === 'string') out[name] = value;
    }
    return out;
  }

  // ---- signed storage URLs: an HMAC over host, path and expiry, written as each provider writes it ----
  function signature(host: string, path: string, expiresAt: number): Buffer {
    return createHmac('sha256', secret).update(`${host}\n${path}\n${expiresAt}`).digest();
  }
  const amzDate = (seconds: number): string =>
    new Date(seconds * 1000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  const fromAmzDate = (text: string): number => {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    return m === null ? NaN : Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
  };
  /** The signed query for `host` + `path`, valid for an hour. */
  function signedQuery(host: string, path: string): string {
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = now + URL_TTL_SECONDS;
    const sig = signature(host, path, expiresAt);
    const q = new URLSearchParams();
    switch (spec.style) {
      case 's3': // AWS SigV4 query authentication (S3 API reference, "Authenticating Requests: Using Query Parameters")
        q.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
        q.set('X-Amz-Credential', `ASIAFRONTTEST/${amzDate(now).slice(0, 8)}/us-east-1/s3/aws4_request`);
        q.set('X-Amz-Date', amzDate(now));
        q.set('X-Amz-Expires', String(URL_TTL_SECONDS));
        q.set('X-Amz-SignedHeaders', 'host');
        q.set('X-Amz-Signature', sig.toString('hex'));
        break;
      case 'gcs': // Cloud Storage V4 signed URLs
        q.set('X-Goog-Algorithm', 'GOOG4-RSA-SHA256');
        q.set('X-Goog-Credential', `front@acme-project.iam.gserviceaccount.com/${amzDate(now).slice(0, 8)}/auto/storage/goog4_request`);
        q.set('X-Goog-Date', amzDate(now));
        q.set('X-Goog-Expires', String(URL_TTL_SECONDS));
        q.set('X-Goog-SignedHeaders', 'host');
        q.set('X-Goog-Signature', sig.toString('hex'));
        break;
      case 'azure-sas': // Azure Storage service SAS: base64 `sig` (its + / = must survive every hop URL-encoded)
        q.set('sv', '2021-08-06');
        q.set('sr', 'b');
        q.set('sp', 'r');
        q.set('se', new Date(expiresAt * 1000).toISOString().replace(/\.\d{3}/, ''));
        q.set('sig', sig.toString('base64'));
        break;
      case 'cloudfront': // CloudFront canned policy: Expires, URL-safe base64 Signature, Key-Pair-Id
        q.set('Expires', String(expiresAt));
        q.set('Signature', sig.toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~'));
        q.set('Key-Pair-Id', 'APKAFRONTTESTKEY');
        break;
      case 'cloudflare': // Cloudflare token authentication: verify=<expiry>-<signature>
        q.set('verify', `${expiresAt}-${sig.toString('base64url')}`);
        break;
    }
    return q.toString();
  }
  /** Why a storage query does not authorize `host` + `path`, or undefined when it does. */
  function refusal(host: string, path: string, q: URLSearchParams): string | undefined {
    let expiresAt = NaN;
    let given: string | null = null;
    let encode: (sig: Buffer) => string = (sig) => sig.toString('hex');
    switch (spec.style) {
      case 's3':
        expiresAt = fromAmzDate(q.get('X-Amz-Date') ?? '') + Number(q.get('X-Amz-Expires') ?? NaN);
        given = q.get('X-Amz-Signature');
        break;
      case 'gcs':
        expiresAt = fromAmzDate(q.get('X-Goog-Date') ?? '') + Number(q.get('X-Goog-Expires') ?? NaN);
        given = q.get('X-Goog-Signature');
        break;
      case 'azure-sas':
        expiresAt = Date.parse(q.get('se') ?? '') / 1000;
        given = q.get('sig');
        encode = (sig) => sig.toString('base64');
        break;
      case 'cloudfront':
        expiresAt = Number(q.get('Expires') ?? NaN);
        given = q.get('Signature');
        encode = (sig) => sig.toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
        break;
      case 'cloudflare': {
        const verify = /^(\d+)-(.+)$/.exec(q.get('verify') ?? '');
        expiresAt = Number(verify?.[1] ?? NaN);
        given = verify?.[2] ?? null;
        encode = (sig) => sig.toString('base64url');
        break;
      }
    }
    if (given === null || !Number.isFinite(expiresAt)) return 'no signature';
    if (given !== encode(signature(host, path, expiresAt))) return 'signature does not match';
    if (expiresAt < Date.now() / 1000) return 'expired';
    return undefined;
  }

  // ---- roles ----
  async function storage(host: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const entry = record({
      host,
      method: req.method ?? '',
      path: url.pathname,
      role: 'storage',
      authorization: schemeOf(req.headers.authorization),
    });
    const xml = { 'content-type': 'application/xml' };
    // S3 and Azure refuse a pre-signed URL that also carries an Authorization header.
    if (req.headers.authorization !== undefined) {
      return send(entry, res, 400, xml, '<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(entry, res, 405, xml, '<Error><Code>MethodNotAllowed</Code></Error>');
    const why = refusal(host, url.pathname, url.searchParams);
    if (why !== undefined) {
      return send(entry, res, 403, xml, `<Error><Code>SignatureDoesNotMatch</Code><Message>${why}</Message></Error>`);
    }
    const object = objects.get(url.pathname);
    if (object === undefined) return send(entry, res, 404, xml, '<Error><Code>NoSuchKey</Code></Error>');
    entry.digest = object.digest;
    const range = req.headers.range;
    const answer = await toBacking(
      req.method,
      `/v2/${object.backingRepository}/blobs/${object.digest}`,
      typeof range === 'string' ? { range } : {},
    );
    entry.status = answer.statusCode ?? 502;
    res.writeHead(entry.status, pick(answer.headers, STORAGE_HEADERS));
    await pipeline(answer, res);
  }

  async function token(
    host: string,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    auth: Extract<FrontAuth, { kind: 'token' }>,
  ): Promise<void> {
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    const entry = record({
      host,
      method: req.method ?? '',
      path: url.pathname,
      role: 'token',
      authorization: schemeOf(req.headers.authorization),
      token: { service: url.searchParams.get('service'), scopes },
    });
    // distribution docs/spec/auth/token.md "Requesting a Token": GET <realm>?service=…&scope=…, HTTP Basic optional.
    if (req.method !== 'GET') return send(entry, res, 405, JSON_TYPE, ociError('UNSUPPORTED', 'GET only'));
    if (url.searchParams.get('service') !== auth.service) return send(entry, res, 400, JSON_TYPE, ociError('DENIED', 'unknown service'));
    const sent = basicOf(req.headers.authorization);
    if (credentials !== undefined ? !same(sent, credentials) : sent !== undefined) {
      return send(
        entry,
        res,
        401,
        { ...JSON_TYPE, 'www-authenticate': `Basic realm="${auth.realm}"` },
        JSON.stringify({ details: 'incorrect username or password' }),
      );
    }
    const granted = new Set(scopes.filter((scope) => /^repository:[^:]+:(?:[a-z*]+,)*pull(?:,[a-z*]+)*$/.test(scope)).map(pullScopeOf));
    const issued = randomBytes(24).toString('base64url');
    tokens.set(issued, { scopes: granted, expiresAt: Date.now() + TOKEN_TTL_SECONDS * 1000 });
    // token.md "Token Response Fields": token (access_token for OAuth 2.0 clients), expires_in, issued_at.
    send(
      entry,
      res,
      200,
      JSON_TYPE,
      JSON.stringify({ token: issued, access_token: issued, expires_in: TOKEN_TTL_SECONDS, issued_at: new Date().toISOString() }),
    );
  }

  /** The registry API (or the mirror's): authenticate, rate-limit, then serve from the backing registry. */
  async function api(host: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const prefix = host === spec.mirror?.host ? spec.mirror.prefix : '';
    const route = ROUTE.exec(url.pathname);
    const named = route !== null && route[1]!.startsWith(prefix) ? route[1]!.slice(prefix.length) : undefined;
    const entry = record({
      host,
      method: req.method ?? '',
      path: url.pathname,
      role: 'api',
      authorization: schemeOf(req.headers.authorization),
      ...(route !== null && named !== undefined ? { repository: named, kind: route[2] as FrontRequest['kind'], reference: route[3]! } : {}),
    });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(entry, res, 405, JSON_TYPE, ociError('UNSUPPORTED', 'pull only'));
    const base = { 'docker-distribution-api-version': 'registry/2.0' };
    if (url.pathname !== '/v2/' && (route === null || named === undefined)) {
      return send(entry, res, 404, { ...JSON_TYPE, ...base }, ociError('NAME_UNKNOWN', 'repository name not known to registry'));
    }
    const repositoryScope = route === null ? undefined : `repository:${route[1]}:pull`;
    const refused = authenticate(req, repositoryScope);
    if (refused !== undefined)
      return send(
        entry,
        res,
        401,
        { ...JSON_TYPE, ...base, 'www-authenticate': refused },
        ociError('UNAUTHORIZED', 'authentication required'),
      );
    if (url.pathname === '/v2/') return send(entry, res, 200, { ...JSON_TYPE, ...base }, '{}');
    if (
      limit !== undefined &&
      limit.remaining > 0 &&
      (limit.repository ?? named) === named &&
      (limit.reference ?? route![3]) === route![3]
    ) {
      limit.remaining--;
      // distribution-spec "Error Codes": TOOMANYREQUESTS (429), with Retry-After (RFC 9110 §10.2.3).
      return send(
        entry,
        res,
        429,
        { ...JSON_TYPE, ...base, 'retry-after': String(limit.retryAfterSeconds) },
        ociError('TOOMANYREQUESTS', 'You have reached your pull rate limit.'),
      );
    }
    const backingPath = `/v2/${backingRepository(named!)}/${route![2]}/${route![3]}${url.search}`;
    if (route![2] === 'blobs') {
      // distribution docs/spec/api.md "Pulling a Layer": the registry MAY answer a 307 to another service
      // for the download. Storage hosts get a signed URL: the registry's credentials never go there.
      const head = await toBacking('HEAD', backingPath, {});
      head.resume();
      if (head.statusCode !== 200)
        return send(entry, res, head.statusCode ?? 502, { ...JSON_TYPE, ...base }, ociError('BLOB_UNKNOWN', 'blob unknown to registry'));
      const digest = route![3]!;
      const path = spec.objectPath(digest, backingRepository(named!));
      objects.set(path, { backingRepository: backingRepository(named!), digest });
      const location = `https://${storageHost}${path}?${signedQuery(storageHost, path)}`;
      entry.digest = digest;
      entry.location = location;
      return send(entry, res, 307, { ...base, location });
    }
    const accept = req.headers.accept;
    const answer = await toBacking(req.method, backingPath, typeof accept === 'string' ? { accept } : {});
    let body = await readAll(answer);
    if (route![2] === 'tags' && answer.statusCode === 200) {
      // The tag list names the repository as the client knows it.
      body = Buffer.from(JSON.stringify({ ...(JSON.parse(body.toString()) as object), name: route![1] }));
    }
    const headers = pick(answer.headers, API_HEADERS);
    delete headers['content-length'];
    entry.status = answer.statusCode ?? 502;
    res.writeHead(entry.status, {
      ...headers,
      ...base,
      'content-length': String(req.method === 'HEAD' ? (answer.headers['content-length'] ?? '0') : body.length),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** The challenge to answer with, or undefined when the request may go on. */
  function authenticate(req: IncomingMessage, scope: string | undefined): string | undefined {
    const auth = spec.auth;
    if (auth.kind === 'anonymous') return undefined;
    if (auth.kind === 'basic') {
      return credentials !== undefined && same(basicOf(req.headers.authorization), credentials)
        ? undefined
        : `Basic realm="${auth.realm}",service="${auth.service}"`;
    }
    // token.md "How to authenticate": the challenge names realm, service and the scope the request needs.
    const challenge = `Bearer realm="${auth.realm}",service="${auth.service}"${scope === undefined ? '' : `,scope="${scope}"`}`;
    const presented = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const known = presented === undefined ? undefined : tokens.get(presented);
    if (known === undefined || known.expiresAt < Date.now()) return challenge;
    if (scope !== undefined && !known.scopes.has(scope)) return `${challenge},error="insufficient_scope"`;
    return undefined;
  }

  /** registry.k8s.io: `/v2/` answers 200; every other /v2 request is a 307 to the mirror. */
  function redirector(host: string, req: IncomingMessage, res: ServerResponse, url: URL): void {
    const mirror = spec.mirror!;
    const route = ROUTE.exec(url.pathname);
    const entry = record({
      host,
      method: req.method ?? '',
      path: url.pathname,
      role: 'redirect',
      authorization: schemeOf(req.headers.authorization),
      ...(route === null ? {} : { repository: route[1]!, kind: route[2] as FrontRequest['kind'], reference: route[3]! }),
    });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(entry, res, 405, {}, 'Only GET and HEAD are allowed.');
    if (url.pathname === '/v2/' || url.pathname === '/v2')
      return send(entry, res, 200, { 'docker-distribution-api-version': 'registry/2.0' });
    if (!url.pathname.startsWith('/v2/')) return send(entry, res, 404, {}, '404 page not found');
    const location = `https://${mirror.host}/v2/${mirror.prefix}${url.pathname.slice('/v2/'.length)}${url.search}`;
    if (route?.[2] === 'blobs') entry.digest = route[3];
    entry.location = location;
    send(entry, res, 307, { location });
  }

  // ---- servers, one per host ----
  const servers: Server[] = [];
  const connectTo: Record<string, string> = {};
  for (const host of hosts) {
    const server = createServer(tlsOptions, (req, res) => {
      const url = new URL(req.url ?? '/', `https://${host}`);
      const sni = (req.socket as TLSSocket).servername;
      const asked = (req.headers.host ?? '').replace(/:443$/, '');
      const work = async (): Promise<void> => {
        if (sni !== host || asked !== host) {
          res.writeHead(421, { 'content-type': 'text/plain' });
          res.end(`this is ${host}, not ${String(sni)} / ${asked}`);
          return;
        }
        if (tokenUrl !== undefined && host === tokenUrl.hostname && url.pathname === tokenUrl.pathname && spec.auth.kind === 'token') {
          return token(host, req, res, url, spec.auth);
        }
        if (storageHosts.has(host)) return storage(host, req, res, url);
        if (spec.mirror !== undefined && host === spec.apiHost) return redirector(host, req, res, url);
        if (registryHosts.has(host)) return api(host, req, res, url);
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      };
      work().catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, JSON_TYPE);
          res.end(ociError('UNKNOWN', String(error)));
        } else res.destroy();
      });
    });
    // Keep idle connections as load balancers in front of registries do (60 s), not node's 5 s: a
    // pooled connection closed by the server just as a client reuses it resets that request.
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('registry front: no port');
    connectTo[`${host}:443`] = `127.0.0.1:${address.port}`;
    servers.push(server);
  }

  return {
    preset,
    spec,
    url: `https://${spec.apiHost}`,
    connectTo,
    log,
    mark: () => log.length,
    since: (mark) => log.slice(mark),
    backingRepository,
    rateLimit(next) {
      limit = { ...next, remaining: next.count };
    },
    clearRateLimit() {
      limit = undefined;
    },
    redirectBlobsTo(host) {
      if (!storageHosts.has(host)) throw new Error(`${host} is not a storage host of the ${preset} front`);
      storageHost = host;
    },
    setCredentials(next) {
      credentials = next;
    },
    request(target, requestOptions = {}) {
      const u = new URL(target);
      const mapped = connectTo[`${u.hostname}:${u.port === '' ? 443 : u.port}`];
      if (mapped === undefined) throw new Error(`${u.host} is not a host of the ${preset} front`);
      const [address, port] = [mapped.slice(0, mapped.lastIndexOf(':')), Number(mapped.slice(mapped.lastIndexOf(':') + 1))];
      return new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            host: address,
            port,
            servername: u.hostname,
            ca,
            method: requestOptions.method ?? 'GET',
            path: u.pathname + u.search,
            headers: { host: u.hostname, ...requestOptions.headers },
            agent: false,
          },
          (res) => {
            readAll(res).then((body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }), reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
    },
    async stop() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}

function basicOf(header: string | undefined): Credentials | undefined {
  const encoded = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? { username: decoded, password: '' } : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function same(sent: Credentials | undefined, want: Credentials): boolean {
  return sent !== undefined && sent.username === want.username && sent.password === want.password;
}

/** `repository:<name>:pull,push` → `repository:<name>:pull`, the grant the registry checks. */
function pullScopeOf(scope: string): string {
  return `${scope.slice(0, scope.lastIndexOf(':'))}:pull`;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
