import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrustgateError } from '../../src/errors/errors.ts';
import { parseRoute } from '../../src/oci/route.ts';

const D = `sha256:${'c'.repeat(64)}`;

function codeOf(method: string, path: string): string {
  try {
    parseRoute(method, path);
  } catch (error) {
    assert.ok(error instanceof TrustgateError);
    return error.code;
  }
  return 'ok';
}

describe('routes', () => {
  it('parses the pull endpoints, anchoring on the right', () => {
    assert.deepEqual(parseRoute('GET', '/v2/'), { kind: 'ping' });
    assert.deepEqual(parseRoute('HEAD', '/v2/a/b/manifests/v1'), { kind: 'manifest', name: 'a/b', reference: { kind: 'tag', tag: 'v1' } });
    assert.deepEqual(parseRoute('GET', `/v2/a/manifests/${D}`), { kind: 'manifest', name: 'a', reference: { kind: 'digest', digest: D } });
    assert.deepEqual(parseRoute('GET', `/v2/x/blobs/${D}`), { kind: 'blob', name: 'x', digest: D });
    assert.deepEqual(parseRoute('GET', `/v2/x/referrers/${D}`), { kind: 'referrers', name: 'x', digest: D });
    assert.deepEqual(parseRoute('GET', '/v2/x/y/tags/list'), { kind: 'tags', name: 'x/y' });
    // A repository literally named "manifests" still parses.
    assert.deepEqual(parseRoute('GET', '/v2/a/manifests/manifests/v1'), {
      kind: 'manifest',
      name: 'a/manifests',
      reference: { kind: 'tag', tag: 'v1' },
    });
  });
  it('refuses push and delete with UNSUPPORTED', () => {
    assert.equal(codeOf('PUT', '/v2/a/manifests/v1'), 'UNSUPPORTED');
    assert.equal(codeOf('DELETE', `/v2/a/blobs/${D}`), 'UNSUPPORTED');
    assert.equal(codeOf('POST', '/v2/a/blobs/uploads/'), 'UNSUPPORTED');
    assert.equal(codeOf('PATCH', '/v2/a/blobs/uploads/123'), 'UNSUPPORTED');
    assert.equal(codeOf('GET', '/v2/a/blobs/uploads/123'), 'UNSUPPORTED');
  });
  it('does not expose the catalog', () => {
    assert.equal(codeOf('GET', '/v2/_catalog'), 'UNSUPPORTED');
  });
  it('refuses hostile names and references before anything goes upstream', () => {
    assert.equal(codeOf('GET', '/v2/../etc/manifests/v1'), 'NAME_INVALID');
    assert.equal(codeOf('GET', '/v2/a%2F..%2Fb/manifests/v1'), 'NAME_INVALID');
    assert.equal(codeOf('GET', '/v2/A/manifests/v1'), 'NAME_INVALID');
    assert.equal(codeOf('GET', '/v2/a/manifests/sha256:zz'), 'DIGEST_INVALID');
    assert.equal(codeOf('GET', '/v2/a/blobs/latest'), 'DIGEST_INVALID');
    assert.equal(codeOf('GET', '/v2/a/manifests/%0d%0aX'), 'MANIFEST_INVALID');
    assert.equal(codeOf('GET', '/v2/a/manifests/%0d%0aX:1'), 'DIGEST_INVALID');
    assert.equal(codeOf('GET', '/v3/a/manifests/v1'), 'NAME_UNKNOWN');
  });
});
