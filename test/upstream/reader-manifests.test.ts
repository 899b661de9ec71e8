// The reader's manifest reads against a real loopback HTTP server: bytes hashed by trustgate and
// checked, one parser (oci/manifest.ts) refusing malformed descriptors, caps before buffering, the
// request budget, and only headers trustgate builds going upstream.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import { parseManifest } from '../../src/oci/manifest.ts';
import { MediaType } from '../../src/oci/media-types.ts';
import type { Digest } from '../../src/oci/reference.ts';
import { RequestBudget } from '../../src/upstream/budget.ts';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/index.ts';
import { describedManifest, findManifest, headManifest, readManifest } from '../../src/upstream/reader.ts';
import { rejection } from '../support/rejection.ts';
import { upstreamConfig } from './helpers/config.ts';
import { startServer, type FakeServer } from './helpers/fake-server.ts';

const D1 = `sha256:${'1'.repeat(64)}` as const;
const D2 = `sha256:${'2'.repeat(64)}` as const;
const sha256 = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sha512 = (b: Buffer): Digest => `sha512:${createHash('sha512').update(b).digest('hex')}`;
const bytesOf = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const imageWith = (layers: unknown[]): Buffer =>
  bytesOf({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: 'x', digest: D1, size: 1 }, layers });
const GOOD = imageWith([{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: D2, size: 2, annotations: { a: 'b' } }]);

interface Served {
  readonly status?: number;
  readonly body: Buffer;
  readonly headers?: Record<string, string>;
}

async function upstream(
  t: TestContext,
  serve: () => Served,
): Promise<{ client: UpstreamClient; server: FakeServer; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = await startServer((req, res) => {
    seen.push(req.headers);
    const answer = serve();
    res.writeHead(answer.status ?? 200, { 'content-type': MediaType.ociManifest, ...answer.headers });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  });
  t.after(() => server.close());
  const client = createUpstreamClient(upstreamConfig(server.origin, { retries: 0 }));
  t.after(() => client.close());
  return { client, server, seen };
}

const byTag = { repository: 'team/app', reference: { kind: 'tag', tag: 'v1' }, accept: MediaType.ociManifest } as const;
const byDigest = (digest: Digest) => ({ ...byTag, reference: { kind: 'digest', digest } }) as const;

describe('reader: manifest bytes are hashed by trustgate and checked', () => {
  it('by tag › the digest of the exact bytes, parsed by the one parser', async (t) => {
    const { client } = await upstream(t, () => ({ body: GOOD, headers: { 'docker-content-digest': sha256(GOOD) } }));
    const read = await readManifest(client, byTag);
    assert.equal(read.digest, sha256(GOOD));
    assert.ok(read.bytes.equals(GOOD));
    assert.deepEqual(read.manifest?.layers?.[0]?.annotations, { a: 'b' });
  });

  it('by digest › other bytes are UPSTREAM_DIGEST_MISMATCH (502 DIGEST_INVALID), whatever Docker-Content-Digest says', async (t) => {
    const { client } = await upstream(t, () => ({ body: GOOD, headers: { 'docker-content-digest': D1 } }));
    const error = await rejection(readManifest(client, byDigest(D1)));
    assert.equal(error.code, 'UPSTREAM_DIGEST_MISMATCH');
    assert.match(error.message, new RegExp(`hash to ${sha256(GOOD)}, not the requested ${D1}`));
  });

  it('by sha512 digest › hashed with sha512', async (t) => {
    const { client } = await upstream(t, () => ({ body: GOOD }));
    assert.equal((await readManifest(client, byDigest(sha512(GOOD)))).digest, sha512(GOOD));
  });

  it('a Docker-Content-Digest of the same algorithm that differs, or a malformed one › mismatch', async (t) => {
    for (const claimed of [D1, 'sha256:nothex', 'md5:abc']) {
      const { client } = await upstream(t, () => ({ body: GOOD, headers: { 'docker-content-digest': claimed } }));
      const error = await rejection(readManifest(client, byTag));
      assert.equal(error.code, 'UPSTREAM_DIGEST_MISMATCH', claimed);
      assert.match(error.message, /but Docker-Content-Digest says/);
    }
  });

  it('a refused format (schema 1, an unknown type) is returned as such, unread; invalid JSON is a bad answer', async (t) => {
    const schema1 = bytesOf({ schemaVersion: 1, name: 'x' });
    let body = schema1;
    let type = MediaType.dockerSchema1Signed as string;
    const { client } = await upstream(t, () => ({ body, headers: { 'content-type': type } }));
    const read = await readManifest(client, byTag);
    assert.equal(read.manifest, undefined);
    assert.match(read.unsupported ?? '', /schema 1/);
    assert.equal(read.digest, sha256(schema1));
    assert.throws(() => describedManifest('local', read), { code: 'UPSTREAM_BAD_RESPONSE' });
    body = Buffer.from('{');
    type = MediaType.ociManifest;
    const error = await rejection(readManifest(client, byTag));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.equal(error.message, 'upstream "local" sent an invalid manifest: manifest is not valid JSON');
  });
});

describe('reader: one parser for descriptors', () => {
  const malformed: Record<string, unknown> = {
    'no size': { mediaType: 'x', digest: D2 },
    'a negative size': { mediaType: 'x', digest: D2, size: -1 },
    'no media type': { digest: D2, size: 1 },
    'a non-string annotation': { mediaType: 'x', digest: D2, size: 1, annotations: { a: 1 } },
    'annotations that are a list': { mediaType: 'x', digest: D2, size: 1, annotations: ['a'] },
    'a non-string artifactType': { mediaType: 'x', digest: D2, size: 1, artifactType: 7 },
  };
  for (const [what, layer] of Object.entries(malformed)) {
    it(`a layer with ${what} › parsed, layers undefined; refused where trustgate follows descriptors`, async (t) => {
      const body = imageWith([layer]);
      const parsed = parseManifest(body, MediaType.ociManifest);
      assert.ok(parsed.ok);
      assert.equal(parsed.manifest.layers, undefined);
      const { client } = await upstream(t, () => ({ body }));
      const read = await findManifest(client, byTag);
      assert.ok(read !== undefined);
      const error = (() => {
        try {
          describedManifest('local', read);
        } catch (e) {
          return e as { code?: string; message?: string };
        }
        return undefined;
      })();
      assert.equal(error?.code, 'UPSTREAM_BAD_RESPONSE');
      assert.match(error?.message ?? '', /malformed descriptors/);
    });
  }

  it('a descriptor with a bad digest › the whole manifest is invalid', async (t) => {
    const { client } = await upstream(t, () => ({ body: imageWith([{ mediaType: 'x', digest: 'sha256:short', size: 1 }]) }));
    const error = await rejection(findManifest(client, byTag));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(error.message, /descriptor without a valid digest/);
  });

  it('index descriptors keep artifactType and annotations', () => {
    const index = bytesOf({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ mediaType: MediaType.ociManifest, digest: D1, size: 3, artifactType: 'application/x', annotations: { k: 'v' } }],
    });
    const parsed = parseManifest(index, MediaType.ociIndex);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.manifest.manifests, [
      { mediaType: MediaType.ociManifest, digest: D1, size: 3, artifactType: 'application/x', annotations: { k: 'v' } },
    ]);
  });
});

describe('reader: caps, budget and headers', () => {
  it('a manifest over the cap › UPSTREAM_MANIFEST_TOO_LARGE from its Content-Length, before reading', async (t) => {
    const { client } = await upstream(t, () => ({ body: Buffer.alloc(2_000, 'a') }));
    const error = await rejection(readManifest(client, { ...byTag, maxBytes: 1_000 }));
    assert.equal(error.code, 'UPSTREAM_MANIFEST_TOO_LARGE');
  });

  it('each upstream request spends the budget; past it, no request is made', async (t) => {
    const { client, server } = await upstream(t, () => ({ status: 404, body: Buffer.from('{}') }));
    const budget = new RequestBudget(2);
    assert.equal(await findManifest(client, { ...byTag, budget }), undefined);
    assert.equal(await headManifest(client, { repository: 'team/app', tag: 'v1', accept: MediaType.ociManifest, budget }), undefined);
    const error = await rejection(findManifest(client, { ...byTag, budget }));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(error.message, /more than 2 upstream requests/);
    assert.equal(server.requests.length, 2);
  });

  it('HEAD of a tag › the Docker-Content-Digest it names, or undefined when it names none', async (t) => {
    let claimed = sha256(GOOD);
    const { client } = await upstream(t, () => ({ body: GOOD, headers: { 'docker-content-digest': claimed } }));
    const head = { repository: 'team/app', tag: 'v1', accept: MediaType.ociManifest };
    assert.equal(await headManifest(client, head), sha256(GOOD));
    claimed = 'sha256:not-a-digest' as Digest;
    assert.equal(await headManifest(client, head), undefined);
  });

  it('only headers trustgate builds go upstream', async (t) => {
    const { client, seen } = await upstream(t, () => ({ body: GOOD }));
    await readManifest(client, byTag);
    const names = Object.keys(seen[0] ?? {}).sort();
    assert.deepEqual(names, ['accept', 'connection', 'host', 'user-agent']);
    assert.equal(seen[0]?.accept, MediaType.ociManifest);
    assert.equal(seen[0]?.['user-agent'], 'trustgate');
  });
});
