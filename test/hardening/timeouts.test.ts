import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { call } from '../support/pull-auth.ts';
import { cosignSignatureManifest, digestTag, imageManifest, SIGNED_POLICY, trustKey } from './fixtures.ts';
import { ociErrorOf } from './raw-http.ts';

// A slow upstream never holds a request past its configured timeout: every answer comes within the
// documented bound plus slack, with the documented OCI error (504 UNAVAILABLE naming the upstream).
const HEADERS_MS = 400;
const BODY_IDLE_MS = 400;
/** undici checks headersTimeout and bodyTimeout on a coarse clock (its "fast timers" tick every ~500 ms). */
const UNDICI_GRAIN_MS = 1_000;
/** Scheduling slack on a shared 2-CPU machine. */
const SLACK_MS = 1_000;
/** Two attempts (a timeout is retried once), each cut by undici's headersTimeout. */
const HEADERS_BOUND_MS = 2 * (HEADERS_MS + UNDICI_GRAIN_MS) + 100 + SLACK_MS;

let slow: FakeUpstream;
let storage: FakeUpstream;
let tokenSlow: FakeUpstream; // a registry whose token endpoint never answers
let proxy: RunningProxy;
let strict: RunningProxy;
const open: ServerResponse[] = [];

const manifest = imageManifest('slow');
const blob = Buffer.alloc(64 * 1024, 7);
const BLOB = digestOf(blob);
const sigPayload = Buffer.from('{"critical":{}}');
const signed = imageManifest('signed-slow');
const sig = cosignSignatureManifest(sigPayload);

/** Never answers (the response is kept so the socket stays open until the test ends). */
const hang = (_req: unknown, res: ServerResponse): void => void open.push(res);
/** Sends headers and then one byte every `everyMs`, forever. */
const trickle =
  (everyMs: number, length: number, type: string) =>
  (_req: unknown, res: ServerResponse): void => {
    open.push(res);
    res.writeHead(200, { 'content-type': type, 'content-length': length, 'docker-content-digest': digestOf(Buffer.alloc(length)) });
    res.flushHeaders();
    const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('{')), everyMs);
    res.on('close', () => clearInterval(timer));
  };
/** Sends headers and part of the body, then nothing. */
const stall =
  (type: string, length: number) =>
  (_req: unknown, res: ServerResponse): void => {
    open.push(res);
    res.writeHead(200, { 'content-type': type, 'content-length': length });
    res.write(Buffer.alloc(Math.min(1024, length - 1), 1));
  };

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

const yaml = (url: string, extra = ''): string => `
listen: { plainHttp: true, headersTimeoutMs: 1000, requestTimeoutMs: 5000 }
gate: { blobGate: false }
upstreams:
  - name: up
    url: ${url}
    default: true
    repositories: ["${new URL(url).host}/**"]
    retries: 1
    timeouts: { connectMs: 1000, headersMs: ${HEADERS_MS}, bodyIdleMs: ${BODY_IDLE_MS} }
${extra}`;

before(async () => {
  [slow, storage, tokenSlow] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeUpstream()]);
  tokenSlow.on('/token', hang);
  tokenSlow.on(
    '*',
    (_req, res) => void res.writeHead(401, { 'www-authenticate': `Bearer realm="${tokenSlow.url}/token",service="slow"` }).end(),
  );
  slow.on('/v2/hang/manifests/v1', hang);
  slow.on('/v2/trickle/manifests/v1', trickle(100, 100_000, manifest.mediaType));
  slow.on('/v2/stall/manifests/v1', stall(manifest.mediaType, 100_000));
  slow.on('/v2/trickle/tags/list', trickle(100, 100_000, 'application/json'));
  slow.on(`/v2/hang/blobs/${BLOB}`, hang);
  slow.on(`/v2/stall/blobs/${BLOB}`, stall('application/octet-stream', blob.length));
  slow.on(`/v2/redirected/blobs/${BLOB}`, (_req, res) => void res.writeHead(307, { location: `${storage.url}/hang` }).end());
  storage.on('/hang', hang);
  // A signature whose blob lives on (allowed) storage that never answers.
  slow.on('/v2/signed/manifests/v1', manifestAnswer(signed.bytes, signed.mediaType));
  slow.on(`/v2/signed/manifests/${digestTag(signed.digest)}.sig`, manifestAnswer(sig.bytes, sig.mediaType));
  slow.on(`/v2/signed/blobs/${digestOf(sigPayload)}`, (_req, res) => void res.writeHead(307, { location: `${storage.url}/hang` }).end());
  const follow = `    blobRedirects: { mode: follow, allowedHosts: ["${storage.host}"], allowedNetworks: ["127.0.0.1/32"] }\n`;
  const second = `  - { name: tok, url: "${tokenSlow.url}", registryHost: tok.example, repositories: ["tok.example/**"], retries: 1, timeouts: { connectMs: 1000, headersMs: ${HEADERS_MS}, bodyIdleMs: ${BODY_IDLE_MS} } }\n`;
  proxy = await startProxy(yaml(slow.url, follow + second));
  strict = await startProxy(yaml(slow.url, follow), { policy: SIGNED_POLICY, keys: [trustKey('release', [`${slow.host}/**`])] });
});

after(async () => {
  for (const res of open) res.destroy();
  await Promise.all([proxy?.close(), strict?.close()]);
  await Promise.all([slow?.close(), storage?.close(), tokenSlow?.close()]);
});

describe('a slow upstream, buffered answers (manifests, tags)', () => {
  it('headers never arrive › 504 UNAVAILABLE "did not answer within headersMs", after at most one retry', async () => {
    const { value: res, ms } = await timed(() => call(`${proxy.url}/v2/hang/manifests/v1`));
    assert.equal(res.status, 504);
    assert.equal(ociErrorOf(res.text).code, 'UNAVAILABLE');
    assert.match(ociErrorOf(res.text).message, new RegExp(`upstream "up" did not answer within ${HEADERS_MS} ms`));
    assert.ok(ms < HEADERS_BOUND_MS, `${Math.round(ms)} ms`);
  });

  it('the body stalls › 504 "sent no data for bodyIdleMs", after at most one retry', async () => {
    const { value: res, ms } = await timed(() => call(`${proxy.url}/v2/stall/manifests/v1`));
    assert.equal(res.status, 504);
    assert.match(ociErrorOf(res.text).message, new RegExp(`upstream "up" sent no data for ${BODY_IDLE_MS} ms`));
    assert.ok(ms < 2 * (BODY_IDLE_MS + UNDICI_GRAIN_MS) + 100 + SLACK_MS, `${Math.round(ms)} ms`);
  });

  it('the body trickles (a byte every 100 ms, never idle for bodyIdleMs) › 504 once headersMs + bodyIdleMs (+ the 1 s timer grain) have passed, not retried', async () => {
    for (const path of ['/v2/trickle/manifests/v1', '/v2/trickle/tags/list']) {
      const { value: res, ms } = await timed(() => call(`${proxy.url}${path}`));
      assert.equal(res.status, 504, path);
      assert.equal(ociErrorOf(res.text).code, 'UNAVAILABLE');
      assert.match(
        ociErrorOf(res.text).message,
        new RegExp(`upstream "up" did not send its whole answer within ${HEADERS_MS + BODY_IDLE_MS} ms`),
      );
      assert.ok(
        ms >= HEADERS_MS + BODY_IDLE_MS && ms < HEADERS_MS + BODY_IDLE_MS + UNDICI_GRAIN_MS + SLACK_MS,
        `${path}: ${Math.round(ms)} ms`,
      );
    }
  });
});

describe('a slow token endpoint', () => {
  it('the realm never answers › 504 naming the upstream, within the headers bound', async () => {
    const { value: res, ms } = await timed(() => call(`${proxy.url}/v2/tok/app/manifests/v1`));
    assert.equal(res.status, 504, res.text);
    assert.match(ociErrorOf(res.text).message, new RegExp(`upstream "tok" did not answer within ${HEADERS_MS} ms`));
    assert.ok(ms < HEADERS_BOUND_MS, `${Math.round(ms)} ms`);
  });
});

describe('a slow upstream, streamed blobs', () => {
  it('headers never arrive › 504 UNAVAILABLE naming the upstream', async () => {
    const { value: res, ms } = await timed(() => call(`${proxy.url}/v2/hang/blobs/${BLOB}`));
    assert.equal(res.status, 504);
    assert.match(ociErrorOf(res.text).message, /upstream "up" did not answer within/);
    assert.ok(ms < Math.max(HEADERS_MS, BODY_IDLE_MS) + SLACK_MS, `${Math.round(ms)} ms`);
  });

  it('the body stalls after the headers › the stream is cut after bodyIdleMs (the client sees a short body, never a hang)', async () => {
    const { value: res, ms } = await timed(() =>
      call(`${proxy.url}/v2/stall/blobs/${BLOB}`).then(
        (r) => r,
        (error: NodeJS.ErrnoException) => ({ status: -1, text: error.code ?? 'error' }),
      ),
    );
    if (res.status === 200) assert.ok(res.text.length < blob.length, 'a short body');
    else assert.equal(res.status, -1);
    assert.ok(ms < BODY_IDLE_MS + SLACK_MS, `${Math.round(ms)} ms`);
  });

  it('followed to storage that never answers › 504 UNAVAILABLE within headersMs', async () => {
    const { value: res, ms } = await timed(() => call(`${proxy.url}/v2/redirected/blobs/${BLOB}`));
    assert.equal(res.status, 504);
    assert.equal(ociErrorOf(res.text).message, `blob storage of upstream "up" did not answer within ${HEADERS_MS} ms`);
    assert.ok(ms < HEADERS_MS + UNDICI_GRAIN_MS + SLACK_MS, `${Math.round(ms)} ms`);
  });
});

describe('signature discovery against slow storage', () => {
  it('a signature blob redirected to storage that never answers › the pull fails closed within the upstream timeouts', async () => {
    const { value: res, ms } = await timed(() => call(`${strict.url}/v2/signed/manifests/v1`));
    assert.equal(res.status, 504, res.text);
    // Cut by undici's headersTimeout, or by the whole-read deadline under load: a 504 either way.
    assert.match(
      ociErrorOf(res.text).message,
      new RegExp(
        `(upstream "up" did not answer within ${HEADERS_MS} ms|blob storage of upstream "up" did not send sha256:[0-9a-f]{64} within ${HEADERS_MS + BODY_IDLE_MS} ms)`,
      ),
    );
    assert.ok(ms < HEADERS_BOUND_MS, `${Math.round(ms)} ms`);
  });
});

describe('a slow client', () => {
  it('request headers that never finish (slowloris) › the connection is closed after listen.headersTimeoutMs', async () => {
    const started = performance.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: Number(proxy.host.split(':')[1]) }, () =>
        socket.write('GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: '),
      );
      const drip = setInterval(() => socket.write('a'), 200);
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(drip);
        resolve(performance.now() - started);
      });
    });
    // Node checks the headers timeout every connectionsCheckingInterval, which listen.ts sets to min(1 s, headersTimeoutMs).
    assert.ok(closedAfter >= 900 && closedAfter < 2 * 1_000 + SLACK_MS, `${Math.round(closedAfter)} ms`);
  });
});
