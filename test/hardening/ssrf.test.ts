import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MediaType } from '../../src/oci/media-types.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { call, type CallResult } from '../support/pull-auth.ts';
import { startCanary, type Canary } from './canary.ts';
import {
  cosignSignatureManifest,
  digestTag,
  FOREIGN_LAYER,
  imageIndex,
  imageManifest,
  SIGNED_POLICY,
  trustKey,
  type Doc,
} from './fixtures.ts';
import { ociErrorOf, rawRequest } from './raw-http.ts';

// SSRF: whatever an upstream answers or a client asks, trustgate calls only the addresses its config
// names. A canary server records every connection; every test ends with it untouched.
let canary: Canary;
let evil: FakeUpstream; // the configured upstream, answering with redirects, links and urls aimed at the canary
let storage: FakeUpstream; // the one blob storage host the config lists
let realmEvil: FakeUpstream; // an upstream whose token realm is the canary
let trickEvil: FakeUpstream; // an upstream whose token realms try to smuggle the canary past the origin check
let tokenMoved: FakeUpstream; // an upstream whose own token endpoint redirects to the canary
let pass: RunningProxy;
let follow: RunningProxy;
let strict: RunningProxy;

const image = imageManifest('app');
const blob = Buffer.from('blob bytes');
const BLOB = digestOf(blob);
const sigPayload = Buffer.from('{"critical":{}}');
const signed = imageManifest('signed');
const sigManifest = cosignSignatureManifest(sigPayload);
const notationManifest = imageManifest('notation-envelope');
let foreign: Doc;
let child: Doc;
let index: Doc;
let trickRealm = '';

const untouched = (): void => {
  assert.equal(canary.connections(), 0, `the canary was contacted: ${canary.requests.join(', ')}`);
};
const errorOf = (res: CallResult) => ociErrorOf(res.text);
const upstreamYaml = (upstreamUrl: string, extra: string): string => `
listen: { plainHttp: true }
gate: { blobGate: false }
upstreams:
  - name: up
    url: ${upstreamUrl}
    default: true
    repositories: ["${new URL(upstreamUrl).host}/allowed/**"]
    retries: 0
    timeouts: { connectMs: 1000, headersMs: 2000, bodyIdleMs: 2000 }
${extra}`;

before(async () => {
  canary = await startCanary();
  [evil, storage, realmEvil, trickEvil, tokenMoved] = await Promise.all([
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
  ]);
  child = imageManifest('child', [{ mediaType: FOREIGN_LAYER, urls: [`${canary.url}/child-layer`] }]);
  index = imageIndex([child], { urls: [`${canary.url}/index-child`] });
  foreign = imageManifest('foreign', [{ mediaType: FOREIGN_LAYER, urls: [`${canary.url}/foreign-layer`, `//${canary.host}/x`] }]);

  evil.on('/v2/allowed/app/manifests/v1', manifestAnswer(image.bytes, image.mediaType));
  for (const [name, status] of [
    ['r302', 302],
    ['r307', 307],
  ] as const) {
    evil.on(`/v2/allowed/${name}/blobs/${BLOB}`, (_req, res) => void res.writeHead(status, { location: `${canary.url}/stolen?x=1` }).end());
  }
  const redirectTo = (location: string) => (_req: unknown, res: ServerResponse) => void res.writeHead(307, { location }).end();
  evil.on(`/v2/allowed/userinfo/blobs/${BLOB}`, redirectTo(`http://${evil.host}@${canary.host}/x`));
  evil.on(`/v2/allowed/schemeless/blobs/${BLOB}`, redirectTo(`//${canary.host}/x`));
  evil.on(`/v2/allowed/backslash/blobs/${BLOB}`, redirectTo(`http://${canary.host}\\@${storage.host}/x`));
  evil.on(`/v2/allowed/file/blobs/${BLOB}`, redirectTo('file:///etc/passwd'));
  evil.on(`/v2/allowed/storage/blobs/${BLOB}`, redirectTo(`${storage.url}/bucket/blob`));
  evil.on(`/v2/allowed/chain/blobs/${BLOB}`, redirectTo(`${storage.url}/bucket/chain`));
  storage.on(
    '/bucket/blob',
    (req, res) =>
      void res
        .writeHead(200, { 'content-length': blob.length, 'content-type': 'application/octet-stream' })
        .end(req.method === 'HEAD' ? undefined : blob),
  );
  storage.on('/bucket/chain', redirectTo(`${canary.url}/second-hop`));

  for (const path of ['/v2/allowed/moved/manifests/v1', '/v2/allowed/moved/tags/list', `/v2/allowed/moved/referrers/${image.digest}`])
    evil.on(path, redirectTo(`${canary.url}/moved`));
  evil.on('/v2/allowed/app/tags/list', (_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      link: `<${canary.url}/v2/allowed/app/tags/list?n=1&last=a&ns=${canary.host}>; rel="next"`,
    });
    res.end(JSON.stringify({ name: 'allowed/app', tags: ['a'] }));
  });
  evil.on(`/v2/allowed/app/referrers/${image.digest}`, (_req, res) => {
    res.writeHead(200, {
      'content-type': MediaType.ociIndex,
      link: `<${canary.url}/v2/allowed/app/referrers/${image.digest}?last=x>; rel="next"`,
    });
    res.end(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          {
            mediaType: MediaType.ociManifest,
            digest: notationManifest.digest,
            size: notationManifest.bytes.length,
            artifactType: 'application/vnd.cncf.notary.signature',
            urls: [`${canary.url}/referrer`],
          },
        ],
      }),
    );
  });
  evil.on('/v2/allowed/foreign/manifests/v1', manifestAnswer(foreign.bytes, foreign.mediaType));
  evil.on('/v2/allowed/multi/manifests/v1', manifestAnswer(index.bytes, index.mediaType));
  evil.on(`/v2/allowed/multi/manifests/${child.digest}`, manifestAnswer(child.bytes, child.mediaType));

  // For the signature-checking proxy: a cosign signature whose blob is redirected to the canary,
  // and a notation referrer whose envelope blob is too.
  evil.on('/v2/allowed/signed/manifests/v1', manifestAnswer(signed.bytes, signed.mediaType));
  evil.on(`/v2/allowed/signed/manifests/${digestTag(signed.digest)}.sig`, manifestAnswer(sigManifest.bytes, sigManifest.mediaType));
  evil.on(`/v2/allowed/signed/blobs/${digestOf(sigPayload)}`, redirectTo(`${canary.url}/signature`));
  evil.on(`/v2/allowed/signed/referrers/${signed.digest}`, (_req, res) => {
    res.writeHead(200, { 'content-type': MediaType.ociIndex, link: `<${canary.url}/more>; rel="next"` });
    res.end(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          {
            mediaType: MediaType.ociManifest,
            digest: notationManifest.digest,
            size: notationManifest.bytes.length,
            artifactType: 'application/vnd.cncf.notary.signature',
            urls: [`${canary.url}/referrer`],
          },
        ],
      }),
    );
  });

  realmEvil.on(
    '*',
    (_req, res) => void res.writeHead(401, { 'www-authenticate': `Bearer realm="${canary.url}/token",service="evil"` }).end(),
  );
  tokenMoved.on('/token', redirectTo(`${canary.url}/token`));
  tokenMoved.on(
    '*',
    (_req, res) => void res.writeHead(401, { 'www-authenticate': `Bearer realm="${tokenMoved.url}/token",service="moved"` }).end(),
  );
  trickEvil.on('*', (_req, res) => void res.writeHead(401, { 'www-authenticate': `Bearer realm="${trickRealm}",service="evil"` }).end());

  const others = `
  - name: realm
    url: ${realmEvil.url}
    registryHost: realm.example
    repositories: ["realm.example/**"]
    auth: { type: basic, username: bob, password: { env: UPSTREAM_PASSWORD } }
    allowAnonymousPulls: true
    retries: 0
  - name: trick
    url: ${trickEvil.url}
    registryHost: trick.example
    repositories: ["trick.example/**"]
    retries: 0
  - name: moved
    url: ${tokenMoved.url}
    registryHost: moved.example
    repositories: ["moved.example/**"]
    retries: 0
`;
  const env = { UPSTREAM_PASSWORD: 'upstream-password-never-sent' };
  pass = await startProxy(upstreamYaml(evil.url, others), { env });
  // The canary and the storage share 127.0.0.1, which the address policy allows here, so these
  // tests show the host rule alone keeps the canary out (egress.test.ts covers the address rule).
  const followStorage = `    blobRedirects: { mode: follow, allowedHosts: ["${storage.host}"], allowedNetworks: ["127.0.0.1/32"] }\n`;
  follow = await startProxy(upstreamYaml(evil.url, followStorage));
  strict = await startProxy(upstreamYaml(evil.url, followStorage), {
    policy: SIGNED_POLICY,
    keys: [trustKey('release', [`${evil.host}/**`])],
  });
});

after(async () => {
  await Promise.all([pass?.close(), follow?.close(), strict?.close()]);
  await Promise.all([evil?.close(), storage?.close(), realmEvil?.close(), trickEvil?.close(), tokenMoved?.close(), canary?.close()]);
});

describe('blob redirects from the upstream', () => {
  const refusedTo = (host: string): RegExp =>
    new RegExp(
      `^upstream_redirect_refused: upstream "up" redirected to ${host.replace(/[.[\]]/g, '\\$&')}, which is not an allowed storage host`,
    );

  it('pass mode, 302 and 307 to an unlisted host › 403 DENIED upstream_redirect_refused; the client is never handed the Location', async () => {
    for (const name of ['r302', 'r307']) {
      const res = await call(`${pass.url}/v2/allowed/${name}/blobs/${BLOB}`);
      assert.equal(res.status, 403, name);
      assert.equal(res.headers.location, undefined);
      assert.equal(errorOf(res).code, 'DENIED');
      assert.match(errorOf(res).message, refusedTo(canary.host));
      assert.match(errorOf(res).message, /change upstreams\[0\]\.blobRedirects\.allowedHosts$/);
    }
    untouched();
  });

  it('pass mode, a non-http(s) Location (file:) › refused, not handed on', async () => {
    const res = await call(`${pass.url}/v2/allowed/file/blobs/${BLOB}`);
    assert.equal(res.status, 403);
    assert.match(errorOf(res).message, /^upstream_redirect_refused: upstream "up" redirected to file:, which is not http or https/);
  });

  it('follow mode, to a host not in allowedHosts › 403 naming the host, nothing fetched', async () => {
    for (const name of ['r302', 'r307']) {
      const res = await call(`${follow.url}/v2/allowed/${name}/blobs/${BLOB}`);
      assert.equal(res.status, 403, name);
      assert.equal(errorOf(res).code, 'DENIED');
      assert.match(errorOf(res).message, refusedTo(canary.host));
    }
    untouched();
  });

  it('follow mode, the canary smuggled as userinfo, scheme-relative, or behind a backslash › refused', async () => {
    for (const name of ['userinfo', 'schemeless', 'backslash']) {
      const res = await call(`${follow.url}/v2/allowed/${name}/blobs/${BLOB}`);
      assert.equal(res.status, 403, name);
      assert.match(errorOf(res).message, /^upstream_redirect_refused: upstream "up" redirected to /, name);
    }
    untouched();
  });

  it('follow mode, to the listed storage › streamed, without the upstream Authorization', async () => {
    const before = storage.requests.length;
    const res = await call(`${follow.url}/v2/allowed/storage/blobs/${BLOB}`);
    assert.equal(res.status, 200);
    assert.equal(res.text, blob.toString());
    assert.deepEqual(storage.requests.slice(before), ['GET /bucket/blob']);
    assert.equal(storage.headers.at(-1)?.authorization, undefined);
  });

  it('follow mode, listed storage redirecting again to the canary › refused at the second hop, which is never taken', async () => {
    const res = await call(`${follow.url}/v2/allowed/chain/blobs/${BLOB}`);
    assert.equal(res.status, 403);
    assert.match(errorOf(res).message, refusedTo(canary.host));
    untouched();
  });
});

describe('redirects of buffered answers', () => {
  it('a manifest, tags list or referrers answer redirecting to the canary › refused: the canary is no allowed API redirect host', async () => {
    for (const route of ['manifests/v1', 'tags/list', `referrers/${image.digest}`]) {
      const res = await call(`${pass.url}/v2/allowed/moved/${route}`);
      assert.equal(res.status, 403, route);
      assert.match(
        errorOf(res).message,
        new RegExp(
          `^upstream_redirect_refused: upstream "up" redirected to ${canary.host.replace(/[.]/g, '\\.')}, which is not an allowed API redirect host`,
        ),
        route,
      );
    }
    untouched();
  });

  it("the upstream's own token endpoint redirecting to the canary › 502, the redirect is not followed", async () => {
    const res = await call(`${pass.url}/v2/moved/app/manifests/v1`);
    assert.equal(res.status, 502);
    assert.match(errorOf(res).message, /the token endpoint answered 307/);
    assert.ok(tokenMoved.requests.some((r) => r.startsWith('GET /token?')));
    untouched();
  });
});

describe('token realms named by the upstream', () => {
  it('a Bearer realm on the canary › 502 naming the refused realm; the basic credentials go nowhere', async () => {
    const res = await call(`${pass.url}/v2/realm/app/manifests/v1`);
    assert.equal(res.status, 502);
    assert.equal(errorOf(res).code, 'UNAVAILABLE');
    assert.match(errorOf(res).message, /named token realm .* which is not allowed by config \(tokenRealms\)/);
    assert.ok(!res.text.includes('upstream-password-never-sent'));
    untouched();
  });

  it('realms that dress the canary up as the upstream (userinfo, backslash, other port, other scheme, relative) › refused', async () => {
    const port = Number(trickEvil.host.split(':')[1]);
    const variants = [
      `http://${trickEvil.host}@${canary.host}/token`,
      `http://${canary.host}\\@${trickEvil.host}/token`,
      `http://127.0.0.1:${canary.port}/token?host=${trickEvil.host}`,
      `https://127.0.0.1:${port}/token`,
      `//${canary.host}/token`,
      `http://${trickEvil.host}.${canary.host}/token`,
      `http://localhost:${canary.port}/token`,
    ];
    for (const realm of variants) {
      trickRealm = realm;
      const res = await call(`${pass.url}/v2/trick/app/manifests/v1`);
      assert.equal(res.status, 502, realm);
      assert.match(errorOf(res).message, /(invalid realm|not allowed by config)/, realm);
    }
    untouched();
  });
});

describe('ns and names chosen by the client', () => {
  it('?ns=<canary host> (and look-alikes) on every route › 403 DENIED, nothing sent anywhere', async () => {
    const before = evil.requests.length;
    const nsValues = [
      canary.host,
      canary.host.toUpperCase(),
      `${evil.host}@${canary.host}`,
      `${canary.host}/`,
      canary.url,
      `${evil.host}.${canary.host}`,
      `${canary.host}#${evil.host}`,
    ];
    const routes = ['manifests/v1', `blobs/${BLOB}`, 'tags/list', `referrers/${image.digest}`];
    for (const ns of nsValues) {
      for (const route of routes) {
        const res = await call(`${pass.url}/v2/allowed/app/${route}?ns=${encodeURIComponent(ns)}`);
        assert.equal(res.status, 403, `${ns} ${route}`);
        assert.equal(errorOf(res).code, 'DENIED');
      }
    }
    assert.deepEqual(evil.requests.slice(before), []);
    untouched();
  });

  it('names with .., %2f, @, //, backslashes, hosts or URLs › 400 with the precise OCI code, before anything goes upstream', async () => {
    const before = evil.requests.length;
    const c = canary.host;
    const targets = [
      `/v2/../../${c}/manifests/v1`,
      '/v2/allowed/../../x/manifests/v1',
      '/v2/allowed/..%2f..%2fx/manifests/v1',
      '/v2/allowed%2f..%2f..%2fx/manifests/v1',
      `/v2/${c}/allowed/app/manifests/v1`,
      `/v2/user@${c}/allowed/manifests/v1`,
      `/v2/allowed@${c}/manifests/v1`,
      `/v2//${c}/allowed/manifests/v1`,
      '/v2/allowed//app/manifests/v1',
      '/v2/allowed\\app/manifests/v1',
      `/v2/allowed\\\\${c}/manifests/v1`,
      `/v2/http:%2f%2f${c}%2fallowed/manifests/v1`,
      `/v2/http://${c}/allowed/manifests/v1`,
      '/v2/%31%32%37.0.0.1/allowed/manifests/v1',
      `/v2/allowed%40${c}/manifests/v1`,
      '/v2/allowed/app/manifests/..%2f..%2fx',
      `/v2/allowed/app/manifests/v1@${c}`,
      `/v2/allowed/app/blobs/http:%2f%2f${c}`,
      `/v2/allowed/app/blobs/sha256:${'a'.repeat(64)}@${c}`,
      `/v2/allowed/app/referrers/..%2f${c}`,
      `/v2/allowed/app/tags/list?last=http://${c}/`,
      `/v2/allowed/app/tags/list?n=1&n=${c}`,
      `/v2/allowed/app/referrers/${image.digest}?artifactType=http://${c}/x`,
    ];
    for (const target of targets) {
      const res = await rawRequest(pass.host, `GET ${target} HTTP/1.1\nHost: ${pass.host}\nConnection: close`);
      assert.equal(res.status, 400, `${target}: ${res.body}`);
      assert.ok(
        ['NAME_INVALID', 'MANIFEST_INVALID', 'DIGEST_INVALID', 'UNSUPPORTED'].includes(ociErrorOf(res.body).code),
        `${target}: ${res.body}`,
      );
    }
    assert.deepEqual(evil.requests.slice(before), []);
    untouched();
  });

  it('an absolute-form request target, Host and X-Forwarded-Host naming the canary › served from the configured upstream only', async () => {
    const before = evil.requests.length;
    const absolute = await rawRequest(
      pass.host,
      `GET ${canary.url}/v2/allowed/app/manifests/v1 HTTP/1.1\nHost: ${canary.host}\nX-Forwarded-Host: ${canary.host}\nConnection: close`,
    );
    assert.equal(absolute.status, 200);
    assert.equal(absolute.headers['docker-content-digest'], image.digest);
    const forwarded = await rawRequest(
      pass.host,
      `GET /v2/allowed/app/manifests/v1 HTTP/1.1\nHost: ${canary.host}\nX-Forwarded-Host: ${canary.host}\nForwarded: host=${canary.host}\nConnection: close`,
    );
    assert.equal(forwarded.status, 200);
    // The second may be a HEAD (the tag is re-resolved against a cached digest): same upstream, same path.
    assert.deepEqual(
      evil.requests.slice(before).map((r) => r.split(' ')[1]),
      ['/v2/allowed/app/manifests/v1', '/v2/allowed/app/manifests/v1'],
    );
    untouched();
  });

  it('CONNECT to the canary › refused, never tunnelled', async () => {
    const res = await rawRequest(pass.host, `CONNECT ${canary.host} HTTP/1.1\nHost: ${canary.host}`);
    assert.notEqual(res.status, 200);
    untouched();
  });
});

describe('links and descriptors in upstream answers', () => {
  it('a tags-list Link to the canary › rewritten to a relative proxy link; following it stays on the upstream', async () => {
    const res = await call(`${pass.url}/v2/allowed/app/tags/list`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.link, '</v2/allowed/app/tags/list?n=1&last=a>; rel="next"');
    const next = await call(`${pass.url}${/<([^>]+)>/.exec(String(res.headers.link))![1]}`);
    assert.equal(next.status, 200);
    assert.equal(evil.requests.at(-1), 'GET /v2/allowed/app/tags/list?n=1&last=a');
    untouched();
  });

  it('a referrers index whose Link and descriptor urls name the canary › served as data, nothing fetched from them', async () => {
    const res = await call(`${pass.url}/v2/allowed/app/referrers/${image.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.link, `</v2/allowed/app/referrers/${image.digest}?last=x>; rel="next"`);
    assert.equal(res.json<{ manifests: unknown[] }>().manifests.length, 1);
    untouched();
  });

  it('an image with foreign layers whose urls name the canary › the manifest is served, the layer is asked of the upstream by digest only', async () => {
    const manifest = await call(`${pass.url}/v2/allowed/foreign/manifests/v1`);
    assert.equal(manifest.status, 200);
    const layer = (JSON.parse(foreign.bytes.toString()) as { layers: Array<{ digest: string }> }).layers[0]!.digest;
    const res = await call(`${pass.url}/v2/allowed/foreign/blobs/${layer}`);
    assert.equal(res.status, 404);
    assert.equal(errorOf(res).code, 'BLOB_UNKNOWN');
    assert.equal(evil.requests.at(-1), `GET /v2/allowed/foreign/blobs/${layer}`);
    untouched();
  });

  it('an index whose child descriptors carry urls to the canary › children are fetched by digest from the upstream', async () => {
    assert.equal((await call(`${pass.url}/v2/allowed/multi/manifests/v1`)).status, 200);
    const res = await call(`${pass.url}/v2/allowed/multi/manifests/${child.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-content-digest'], child.digest);
    assert.equal(evil.requests.at(-1), `GET /v2/allowed/multi/manifests/${child.digest}`);
    untouched();
  });
});

describe('signature discovery (the gate reads signatures itself)', () => {
  it('a cosign signature blob redirected to the canary, and a referrer whose urls and Link name it › denied, nothing fetched from there', async () => {
    const before = evil.requests.length;
    const res = await call(`${strict.url}/v2/allowed/signed/manifests/v1`);
    assert.equal(res.status, 403);
    assert.equal(errorOf(res).code, 'DENIED');
    // The refused redirect is named as what it is, not as a bad signature.
    assert.match(
      errorOf(res).message,
      /^upstream_redirect_refused: upstream "up" redirected to 127\.0\.0\.1:\d+, which is not an allowed storage host/,
    );
    const seen = evil.requests.slice(before);
    assert.ok(seen.includes(`GET /v2/allowed/signed/blobs/${digestOf(sigPayload)}`), seen.join('\n'));
    assert.ok(seen.includes(`GET /v2/allowed/signed/manifests/${notationManifest.digest}`), seen.join('\n'));
    untouched();
  });

  it('an index whose children carry urls, under multiArch each › denied unsigned; only the upstream is asked', async () => {
    const res = await call(`${strict.url}/v2/allowed/multi/manifests/v1`);
    assert.equal(res.status, 403);
    assert.equal((await call(`${strict.url}/v2/allowed/multi/manifests/${child.digest}`)).status, 403);
    untouched();
  });
});
