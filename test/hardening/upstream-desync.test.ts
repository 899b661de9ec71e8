// An upstream connection is never reused after an anomaly on it (docs/integrity.md "Nothing from a
// client goes upstream"): a hostile upstream that sends a second, forged response after the one
// asked for must not get it read as the answer to the next request on that pooled connection.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { singleUpstream } from '../support/app-harness.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const layer = Buffer.from('the real layer bytes');
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('{}')), size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(layer), size: layer.length }],
  }),
);
const forgedManifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('{"evil":1}')), size: 10 },
    layers: [],
  }),
);

let upstream: Server;
let connections = 0;
let proxy: RunningProxy;

const answer = (body: Buffer, headers: Record<string, string>): string =>
  `HTTP/1.1 200 OK\r\n${Object.entries({ ...headers, 'content-length': String(body.length) })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n${body.toString('latin1')}`;
const FORGED_BLOB = answer(Buffer.from('EVIL LAYER'), { 'content-type': 'application/octet-stream' });
const FORGED_MANIFEST = answer(forgedManifest, { 'content-type': OCI, 'docker-content-digest': digestOf(forgedManifest) });

/** A registry on a raw socket: every answer to a manifest or blob GET is followed by a forged one. */
before(async () => {
  upstream = createServer((socket) => {
    connections += 1;
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const [method = '', path = ''] = pending.slice(0, end).split(' ');
        pending = pending.slice(end + 4);
        if (path === '/v2/') socket.write(answer(Buffer.from('{}'), { 'content-type': 'application/json' }));
        else if (path.includes('/manifests/v1') || path.includes(`/manifests/${digestOf(manifest)}`)) {
          const head = { 'content-type': OCI, 'docker-content-digest': digestOf(manifest) };
          socket.write(
            method === 'HEAD'
              ? answer(Buffer.alloc(0), head).replace('content-length: 0', `content-length: ${manifest.length}`)
              : answer(manifest, head) + FORGED_MANIFEST,
          );
        } else if (path.includes(`/blobs/${digestOf(layer)}`))
          socket.write(answer(layer, { 'content-type': 'application/octet-stream' }) + FORGED_BLOB);
        else socket.write('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as { port: number };
  proxy = await startProxy(singleUpstream(`http://127.0.0.1:${port}`));
});
after(async () => {
  await proxy?.close();
  await new Promise((resolve) => upstream.close(resolve));
});

describe('a hostile upstream that appends a forged response', () => {
  it('blob GETs › each answered with the real bytes; the connection that carried the forgery is not reused', async () => {
    assert.equal((await fetch(`${proxy.url}/v2/allowed/app/manifests/v1`)).status, 200);
    for (let i = 0; i < 3; i += 1) {
      const before = connections;
      const res = await fetch(`${proxy.url}/v2/allowed/app/blobs/${digestOf(layer)}`);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200);
      assert.equal(digestOf(body), digestOf(layer), `pull ${i + 1}: the real layer, never the forged answer`);
      assert.ok(connections > before, `pull ${i + 1} came on a new upstream connection`);
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('manifest GETs by tag › the real manifest every time, never the forged one', async () => {
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(`${proxy.url}/v2/allowed/app/manifests/v1`, { headers: { accept: OCI } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), digestOf(manifest), `pull ${i + 1}`);
      assert.equal(digestOf(Buffer.from(await res.arrayBuffer())), digestOf(manifest));
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
