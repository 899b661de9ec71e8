// The few distribution API calls the development tools make (OCI distribution-spec: "Pulling
// manifests", "Pushing blobs" (monolithic POST then PUT), "Pushing manifests"). Not the proxy's
// upstream client: that one never writes.
import { Agent, fetch, type Dispatcher, type Response } from 'undici';
import { sha256Digest } from '../oci/digest.ts';
import { answerChallenge, type Credentials } from './registry-auth.ts';

export interface RegistryTarget {
  /** Base URL, `http(s)://host[:port]`. */
  readonly url: string;
  readonly repository: string;
  readonly credentials?: Credentials;
  /** HTTPS without certificate verification (a development registry with a self-signed certificate). */
  readonly insecureSkipTls?: boolean;
}

export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string;
  /** sha256 of the exact bytes received. */
  readonly digest: string;
}

export class RegistrySession {
  private readonly base: URL;
  private readonly dispatcher: Dispatcher;
  private authorization: string | undefined;

  constructor(private readonly target: RegistryTarget) {
    this.base = new URL(target.url);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:')
      throw new Error(`--registry must be an http:// or https:// URL, not ${target.url}`);
    this.dispatcher = new Agent({ connect: { rejectUnauthorized: !target.insecureSkipTls } });
  }

  /** `host[:port]`: the registry's name in canonical names. */
  get host(): string {
    return this.base.host;
  }

  async getManifest(reference: string, accept: readonly string[]): Promise<FetchedManifest | undefined> {
    const res = await this.send('GET', `manifests/${reference}`, { accept: accept.join(', ') });
    if (res.status === 404) return void (await drain(res));
    if (res.status !== 200) throw await failure(res, `GET manifest ${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    return { bytes, mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(), digest: sha256Digest(bytes) };
  }

  /** Uploads `bytes` unless the repository already has the blob; returns its descriptor fields. */
  async putBlob(bytes: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha256Digest(bytes);
    const head = await this.send('HEAD', `blobs/${digest}`);
    await drain(head);
    if (head.status === 200) return { digest, size: bytes.length };
    const open = await this.send('POST', 'blobs/uploads/');
    if (open.status !== 202) throw await failure(open, 'blob upload (POST)');
    await drain(open);
    const location = new URL(open.headers.get('location') ?? '', this.base);
    location.searchParams.set('digest', digest);
    const put = await this.send('PUT', location, { 'content-type': 'application/octet-stream' }, bytes);
    if (put.status !== 201) throw await failure(put, 'blob upload (PUT)');
    await drain(put);
    return { digest, size: bytes.length };
  }

  /** PUT a manifest under a tag; returns the digest of the exact bytes sent. */
  async putManifest(tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.send('PUT', `manifests/${tag}`, { 'content-type': mediaType }, bytes);
    if (res.status !== 201) throw await failure(res, `PUT manifest ${tag}`);
    await drain(res);
    return sha256Digest(bytes);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  /** One request, answering a 401 once. Authorization is only ever sent to the registry's own origin. */
  private async send(method: string, path: string | URL, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
    const url = typeof path === 'string' ? new URL(`/v2/${this.target.repository}/${path}`, this.base) : path;
    const attempt = (): Promise<Response> =>
      fetch(url, {
        method,
        headers: {
          ...headers,
          ...(this.authorization !== undefined && url.origin === this.base.origin ? { authorization: this.authorization } : {}),
        },
        ...(body === undefined ? {} : { body }),
        dispatcher: this.dispatcher,
      }).catch((error: unknown) => {
        // undici says only "fetch failed"; the reason is its cause (ECONNREFUSED, a certificate error…).
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`${method} ${url.origin}${url.pathname}: ${cause?.code ?? cause?.message ?? String(error)}`);
      });
    const first = await attempt();
    if (first.status !== 401 || url.origin !== this.base.origin) return first;
    await drain(first);
    this.authorization = await answerChallenge(
      first.headers.get('www-authenticate'),
      this.base,
      this.target.repository,
      this.target.credentials,
      this.dispatcher,
    );
    return attempt();
  }
}

/** Reads and drops a body so the connection goes back to the pool. */
async function drain(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
}

async function failure(res: Response, what: string): Promise<Error> {
  const text = res.body === null ? '' : (await res.text()).slice(0, 300).trim();
  return new Error(`${what}: the registry answered ${res.status}${text === '' ? '' : `: ${text}`}`);
}
