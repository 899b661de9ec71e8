import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MediaType } from '../../src/oci/media-types.ts';
import { records, spawnProxy, type ChildProxy } from '../support/child-proxy.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

// X-Request-Id on every answer of a real trustgate process, and in its decision log lines (info).

const manifest = Buffer.from(
  `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:${'a'.repeat(64)}","size":2},"layers":[]}`,
);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let upstream: FakeUpstream;
let proxy: ChildProxy;
let url: string;

before(async () => {
  upstream = await startFakeUpstream();
  upstream.on('/v2/allowed/app/manifests/v1', manifestAnswer(manifest, MediaType.ociManifest));
  proxy = spawnProxy(`listen: { address: "127.0.0.1:0", plainHttp: true }
upstreams:
  - { name: up, url: "${upstream.url}", default: true, repositories: ["${upstream.host}/allowed/**"], retries: 0 }`);
  url = await proxy.url();
  await proxy.waitFor(/"event":"started"/);
});
after(async () => {
  await proxy.kill();
  await upstream.close();
});

async function pull(path: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(`${url}${path}`, { headers });
  await res.arrayBuffer();
  return res;
}

describe('request ids', () => {
  it('a sane X-Request-Id is echoed, and the decision line carries it with the client address', async () => {
    const res = await pull('/v2/allowed/app/manifests/v1', {
      'x-request-id': 'pull-42.a_B',
      authorization: 'Bearer sekrit-token',
      cookie: 'session=sekrit-cookie',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), digestOf(manifest));
    assert.equal(res.headers.get('x-request-id'), 'pull-42.a_B');
    const [line] = records((await proxy.waitFor(/.*"requestId":"pull-42\.a_B".*/))[0], 'decision');
    assert.equal(line?.['name'], `${upstream.host}/allowed/app`);
    assert.equal(line?.['outcome'], 'allow');
    assert.match(String(line?.['clientAddress']), /^(::ffff:)?127\.0\.0\.1$/);
    assert.doesNotMatch(proxy.out(), /sekrit/, 'no Authorization or Cookie value in the logs');
  });

  it('none given › a UUID is generated, a different one per request', async () => {
    const [a, b] = await Promise.all([pull('/v2/'), pull('/v2/')]);
    assert.match(a.headers.get('x-request-id') ?? '', UUID);
    assert.match(b.headers.get('x-request-id') ?? '', UUID);
    assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
  });

  it('one that is not a plain token of at most 64 characters › replaced by a UUID', async () => {
    for (const given of ['x'.repeat(65), 'has space', 'semi;colon', 'ünïcode', '']) {
      const res = await pull('/v2/', { 'x-request-id': given });
      assert.match(res.headers.get('x-request-id') ?? '', UUID, JSON.stringify(given));
    }
    assert.equal((await pull('/v2/', { 'x-request-id': 'y'.repeat(64) })).headers.get('x-request-id'), 'y'.repeat(64));
  });

  it('error answers carry it too: an unknown manifest, a source denial (logged with it), a push, /readyz', async () => {
    const unknown = await pull('/v2/allowed/app/manifests/nope', { 'x-request-id': 'err-1' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('x-request-id'), 'err-1');
    const denied = await pull('/v2/elsewhere/app/manifests/v1', { 'x-request-id': 'err-2' });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('x-request-id'), 'err-2');
    const [line] = records((await proxy.waitFor(/.*"requestId":"err-2".*/))[0], 'decision');
    assert.equal(line?.['outcome'], 'deny');
    const push = await fetch(`${url}/v2/allowed/app/blobs/uploads/`, { method: 'POST', headers: { 'x-request-id': 'err-3' } });
    assert.equal(push.status, 405);
    assert.equal(push.headers.get('x-request-id'), 'err-3');
    const readyz = await pull('/readyz', { 'x-request-id': 'probe-1' });
    assert.equal(readyz.status, 200);
    assert.equal(readyz.headers.get('x-request-id'), 'probe-1');
  });
});
