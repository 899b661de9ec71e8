// Nothing from a client reaches an upstream but what trustgate chose to send (docs/integrity.md).
// A TCP tap sits between trustgate and the distribution registry and parses every byte trustgate
// sends; each client request below is written byte for byte on a raw socket, and the test asserts
// the exact upstream requests it caused: for a request with a body, none at all.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import { putBlob, putManifest, startRegistry, type RunningRegistry } from '../kit/index.ts';
import { singleUpstream } from '../support/app-harness.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { startUpstreamTap, type UpstreamTap } from '../support/upstream-tap.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
let registry: RunningRegistry;
let tap: UpstreamTap;
let proxy: RunningProxy;
let config = '';
let layer = '';
let secret = '';

interface Exchange {
  /** Status of each response in the order received. */
  readonly statuses: number[];
  readonly text: string;
  /** trustgate closed the connection (we never end our side first). */
  readonly closed: boolean;
}

/** Writes `raw` (LF line ends become CRLF unless `exact`) and reads until the server closes or goes quiet. */
function send(raw: string, quietMs = 600): Promise<Exchange> {
  const { hostname, port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(raw));
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])), text, closed });
    };
    const idle = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), quietMs);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      idle();
    });
    socket.on('close', () => finish(true));
    socket.on('error', reject);
    idle();
  });
}

const crlf = (head: string): string => `${head.split('\n').join('\r\n')}\r\n\r\n`;
const chunked = (body: string): string => `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
const smuggled = (line: string): string => crlf(`${line}\nHost: upstream`);
const upstreamRequests = (): string[] => tap.requests().map((r) => `${r.method} ${r.path}`);

before(async () => {
  registry = await startRegistry();
  const put = async (repo: string, seed: string): Promise<{ config: string; layer: string }> => {
    const c = await putBlob(
      registry.url,
      repo,
      Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })),
    );
    const l = await putBlob(registry.url, repo, gzipSync(Buffer.from(seed)));
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size }],
    };
    await putManifest(registry.url, repo, 'v1', Buffer.from(JSON.stringify(doc)), OCI_MANIFEST);
    return { config: c.digest, layer: l.digest };
  };
  ({ config, layer } = await put('allowed/app', 'allowed layer'));
  ({ layer: secret } = await put('allowed/other', 'a layer no client was allowed'));
  tap = await startUpstreamTap({ host: '127.0.0.1', port: Number(new URL(registry.url).port) });
  proxy = await startProxy(singleUpstream(tap.url)); // open policy: app:v1's blobs are served once its manifest is
  assert.equal((await send(crlf('GET /v2/allowed/app/manifests/v1 HTTP/1.1\nHost: t\nConnection: close'))).statuses[0], 200);
  // One blob first: the upstream client's one-time `GET /v2/` probe (which challenge it uses) happens here.
  assert.equal((await send(crlf(`GET /v2/allowed/app/blobs/${config} HTTP/1.1\nHost: t\nConnection: close`))).statuses[0], 200);
});
after(async () => {
  await proxy?.close();
  await tap?.close();
  await registry?.stop();
});
beforeEach(() => tap.reset());

/** A refused request: 400, and (when trustgate answers itself) its OCI error; the connection closed; nothing upstream. */
function assertRefused(answer: Exchange, own: 'body' | 'head' | 'node' = 'body'): void {
  assert.deepEqual(upstreamRequests(), [], 'no upstream request at all');
  assert.deepEqual(answer.statuses, [400], answer.text.slice(0, 300));
  if (own === 'body') assert.match(answer.text, /"code":"UNSUPPORTED","message":"registry requests to trustgate carry no body/);
  if (own === 'head') assert.match(answer.text, /content-type: application\/json/);
  assert.equal(answer.closed, true, 'the connection is closed after the refusal');
  assert.deepEqual(tap.garbage(), []);
}

describe('a /v2 request with a body is refused before anything goes upstream', () => {
  for (const method of ['GET', 'HEAD']) {
    it(`a chunked body on a blob ${method} carrying GET /v2/_catalog › 400, nothing upstream`, async () => {
      assertRefused(
        await send(
          crlf(`${method} /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nTransfer-Encoding: chunked`) +
            chunked(smuggled('GET /v2/_catalog HTTP/1.1')),
        ),
        method === 'HEAD' ? 'head' : 'body',
      );
    });
  }

  it('a chunked body on a blob GET carrying a DELETE, and a GET of a layer no client may pull › 400, nothing upstream', async () => {
    assertRefused(
      await send(
        crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nTransfer-Encoding: chunked`) +
          chunked(smuggled(`DELETE /v2/allowed/other/blobs/${secret} HTTP/1.1`)),
      ),
    );
    assertRefused(
      await send(
        crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nTransfer-Encoding: chunked`) +
          chunked(smuggled(`GET /v2/allowed/other/blobs/${secret} HTTP/1.1`)),
      ),
    );
  });

  for (const path of ['/v2/allowed/app/manifests/v1', '/v2/allowed/app/tags/list', `/v2/allowed/app/referrers/${config}`, '/v2/']) {
    it(`a chunked body on GET ${path} › 400, nothing upstream`, async () => {
      assertRefused(
        await send(crlf(`GET ${path} HTTP/1.1\nHost: t\nTransfer-Encoding: chunked`) + chunked(smuggled('GET /v2/_catalog HTTP/1.1'))),
      );
    });
  }

  it('Content-Length: 5 with a body on a blob GET › 400, nothing upstream', async () => {
    assertRefused(await send(crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nContent-Length: 5`) + 'hello'));
  });

  it("Content-Length together with Transfer-Encoding › node's own 400, nothing upstream", async () => {
    const body = chunked(smuggled('GET /v2/_catalog HTTP/1.1'));
    assertRefused(
      await send(
        crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nContent-Length: ${body.length}\nTransfer-Encoding: chunked`) + body,
      ),
      'node',
    );
  });

  it('duplicated Content-Length, the same twice or two values › 400, nothing upstream', async () => {
    const body = smuggled('GET /v2/_catalog HTTP/1.1');
    for (const lengths of [
      [body.length, body.length],
      [0, body.length],
    ]) {
      const answer = await send(
        crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\n${lengths.map((n) => `Content-Length: ${n}`).join('\n')}`) + body,
      );
      assertRefused(answer, 'node');
    }
  });

  it('an obs-folded Transfer-Encoding or Content-Length › 400, nothing upstream', async () => {
    const body = smuggled('GET /v2/_catalog HTTP/1.1');
    for (const folded of ['Transfer-Encoding:\n chunked', 'X-Note: a\n Transfer-Encoding: chunked']) {
      assertRefused(await send(crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\n${folded}`) + chunked(body)), 'node');
    }
    assertRefused(
      await send(crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nContent-Length:\n ${body.length}`) + body),
      'node',
    );
  });

  it('a Content-Length whose body is a whole request, on a blob HEAD › 400, nothing upstream', async () => {
    const body = smuggled('GET /v2/_catalog HTTP/1.1');
    assertRefused(await send(crlf(`HEAD /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nContent-Length: ${body.length}`) + body), 'head');
  });
});

describe('requests without a body reach the upstream as exactly the requests trustgate builds', () => {
  it('Content-Length: 0 on a blob GET › 200, one upstream GET of that blob', async () => {
    const answer = await send(crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nContent-Length: 0\nConnection: close`));
    assert.equal(answer.statuses[0], 200);
    assert.deepEqual(upstreamRequests(), [`GET /v2/allowed/app/blobs/${layer}`]);
  });

  it('pipelined: two blob GETs and a manifest GET by digest on one socket › three 200s in order, exactly the two blob GETs upstream', async () => {
    const head = (path: string, close = false): string => crlf(`GET ${path} HTTP/1.1\nHost: t${close ? '\nConnection: close' : ''}`);
    const manifest = (await fetch(`${proxy.url}/v2/allowed/app/manifests/v1`)).headers.get('docker-content-digest')!;
    tap.reset();
    const answer = await send(
      head(`/v2/allowed/app/blobs/${config}`) +
        head(`/v2/allowed/app/blobs/${layer}`) +
        head(`/v2/allowed/app/manifests/${manifest}`, true),
    );
    assert.deepEqual(answer.statuses, [200, 200, 200]);
    assert.deepEqual(upstreamRequests(), [`GET /v2/allowed/app/blobs/${config}`, `GET /v2/allowed/app/blobs/${layer}`]);
    for (const r of tap.requests()) {
      assert.equal(r.headers['content-length'], undefined, 'no client framing forwarded');
      assert.equal(r.headers['transfer-encoding'], undefined);
    }
  });

  // A whole smuggled POST; then half a request meant to swallow the next client's request line into a
  // header, so that that client would be answered with a layer it may not pull.
  const attempts: Array<[string, () => string]> = [
    ['a whole smuggled POST', () => smuggled('POST /v2/allowed/app/blobs/uploads/ HTTP/1.1')],
    [
      "half a request, left to capture the next client's",
      () => `GET /v2/allowed/other/blobs/${secret} HTTP/1.1\r\nHost: upstream\r\nX-Swallow: `,
    ],
  ];
  for (const [what, body] of attempts) {
    it(`after a refused smuggling attempt (${what}), another client's blob GET is one clean request upstream`, async () => {
      assertRefused(await send(crlf(`GET /v2/allowed/app/blobs/${layer} HTTP/1.1\nHost: t\nTransfer-Encoding: chunked`) + chunked(body())));
      const innocent = await fetch(`${proxy.url}/v2/allowed/app/blobs/${layer}`);
      assert.equal(innocent.status, 200);
      assert.equal(
        createHash('sha256')
          .update(Buffer.from(await innocent.arrayBuffer()))
          .digest('hex'),
        layer.slice(7),
        'its own layer',
      );
      assert.deepEqual(upstreamRequests(), [`GET /v2/allowed/app/blobs/${layer}`]);
      assert.deepEqual(tap.garbage(), [], 'no foreign bytes on any upstream connection');
    });
  }
});
