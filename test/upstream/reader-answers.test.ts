// The one upstream-error mapper, seen through the reader against a real loopback HTTP server: each
// upstream answer becomes the same trustgate error whichever read asked, and a transport failure too.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { UpstreamConfig } from '../../src/config/types.ts';
import { toHttpError } from '../../src/errors/http.ts';
import { RequestBudget } from '../../src/upstream/budget.ts';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/index.ts';
import { fetchSmallBlob, findManifest, listReferrers, readManifest } from '../../src/upstream/reader.ts';
import { upstreamError } from '../../src/upstream/upstream-answer.ts';
import { rejection } from '../support/rejection.ts';
import { upstreamConfig } from './helpers/config.ts';
import { sendJson, startServer, unusedPort, type Handler } from './helpers/fake-server.ts';

const BLOB = Buffer.from('{"critical":{}}');
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}` as const;
const SUBJECT = `sha256:${'5'.repeat(64)}` as const;
const TAG = { kind: 'tag', tag: 'v1' } as const;
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

async function reader(t: TestContext, handler: Handler, overrides: Partial<UpstreamConfig> = {}): Promise<UpstreamClient> {
  const server = await startServer(handler);
  t.after(() => server.close());
  const client = createUpstreamClient(upstreamConfig(server.origin, { retries: 0, ...overrides }));
  t.after(() => client.close());
  return client;
}

const answering =
  (status: number, body: unknown = {}, headers: Record<string, string> = {}): Handler =>
  (_req, res) =>
    sendJson(res, status, body, headers);

/** Each read the reader offers, to ask of the same answer. */
function reads(client: UpstreamClient): Record<'manifest' | 'blob' | 'referrers', () => Promise<unknown>> {
  return {
    manifest: () => readManifest(client, { repository: 'team/app', reference: TAG, accept: ACCEPT }),
    blob: () => fetchSmallBlob(client, 'team/app', BLOB_DIGEST, BLOB.length, 1024, new RequestBudget(4)),
    referrers: () => listReferrers(client, 'team/app', SUBJECT),
  };
}

describe('one mapper: an upstream answer becomes the same error for every read', () => {
  for (const status of [500, 502, 503, 504]) {
    it(`${status} › UPSTREAM_UNREACHABLE "answered ${status}" (502 UNAVAILABLE to the client), never a finding`, async (t) => {
      const client = await reader(t, answering(status, { errors: [{ code: 'INJECTED', message: 'secret upstream text' }] }));
      for (const [what, read] of Object.entries(reads(client))) {
        const error = await rejection(read());
        assert.equal(error.code, 'UPSTREAM_UNREACHABLE', what);
        assert.equal(error.message, `upstream "local" answered ${status}`, what);
        const http = toHttpError(error);
        assert.equal(http.status, 502);
        assert.doesNotMatch(http.body, /secret upstream text/);
      }
    });
  }

  it('429 › TOOMANYREQUESTS passing Retry-After on (seconds or an HTTP date), and nothing else', async (t) => {
    for (const [retryAfter, passed] of [
      ['17', { 'retry-after': '17' }],
      ['Wed, 21 Oct 2015 07:28:00 GMT', { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }],
      ['soon <script>', {}],
      ['Wed, 21 Oct 2015 07:28:00 GMT; evil', {}],
    ] as const) {
      const client = await reader(t, answering(429, {}, { 'retry-after': retryAfter }));
      for (const [what, read] of Object.entries(reads(client))) {
        const error = await rejection(read());
        assert.equal(error.code, 'TOOMANYREQUESTS', what);
        assert.deepEqual(error.headers, passed, what);
      }
    }
  });

  it('404 of a manifest › the registry’s own code when it is one of ours, else MANIFEST_UNKNOWN', async (t) => {
    for (const [body, code] of [
      [{ errors: [{ code: 'NAME_UNKNOWN' }] }, 'NAME_UNKNOWN'],
      [{ errors: [{ code: 'MANIFEST_UNKNOWN' }] }, 'MANIFEST_UNKNOWN'],
      [{ errors: [{ code: 'SOMETHING_ELSE' }] }, 'MANIFEST_UNKNOWN'],
      ['not json at all', 'MANIFEST_UNKNOWN'],
    ] as const) {
      const client = await reader(t, answering(404, body));
      const error = await rejection(readManifest(client, { repository: 'team/app', reference: TAG, accept: ACCEPT }));
      assert.equal(error.code, code, JSON.stringify(body));
      assert.equal(error.message, `${code === 'NAME_UNKNOWN' ? 'repository' : 'manifest'} not found on upstream "local"`);
      assert.equal(
        await findManifest(client, { repository: 'team/app', reference: TAG, accept: ACCEPT }),
        undefined,
        'absent, when asked so',
      );
    }
  });

  it('401 and 403 of a manifest › NAME_UNKNOWN; of a referrers listing › NAME_UNKNOWN too', async (t) => {
    for (const status of [401, 403]) {
      const client = await reader(t, answering(status));
      const { manifest, referrers } = reads(client);
      for (const read of [manifest, referrers]) {
        const error = await rejection(read());
        assert.equal(error.code, 'NAME_UNKNOWN');
        assert.match(error.message, new RegExp(`^upstream "local" refused access \\(${status}\\)`));
      }
    }
  });

  it('a blob a descriptor named that is absent or refused (404, 401, 403, 400) › UPSTREAM_BAD_RESPONSE: the artifact naming it is bad', async (t) => {
    for (const status of [400, 401, 403, 404]) {
      const client = await reader(t, answering(status, { errors: [{ code: 'BLOB_UNKNOWN' }] }));
      const error = await rejection(reads(client).blob());
      assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE', String(status));
      assert.equal(error.message, `upstream "local" answered ${status}`);
    }
  });

  it('any other status for a buffered read › UPSTREAM_BAD_RESPONSE "answered <status>"; a redirect to an unlisted host › refused', async (t) => {
    for (const status of [300, 400, 405]) {
      const client = await reader(t, answering(status, {}, { location: 'http://canary.invalid/x' }));
      const { manifest, referrers } = reads(client);
      for (const read of [manifest, referrers]) {
        const error = await rejection(read());
        assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
        assert.equal(error.message, `upstream "local" answered ${status}`);
      }
    }
    for (const status of [301, 302, 303, 307, 308]) {
      const client = await reader(t, answering(status, {}, { location: 'http://canary.invalid/x' }));
      const { manifest, referrers } = reads(client);
      for (const read of [manifest, referrers]) {
        const error = await rejection(read());
        assert.equal(error.code, 'UPSTREAM_REDIRECT_REFUSED', String(status));
        assert.match(
          error.message,
          /^upstream_redirect_refused: upstream "local" redirected to canary\.invalid, which is not an allowed API redirect host/,
        );
      }
    }
  });
});

describe('one mapper: transport failures', () => {
  it('connection refused › UPSTREAM_UNREACHABLE naming the code only', async (t) => {
    const port = await unusedPort();
    const client = createUpstreamClient(upstreamConfig(`http://127.0.0.1:${port}`, { retries: 0 }));
    t.after(() => client.close());
    for (const [what, read] of Object.entries(reads(client))) {
      const error = await rejection(read());
      assert.equal(error.code, 'UPSTREAM_UNREACHABLE', what);
      assert.equal(error.message, 'upstream "local" is unreachable (ECONNREFUSED)', what);
    }
  });

  it('no answer within headersMs › UPSTREAM_TIMEOUT (504)', async (t) => {
    const client = await reader(t, () => {}, { timeouts: { connectMs: 1_000, headersMs: 200, bodyIdleMs: 1_000 } });
    const error = await rejection(readManifest(client, { repository: 'team/app', reference: TAG, accept: ACCEPT }));
    assert.equal(error.code, 'UPSTREAM_TIMEOUT');
    assert.equal(error.message, 'upstream "local" did not answer within 200 ms');
    assert.equal(toHttpError(error).status, 504);
  });

  it('the same mapping, called directly: storage is named as such, and a TrustgateError passes through', () => {
    const timeouts = { connectMs: 1, headersMs: 2, bodyIdleMs: 3 };
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443 with a URL in it'), { code: 'ECONNREFUSED' });
    const error = upstreamError('up', { thrown: refused, timeouts, storage: true });
    assert.equal(error.message, 'blob storage of upstream "up" is unreachable (ECONNREFUSED)');
    assert.equal(upstreamError('up', { thrown: error, timeouts }), error);
    const tls = upstreamError('up', { thrown: Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), timeouts });
    assert.equal(tls.message, 'upstream "up" is unreachable (TLS: DEPTH_ZERO_SELF_SIGNED_CERT)');
    assert.equal(
      upstreamError('up', { status: 503, missing: 'named', storage: true }).message,
      'blob storage of upstream "up" answered 503',
    );
  });
});
