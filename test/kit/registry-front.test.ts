// Self-test of registry-front.ts: the checks the preset tests rely on are real (a wrong signature,
// an Authorization header on storage, missing or wrong credentials, a token for another repository
// are all refused), so a pull that passes through a front proves something.
// Run: node --import tsx --test test/kit/registry-front.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { putBlob } from './registry-api.ts';
import { startRegistry, type RunningRegistry } from './registry.ts';
import {
  FRONT_PRESETS,
  makeFrontTls,
  startRegistryFront,
  UNLISTED_STORAGE_HOST,
  type FrontTls,
  type RegistryFront,
} from './registry-front.ts';

let work: string;
let backing: RunningRegistry;
let tls: FrontTls;
const blob = Buffer.from('registry front self-test blob\n');
let digest: string;
const fronts: RegistryFront[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'trustgate-front-test-'));
  backing = await startRegistry();
  tls = await makeFrontTls(work);
  for (const preset of FRONT_PRESETS) digest = (await putBlob(backing.url, `${preset}/team/app`, blob)).digest;
});
after(async () => {
  await Promise.all(fronts.map((front) => front.stop()));
  await backing?.stop();
  await rm(work, { recursive: true, force: true });
});

async function start(...args: Parameters<typeof startRegistryFront>): Promise<RegistryFront> {
  const front = await startRegistryFront(...args);
  fronts.push(front);
  return front;
}
const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
/** Flips one character of `param` in a URL's query (base64, hex or base64url alike). */
function tamper(url: string, param: string): string {
  const u = new URL(url);
  const value = u.searchParams.get(param)!;
  const last = value.at(-1) === 'A' ? 'B' : 'A';
  u.searchParams.set(param, value.slice(0, -1) + last);
  return u.href;
}
const SIGNATURE_PARAM = {
  s3: 'X-Amz-Signature',
  gcs: 'X-Goog-Signature',
  'azure-sas': 'sig',
  cloudfront: 'Signature',
  cloudflare: 'verify',
} as const;

describe('token auth (ghcr)', () => {
  test('401 Bearer challenge → token from the realm → 307 to storage with a signed query → 200 the bytes', async () => {
    const front = await start('ghcr', { backingUrl: backing.url, tls });
    const path = `https://ghcr.io/v2/team/app/blobs/${digest}`;
    const challenge = await front.request(path);
    assert.equal(challenge.status, 401);
    assert.equal(
      challenge.headers['www-authenticate'],
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:team/app:pull"',
    );
    const issued = await front.request('https://ghcr.io/token?service=ghcr.io&scope=repository:team/app:pull');
    assert.equal(issued.status, 200);
    const { token } = JSON.parse(issued.body.toString()) as { token: string };
    const redirected = await front.request(path, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(redirected.status, 307);
    const location = String(redirected.headers.location);
    assert.match(location, /^https:\/\/pkg-containers\.githubusercontent\.com\/ghcr1\/blobs\/sha256:[0-9a-f]{64}\?sv=.*&se=.*&sig=/);
    const stored = await front.request(location);
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.body, blob);
    assert.equal(stored.headers['docker-content-digest'], undefined, 'storage sends no registry headers');
  });

  test('a token for another repository › 401 insufficient_scope; an unknown service › 400', async () => {
    const front = await start('ghcr', { backingUrl: backing.url, tls });
    const issued = await front.request('https://ghcr.io/token?service=ghcr.io&scope=repository:team/other:pull');
    const { token } = JSON.parse(issued.body.toString()) as { token: string };
    const res = await front.request('https://ghcr.io/v2/team/app/manifests/v1', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /error="insufficient_scope"$/);
    assert.equal((await front.request('https://ghcr.io/token?service=other&scope=repository:team/app:pull')).status, 400);
  });

  test('Docker Hub: the realm is on auth.docker.io, and it checks the Basic credentials', async () => {
    const front = await start('dockerhub', { backingUrl: backing.url, tls, credentials: { username: 'bot', password: 'right' } });
    const challenge = await front.request(`https://registry-1.docker.io/v2/team/app/blobs/${digest}`);
    assert.match(
      String(challenge.headers['www-authenticate']),
      /^Bearer realm="https:\/\/auth\.docker\.io\/token",service="registry\.docker\.io"/,
    );
    const url = 'https://auth.docker.io/token?service=registry.docker.io&scope=repository:team/app:pull';
    assert.equal((await front.request(url)).status, 401);
    assert.equal((await front.request(url, { headers: basic('bot', 'wrong') })).status, 401);
    assert.equal((await front.request(url, { headers: basic('bot', 'right') })).status, 200);
    // The registry host has no token endpoint; auth.docker.io serves no registry API.
    assert.equal((await front.request('https://registry-1.docker.io/token?service=registry.docker.io')).status, 404);
    assert.equal((await front.request('https://auth.docker.io/v2/')).status, 404);
    assert.deepEqual(
      front.log.filter((e) => e.role === 'token').map((e) => [e.host, e.authorization, e.status]),
      [
        ['auth.docker.io', 'none', 401],
        ['auth.docker.io', 'basic', 401],
        ['auth.docker.io', 'basic', 200],
      ],
    );
  });
});

describe('Basic auth (ECR)', () => {
  test('only the current password is accepted; setCredentials rotates it', async () => {
    const front = await start('ecr', { backingUrl: backing.url, tls, credentials: { username: 'AWS', password: 'token-1' } });
    const url = `https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/team/app/blobs/${digest}`;
    const challenge = await front.request(url);
    assert.equal(challenge.status, 401);
    assert.equal(
      challenge.headers['www-authenticate'],
      'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
    );
    const redirected = await front.request(url, { headers: basic('AWS', 'token-1') });
    assert.equal(redirected.status, 307);
    assert.match(
      String(redirected.headers.location),
      /^https:\/\/prod-us-east-1-starport-layer-bucket\.s3\.us-east-1\.amazonaws\.com\/[0-9a-f]{32}\/[0-9a-f-]{36}\?X-Amz-Algorithm=AWS4-HMAC-SHA256&/,
    );
    front.setCredentials({ username: 'AWS', password: 'token-2' });
    assert.equal((await front.request(url, { headers: basic('AWS', 'token-1') })).status, 401);
    assert.equal((await front.request(url, { headers: basic('AWS', 'token-2') })).status, 307);
  });
});

describe('signed storage URLs, every preset', () => {
  for (const preset of FRONT_PRESETS) {
    test(`${preset}: the URL as issued › 200; a flipped signature, another host, or an Authorization header › refused`, async () => {
      const front = await start(preset, { backingUrl: backing.url, tls, credentials: { username: 'u', password: 'p' } });
      const { spec } = front;
      // Reach the storage redirect as a client with the right credentials would.
      let headers: Record<string, string> = {};
      if (spec.auth.kind === 'basic') headers = basic('u', 'p');
      if (spec.auth.kind === 'token') {
        const realm = new URL(spec.auth.realm);
        realm.searchParams.set('service', spec.auth.service);
        realm.searchParams.set('scope', 'repository:team/app:pull');
        const { token } = JSON.parse((await front.request(realm.href, { headers: basic('u', 'p') })).body.toString()) as { token: string };
        headers = { authorization: `Bearer ${token}` };
      }
      let answer = await front.request(`https://${spec.apiHost}/v2/team/app/blobs/${digest}`, { headers });
      if (spec.mirror !== undefined) {
        assert.equal(answer.status, 307);
        assert.equal(answer.headers.location, `https://${spec.mirror.host}/v2/${spec.mirror.prefix}team/app/blobs/${digest}`);
        answer = await front.request(String(answer.headers.location));
      }
      assert.equal(answer.status, 307);
      const location = String(answer.headers.location);
      assert.equal(new URL(location).hostname, spec.storageHosts[0]);
      const ok = await front.request(location);
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body, blob);
      assert.equal((await front.request(location, { method: 'HEAD' })).status, 200);

      assert.equal((await front.request(tamper(location, SIGNATURE_PARAM[spec.style]))).status, 403);
      const bare = new URL(location);
      bare.search = '';
      assert.equal((await front.request(bare.href)).status, 403);
      const elsewhere = new URL(location);
      elsewhere.hostname = UNLISTED_STORAGE_HOST;
      assert.equal((await front.request(elsewhere.href)).status, 403, 'the signature covers the host');
      assert.equal((await front.request(location, { headers: { authorization: 'Bearer x' } })).status, 400);
      assert.deepEqual(
        front.log.filter((e) => e.role === 'storage').map((e) => e.status),
        [200, 200, 403, 403, 403, 400],
      );
    });
  }
});

describe('the 429 switch and the request log', () => {
  test('the next N matching API requests get 429 with Retry-After; others and later ones do not', async () => {
    const front = await start('registry-k8s', { backingUrl: backing.url, tls });
    front.rateLimit({ count: 2, retryAfterSeconds: 7, repository: 'team/app' });
    const mirror = `https://us-west2-docker.pkg.dev/v2/k8s-artifacts-prod/images/team/app/blobs/${digest}`;
    for (let i = 0; i < 2; i++) {
      const limited = await front.request(mirror);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['retry-after'], '7');
      assert.match(limited.body.toString(), /"code":"TOOMANYREQUESTS"/);
    }
    assert.equal((await front.request(mirror)).status, 307);
    assert.equal((await front.request('https://registry.k8s.io/v2/')).status, 200);
    assert.deepEqual(
      front.log.map((e) => [e.host, e.role, e.repository, e.status]),
      [
        ['us-west2-docker.pkg.dev', 'api', 'team/app', 429],
        ['us-west2-docker.pkg.dev', 'api', 'team/app', 429],
        ['us-west2-docker.pkg.dev', 'api', 'team/app', 307],
        ['registry.k8s.io', 'redirect', undefined, 200],
      ],
    );
  });

  test('a request for one host sent to another host’s server › 421, and logged nowhere', async () => {
    const front = await start('ghcr', { backingUrl: backing.url, tls });
    const [address, port] = front.connectTo['ghcr.io:443']!.split(':');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: address,
          port: Number(port),
          servername: 'ghcr.io',
          headers: { host: 'pkg-containers.githubusercontent.com' },
          ca: readFileSync(tls.caFile),
          path: '/v2/',
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 421);
    assert.deepEqual(front.log, []);
  });
});
