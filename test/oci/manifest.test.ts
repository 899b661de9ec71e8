import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from '../../src/oci/manifest.ts';
import { MediaType, upstreamAccept } from '../../src/oci/media-types.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const image = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: 'x', digest: D1, size: 1 },
  layers: [{ mediaType: 'y', digest: D2, size: 2 }],
};
const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: D1, size: 1 }] };
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('manifest parsing', () => {
  it('an image manifest lists its config and layers', () => {
    const r = parseManifest(bytes(image), `${MediaType.ociManifest}; charset=utf-8`);
    assert.ok(r.ok);
    assert.deepEqual(r.manifest.blobs, [D1, D2]);
    assert.equal(r.manifest.mediaType, MediaType.ociManifest);
  });
  it('an index lists its children', () => {
    const r = parseManifest(bytes(index), MediaType.ociIndex);
    assert.ok(r.ok);
    assert.deepEqual(r.manifest.children, [D1]);
  });
  it('schema 1 is refused by header or by body', () => {
    const r1 = parseManifest(bytes({ schemaVersion: 1 }), MediaType.dockerSchema1Signed);
    const r2 = parseManifest(bytes({ schemaVersion: 1, name: 'x' }), 'application/json');
    assert.equal(!r1.ok && r1.kind, 'schema1');
    assert.equal(!r2.ok && r2.kind, 'schema1');
  });
  it('a body mediaType that disagrees with Content-Type is invalid', () => {
    const r = parseManifest(bytes(image), MediaType.dockerManifest);
    assert.equal(!r.ok && r.kind, 'invalid');
  });
  it('bad JSON, non-objects and bad descriptors are invalid', () => {
    for (const body of [
      Buffer.from('{'),
      bytes([1]),
      bytes({ ...image, layers: [{ digest: 'nope' }] }),
      bytes({ ...image, schemaVersion: 3 }),
    ]) {
      const r = parseManifest(body, MediaType.ociManifest);
      assert.equal(!r.ok && r.kind, 'invalid', body.toString());
    }
  });
  it('an unknown media type is unsupported', () => {
    const r = parseManifest(
      bytes({ schemaVersion: 2, mediaType: 'application/vnd.oci.artifact.manifest.v1+json' }),
      'application/vnd.oci.artifact.manifest.v1+json',
    );
    assert.equal(!r.ok && r.kind, 'unsupported');
  });
});

describe('upstream Accept', () => {
  it('drops schema 1 and wildcards but keeps the client order', () => {
    const accept = upstreamAccept(`${MediaType.dockerSchema1Signed}, ${MediaType.dockerManifest}, ${MediaType.ociIndex};q=0.5, */*`);
    assert.equal(accept, `${MediaType.dockerManifest}, ${MediaType.ociIndex};q=0.5`);
  });
  it('falls back to every supported type', () => {
    assert.equal(upstreamAccept(undefined).split(', ').length, 4);
    assert.equal(upstreamAccept('*/*').split(', ').length, 4);
  });
});
