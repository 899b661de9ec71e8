// A client pull as the matrix judges it: the status, the OCI error, the exact bytes, whether the
// response ended cleanly or the connection was cut, and how long it took. It never waits forever:
// past `hangMs` the request is abandoned and reported as hung.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** The response ended with all the bytes its framing announced (false: the connection was cut). */
  readonly complete: boolean;
  readonly ms: number;
  /** `errors[0].code` of an OCI error body, if it is one. */
  readonly ociCode: string | undefined;
  readonly ociMessage: string | undefined;
}

export function fetchRaw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; hangMs?: number } = {},
): Promise<Answer> {
  const started = performance.now();
  const hangMs = options.hangMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        const oci = ociOf(res.headers['content-type'], body);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          complete: res.complete,
          ms: performance.now() - started,
          ...oci,
        });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', settle);
      res.on('error', settle);
      res.on('close', settle);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${options.method ?? 'GET'} ${url} hung for ${hangMs} ms`));
    }, hangMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** GET (or HEAD) of a manifest through trustgate. */
export function pullManifest(proxyUrl: string, repository: string, reference: string, method = 'GET'): Promise<Answer> {
  return fetchRaw(`${proxyUrl}/v2/${repository}/manifests/${reference}`, { method, headers: { accept: MANIFEST_ACCEPT } });
}

export function pullBlob(proxyUrl: string, repository: string, digest: string): Promise<Answer> {
  return fetchRaw(`${proxyUrl}/v2/${repository}/blobs/${digest}`);
}

export const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The signed image was served: 200, complete, exactly the bytes of `digest`. */
export function assertServed(answer: Answer, digest: string, what = 'the signed image'): void {
  assert.equal(answer.status, 200, `${what}: ${answer.status} ${answer.ociMessage ?? ''}`);
  assert.ok(answer.complete, `${what}: the response was cut`);
  assert.equal(answer.headers['docker-content-digest'], digest);
  if (answer.body.length > 0) assert.equal(sha256(answer.body), digest);
}

/** A denial by policy: 403 DENIED, its reason in the message. */
export function assertDenied(answer: Answer, reason: RegExp = /no signature found/): void {
  assert.equal(answer.status, 403, `expected a denial, got ${answer.status} ${answer.ociMessage ?? ''}`);
  assert.equal(answer.ociCode, 'DENIED');
  assert.match(answer.ociMessage ?? '', reason);
}

/** Failed closed: a complete OCI error with this status and code (never 200), within `boundMs`. A HEAD answer has no body: `code` undefined. */
export function assertClosed(answer: Answer, status: number, code: string | undefined, boundMs: number): void {
  assert.notEqual(answer.status, 200, 'a fault must never turn into a 200');
  assert.equal(answer.status, status, `${answer.status} ${answer.ociCode ?? ''} ${answer.ociMessage ?? ''}`);
  assert.equal(answer.ociCode, code, answer.ociMessage);
  if (code === undefined) assert.equal(answer.body.length, 0);
  assert.ok(answer.complete, 'the error body arrived whole');
  assert.ok(answer.ms < boundMs, `answered after ${Math.round(answer.ms)} ms, bound ${boundMs} ms`);
}

function ociOf(contentType: string | undefined, body: Buffer): { ociCode: string | undefined; ociMessage: string | undefined } {
  if (contentType !== 'application/json' || body.length === 0) return { ociCode: undefined, ociMessage: undefined };
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    return { ociCode: parsed.errors?.[0]?.code, ociMessage: parsed.errors?.[0]?.message };
  } catch {
    return { ociCode: undefined, ociMessage: undefined };
  }
}
