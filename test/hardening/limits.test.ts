import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { call } from '../support/pull-auth.ts';
import { cosignSignatureManifest, digestTag, imageManifest, SIGNED_POLICY, trustKey } from './fixtures.ts';
import { ociErrorOf, rawRequest } from './raw-http.ts';

// Size limits: nothing an upstream or a client sends makes trustgate buffer past a documented cap.
const CAP = 4 * 1_048_576; // manifests.maxBytes, the default
const MiB = 1_048_576;

let upstream: FakeUpstream;
let proxy: RunningProxy;
let strict: RunningProxy;
let tokens: AdminTokens;
let dir: string;
/** Bytes the upstream managed to hand to the kernel per endless answer, and whether its peer hung up. */
const endless = new Map<string, { written: number; closed: Promise<void> }>();

/** Writes 64 KiB chunks (up to 256 MiB) for as long as the reader keeps reading. */
function endlessAnswer(name: string, headers: Record<string, string>) {
  return (_req: unknown, res: ServerResponse): void => {
    const state = { written: 0, closed: new Promise<void>((resolve) => res.on('close', resolve)) };
    endless.set(name, state);
    res.writeHead(200, headers);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (!res.destroyed && state.written < 256 * MiB) {
        state.written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    pump();
  };
}

const signed = imageManifest('big-signature');
const hugePayload = { digest: `sha256:${'b'.repeat(64)}`, size: 2 * MiB };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tg-limits-'));
  tokens = await adminTokens(dir);
  upstream = await startFakeUpstream();
  upstream.on('/v2/big/manifests/declared', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': CAP + 1 });
    res.end(Buffer.alloc(CAP + 1, 0x20));
  });
  upstream.on('/v2/big/manifests/endless', endlessAnswer('manifest', { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }));
  upstream.on('/v2/big/tags/list', endlessAnswer('tags', { 'content-type': 'application/json' }));
  upstream.on(
    `/v2/big/referrers/${digestOf(Buffer.from('x'))}`,
    endlessAnswer('referrers', { 'content-type': 'application/vnd.oci.image.index.v1+json' }),
  );
  upstream.on('/v2/big/manifests/headers', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'x-huge': 'a'.repeat(256 * 1024) });
    res.end('{}');
  });
  // A signature whose layer claims 2 MiB: over gate.discovery.maxBlobBytes (1 MiB), so never fetched.
  const sig = cosignSignatureManifest(Buffer.from('unused'));
  const sigJson = JSON.parse(sig.bytes.toString()) as { layers: Array<Record<string, unknown>> };
  Object.assign(sigJson.layers[0]!, hugePayload);
  const sigBytes = Buffer.from(JSON.stringify(sigJson));
  upstream.on('/v2/big/manifests/signed', manifestAnswer(signed.bytes, signed.mediaType));
  upstream.on(`/v2/big/manifests/${digestTag(signed.digest)}.sig`, manifestAnswer(sigBytes, sig.mediaType));
  const yaml = `
listen: { plainHttp: true }
upstreams:
  - { name: up, url: "${upstream.url}", default: true, repositories: ["${upstream.host}/**"], retries: 2, timeouts: { connectMs: 1000, headersMs: 5000, bodyIdleMs: 5000 } }
${tokens.configYaml.replace('audience: "trustgate",', 'audience: "trustgate", maxBodyBytes: 4096,')}`;
  proxy = await startProxy(yaml);
  strict = await startProxy(yaml, { policy: SIGNED_POLICY, keys: [trustKey('release', [`${upstream.host}/**`])] });
});

after(async () => {
  await Promise.all([proxy?.close(), strict?.close()]);
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('answers from the upstream', () => {
  it('a manifest whose Content-Length is over the 4 MiB cap › 502 MANIFEST_INVALID naming the cap, not retried', async () => {
    const before = upstream.requests.length;
    const res = await call(`${proxy.url}/v2/big/manifests/declared`);
    assert.equal(res.status, 502);
    assert.deepEqual(ociErrorOf(res.text), { code: 'MANIFEST_INVALID', message: `upstream "up" sent more than ${CAP} bytes` });
    assert.deepEqual(upstream.requests.slice(before), ['GET /v2/big/manifests/declared']);
  });

  it('an endless manifest, tags list or referrers body without Content-Length › 502 once past its cap; reading stops there', async () => {
    const cases = [
      ['manifest', '/v2/big/manifests/endless', CAP],
      ['tags', '/v2/big/tags/list', 8 * MiB],
      ['referrers', `/v2/big/referrers/${digestOf(Buffer.from('x'))}`, 4 * MiB],
    ] as const;
    for (const [name, path, cap] of cases) {
      const res = await call(`${proxy.url}${path}`);
      assert.equal(res.status, 502, name);
      assert.deepEqual(ociErrorOf(res.text), { code: 'MANIFEST_INVALID', message: `upstream "up" sent more than ${cap} bytes` }, name);
      const state = endless.get(name)!;
      await state.closed;
      // What the kernel's socket buffers took beyond the cap is all the upstream could push.
      assert.ok(state.written < cap + 16 * MiB, `${name}: the upstream wrote ${state.written} bytes`);
    }
  });

  it('response headers over the client limit › 502 UNAVAILABLE, nothing buffered', async () => {
    const res = await call(`${proxy.url}/v2/big/manifests/headers`);
    assert.equal(res.status, 502);
    assert.equal(ociErrorOf(res.text).code, 'UNAVAILABLE');
    assert.match(ociErrorOf(res.text).message, /upstream "up" is unreachable \(UND_ERR_HEADERS_OVERFLOW\)/);
  });

  it('a signature layer over gate.discovery.maxBlobBytes › never fetched; the pull is denied', async () => {
    const res = await call(`${strict.url}/v2/big/manifests/signed`);
    assert.equal(res.status, 403);
    assert.equal(ociErrorOf(res.text).code, 'DENIED');
    assert.ok(!upstream.requests.some((r) => r.includes(hugePayload.digest)), 'the oversized blob was requested');
  });
});

describe('requests from clients', () => {
  it('request headers over listen.maxHeaderBytes (16 KiB) › 431, nothing sent upstream', async () => {
    const before = upstream.requests.length;
    const res = await rawRequest(
      proxy.host,
      `GET /v2/big/manifests/declared HTTP/1.1\nHost: x\nX-Big: ${'a'.repeat(20 * 1024)}\nConnection: close`,
    );
    assert.equal(res.status, 431);
    const longUrl = await rawRequest(proxy.host, `GET /v2/${'a/'.repeat(10_000)}x/manifests/v1 HTTP/1.1\nHost: x\nConnection: close`);
    assert.equal(longUrl.status, 431);
    assert.equal(upstream.requests.length, before);
  });

  it('a repository name over 255 characters › 400 NAME_INVALID', async () => {
    const res = await call(`${proxy.url}/v2/${'a'.repeat(256)}/manifests/v1`);
    assert.equal(res.status, 400);
    assert.equal(ociErrorOf(res.text).code, 'NAME_INVALID');
  });

  it('an admin body over admin.maxBodyBytes (scans) or the route caps (JSON 64 KiB, policy 1 MiB) › 413 BODY_TOO_LARGE', async () => {
    const auth = { authorization: `Bearer ${await tokens.mint('big-sender', ['admin'])}`, 'content-type': 'application/json' };
    const image = encodeURIComponent(`${upstream.host}/big@sha256:${'c'.repeat(64)}`);
    const cases = [
      ['POST', `/admin/v1/scans?image=${image}`, 4097, 'the body is larger than 4096 bytes'],
      ['POST', '/admin/v1/breakglass', 65_537, 'the body is larger than 65536 bytes'],
      ['POST', '/admin/v1/policy/validate', MiB + 1, 'the body is larger than 1048576 bytes'],
    ] as const;
    for (const [method, path, size, message] of cases) {
      const res = await call(`${proxy.url}${path}`, { method, headers: auth, body: `"${'x'.repeat(size - 2)}"` });
      assert.equal(res.status, 413, `${path}: ${res.text}`);
      assert.deepEqual(ociErrorOf(res.text), { code: 'BODY_TOO_LARGE', message }, path);
    }
  });

  it('an unauthenticated admin call announcing a 20 MiB body › 401 at once, the body is never read', async () => {
    const image = encodeURIComponent(`${upstream.host}/big@sha256:${'c'.repeat(64)}`);
    const res = await rawRequest(
      proxy.host,
      `POST /admin/v1/scans?image=${image} HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: ${20 * MiB}\nConnection: close`,
      '{"partial":',
    );
    assert.equal(res.status, 401);
    assert.ok(res.ms < 2_000, `${Math.round(res.ms)} ms`);
  });
});
