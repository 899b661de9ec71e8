import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { basic, call, capturingLogger, startLoggedProxy, tokenFor, writeSigningKey, type CallResult } from '../support/pull-auth.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

// Integration: two replicas sharing Redis and the signing key; no upstream is ever reached here
// (127.0.0.1:9 refuses connections), so everything asserted is the proxy's own access control.
const prefix = testPrefix('pullauth');
const dir = mkdtempSync(join(tmpdir(), 'tg-pullauth-'));
const keyFile = writeSigningKey(dir);
const START = Date.parse('2026-03-01T12:00:00Z');
let clock = START;
const now = (): number => clock;
const logs = capturingLogger();
const oidcKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let admin: AdminTokens;
let a: RunningProxy;
let b: RunningProxy;
let secret = '';

const yaml = (): string => `
listen: { plainHttp: true }
redis: { url: "${REDIS_URL}" }
upstreams:
  - { name: local, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"], retries: 0, timeouts: { connectMs: 500, headersMs: 500, bodyIdleMs: 500 } }
  - { name: hub, url: "http://127.0.0.1:10", registryHost: docker.io, repositories: ["docker.io/**"], retries: 0 }
pullAuth:
  signingKey: { file: "${keyFile}" }
  tokenTtlSeconds: 60
  rateLimit: { maxFailures: 3, windowMs: 60000 }
  oidc:
    issuer: "https://kubernetes.default.svc"
    jwksFile: "${join(dir, 'oidc-jwks.json')}"
    audience: trustgate-pull
    grants: [{ subject: "system:serviceaccount:ci:*", repositories: ["127.0.0.1:9/ci/**"] }]
${admin.configYaml}`;

const adminCall = async (proxy: RunningProxy, method: string, path: string, roles: string[], body?: unknown): Promise<CallResult> =>
  call(`${proxy.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await admin.mint('alice', roles)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const errorOf = (res: CallResult) =>
  res.json<{ errors: Array<{ code: string; message: string; detail?: { reasons?: string[] } }> }>().errors[0]!;
let address = 10;
/** A loopback address no other test uses, so per-address failure counts never cross tests. */
const freshAddress = (): string => `127.0.0.${address++}`;

async function pullToken(proxy: RunningProxy, scopes: string[], user = 'ci', password = secret): Promise<string> {
  const res = await tokenFor(proxy.url, user, password, scopes);
  assert.equal(res.status, 200, res.text);
  return res.json<{ token: string }>().token;
}

before(async () => {
  admin = await adminTokens(dir);
  writeFileSync(
    join(dir, 'oidc-jwks.json'),
    JSON.stringify({ keys: [{ ...(await exportJWK(oidcKeys.publicKey)), kid: 'k8s', alg: 'ES256' }] }),
  );
  a = await startLoggedProxy(yaml(), logs, { redisPrefix: prefix, now });
  b = await startProxy(yaml(), { redisPrefix: prefix, now });
  const created = await adminCall(a, 'POST', '/robots', ['key-manager'], {
    name: 'ci',
    repositories: ['127.0.0.1:9/team/**', '127.0.0.1:9/library/*'],
  });
  assert.equal(created.status, 201, created.text);
  secret = created.json<{ secret: string }>().secret;
});

after(async () => {
  await a?.close();
  await b?.close();
  await deleteRedisKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('pull auth off (the default)', () => {
  it('/v2/ answers without a token, and there is no /token', async () => {
    const open = await startProxy(
      'listen: { plainHttp: true }\nupstreams:\n  - { name: local, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }\n',
    );
    try {
      assert.equal((await call(`${open.url}/v2/`)).status, 200);
      assert.equal((await call(`${open.url}/token`)).status, 404);
    } finally {
      await open.close();
    }
  });
});

describe('the challenge', () => {
  it('/v2/ without a token › 401 with the Docker token challenge: realm from Host, service = listener host', async () => {
    const res = await call(`${a.url}/v2/`);
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], `Bearer realm="${a.url}/token",service="127.0.0.1"`);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.equal(errorOf(res).code, 'UNAUTHORIZED');
  });
  it('a name route › the challenge names the pull scope', async () => {
    const res = await call(`${a.url}/v2/team/app/manifests/v1`, { method: 'HEAD' });
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], `Bearer realm="${a.url}/token",service="127.0.0.1",scope="repository:team/app:pull"`);
  });
  it('a Host header that would break the quotes › not echoed', async () => {
    const res = await call(`${a.url}/v2/`, { headers: { host: 'evil",x="y' } });
    assert.equal(res.headers['www-authenticate'], `Bearer realm="http://127.0.0.1:0/token",service="127.0.0.1"`);
  });
  it('a token that is not ours › 401 with error="invalid_token"', async () => {
    const res = await call(`${a.url}/v2/team/app/tags/list`, bearer('not.a.token'));
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /scope="repository:team\/app:pull",error="invalid_token"$/);
  });
});

describe('the token endpoint', () => {
  it('answers a short-lived ES256 token that carries only the granted pulls', async () => {
    const res = await tokenFor(a.url, 'ci', secret, [
      'repository:team/app:pull,push',
      'repository:other/app:pull',
      'repository:team/lib:push',
    ]);
    assert.equal(res.status, 200, res.text);
    const body = res.json<{ token: string; access_token: string; expires_in: number; issued_at: string }>();
    assert.equal(body.access_token, body.token);
    assert.equal(body.expires_in, 60);
    assert.equal(body.issued_at, new Date(START).toISOString());
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(decodeProtectedHeader(body.token).alg, 'ES256');
    const claims = decodeJwt(body.token);
    assert.deepEqual(
      { iss: claims.iss, sub: claims.sub, aud: claims.aud, ttl: claims.exp! - claims.iat!, access: claims['access'] },
      {
        iss: 'trustgate',
        sub: 'robot:ci',
        aud: '127.0.0.1',
        ttl: 60,
        access: [{ type: 'repository', name: 'team/app', actions: ['pull'], canonical: ['127.0.0.1:9/team/app'] }],
      },
    );
  });
  it('no credentials › 401; a wrong secret and an unknown robot › the same 401', async () => {
    assert.equal((await call(`${a.url}/token?scope=repository:team/app:pull`)).status, 401);
    const from = freshAddress();
    const wrong = await tokenFor(a.url, 'ci', `${secret}x`, [], from);
    const unknown = await tokenFor(a.url, 'nobody', secret, [], from);
    assert.equal(wrong.status, 401);
    assert.deepEqual(errorOf(wrong), { code: 'UNAUTHORIZED', message: 'invalid credentials' });
    assert.equal(unknown.text, wrong.text);
  });
  it('another service, or too many scopes › 400', async () => {
    assert.equal((await call(`${a.url}/token?service=elsewhere`, { headers: { authorization: basic('ci', secret) } })).status, 400);
    const many = Array.from({ length: 65 }, (_, i) => `repository:r${i}:pull`);
    assert.equal((await tokenFor(a.url, 'ci', secret, many)).status, 400);
  });
});

describe('enforcement on /v2', () => {
  it('a token with the scope › passes to the proxy (here: the unreachable upstream, 502)', async () => {
    const token = await pullToken(a, ['repository:team/app:pull']);
    assert.equal((await call(`${a.url}/v2/`, bearer(token))).status, 200);
    assert.equal((await call(`${a.url}/v2/team/app/manifests/v1`, bearer(token))).status, 502);
  });
  it('a valid token without the repository › 403 DENIED, reason not_authorized', async () => {
    const token = await pullToken(a, ['repository:team/app:pull', 'repository:other/app:pull']);
    const res = await call(`${a.url}/v2/other/app/manifests/v1`, bearer(token));
    assert.equal(res.status, 403);
    const error = errorOf(res);
    assert.equal(error.code, 'DENIED');
    assert.equal(error.message, 'trustgate denied 127.0.0.1:9/other/app (rule "pull-access"): "robot:ci" may not pull this repository');
    assert.deepEqual(error.detail?.reasons, ['not_authorized']);
    assert.equal((await call(`${a.url}/v2/other/app/blobs/sha256:${'a'.repeat(64)}`, bearer(token))).status, 403);
  });
  it('a grant through one registry does not reach the same name on another via ?ns=', async () => {
    const token = await pullToken(a, ['repository:library/nginx:pull']);
    const res = await call(`${a.url}/v2/library/nginx/manifests/latest?ns=docker.io`, bearer(token));
    assert.equal(res.status, 403);
    assert.match(errorOf(res).message, /denied docker\.io\/library\/nginx/);
  });
  it('a token issued by replica A › accepted by replica B (shared key)', async () => {
    const token = await pullToken(a, ['repository:team/app:pull']);
    assert.equal((await call(`${b.url}/v2/`, bearer(token))).status, 200);
    assert.equal((await call(`${b.url}/v2/team/app/manifests/v1`, bearer(token))).status, 502);
    // …and the robot made through A authenticates at B (robots live in Redis).
    assert.equal((await tokenFor(b.url, 'ci', secret, [])).status, 200);
  });
  it('tokens signed with another key, unsigned, or HMAC-signed with our public key › 401', async () => {
    const claims = { access: [{ type: 'repository', name: 'team/app', actions: ['pull'], canonical: ['127.0.0.1:9/team/app'] }] };
    const stranger = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('trustgate')
      .setSubject('robot:ci')
      .setAudience('127.0.0.1')
      .setIssuedAt(START / 1000)
      .setExpirationTime(START / 1000 + 60)
      .sign(stranger.privateKey as CryptoKey);
    const unsigned = new UnsecuredJWT(claims)
      .setIssuer('trustgate')
      .setSubject('robot:ci')
      .setAudience('127.0.0.1')
      .setIssuedAt(START / 1000)
      .setExpirationTime(START / 1000 + 60)
      .encode();
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('trustgate')
      .setSubject('robot:ci')
      .setAudience('127.0.0.1')
      .setIssuedAt(START / 1000)
      .setExpirationTime(START / 1000 + 60)
      .sign(new TextEncoder().encode(keyFile));
    for (const token of [forged, unsigned, hmac])
      assert.equal((await call(`${b.url}/v2/team/app/tags/list`, bearer(token))).status, 401, token);
  });
  it('tokens expire: accepted until exp, refused after (controlled clock)', async () => {
    const token = await pullToken(a, ['repository:team/app:pull']);
    try {
      clock = START + 59_000;
      assert.equal((await call(`${b.url}/v2/`, bearer(token))).status, 200);
      clock = START + 61_000;
      const res = await call(`${b.url}/v2/`, bearer(token));
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
      assert.match(errorOf(res).message, /ERR_JWT_EXPIRED/);
    } finally {
      clock = START;
    }
  });
});

describe('failed logins are rate-limited (shared through Redis)', () => {
  it('per identity: 3 failures from 3 addresses › the 4th try is 429, right secret or not, on the other replica too', async () => {
    const created = await adminCall(a, 'POST', '/robots', ['admin'], { name: 'target', repositories: ['**'] });
    assert.equal(created.status, 201);
    for (const proxy of [a, b, a]) assert.equal((await tokenFor(proxy.url, 'target', 'guess', [], freshAddress())).status, 401);
    const res = await tokenFor(b.url, 'target', created.json<{ secret: string }>().secret, [], freshAddress());
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers['retry-after']) >= 1 && Number(res.headers['retry-after']) <= 60, String(res.headers['retry-after']));
    assert.equal(errorOf(res).code, 'TOOMANYREQUESTS');
  });
  it('per address: 3 failures for 3 names › that address gets 429 even with good credentials; others do not', async () => {
    const from = freshAddress();
    for (const name of ['x1', 'x2', 'x3']) assert.equal((await tokenFor(a.url, name, 'guess', [], from)).status, 401);
    assert.equal((await tokenFor(b.url, 'ci', secret, [], from)).status, 429);
    assert.equal((await tokenFor(b.url, 'ci', secret, [], freshAddress())).status, 200);
  });
  it('a name with no robot is throttled the same way (nothing says which names exist)', async () => {
    for (let i = 0; i < 3; i += 1) await tokenFor(a.url, 'ghost', 'guess', [], freshAddress());
    assert.equal((await tokenFor(a.url, 'ghost', 'guess', [], freshAddress())).status, 429);
  });
});

describe('robot accounts through the admin API', () => {
  it('need key-manager or admin: an auditor gets 403 on every robot route', async () => {
    for (const [method, path, body] of [
      ['POST', '/robots', { name: 'sneaky', repositories: ['**'] }],
      ['GET', '/robots'],
      ['DELETE', '/robots/ci'],
    ] as const) {
      const res = await adminCall(a, method, path, ['auditor'], body);
      assert.equal(res.status, 403, `${method} ${path}`);
    }
    assert.equal((await call(`${a.url}/admin/v1/robots`)).status, 401);
  });
  it('the secret is shown once: the list has no secret and no hash; a second create is 409', async () => {
    const list = await adminCall(b, 'GET', '/robots', ['auditor', 'key-manager']);
    assert.equal(list.status, 200);
    const ci = list.json<{ robots: Array<Record<string, unknown>> }>().robots.find((r) => r.name === 'ci');
    assert.deepEqual(Object.keys(ci!).sort(), ['createdAt', 'name', 'repositories']);
    assert.ok(!list.text.includes(secret));
    assert.equal((await adminCall(a, 'POST', '/robots', ['key-manager'], { name: 'ci', repositories: ['**'] })).status, 409);
    assert.equal((await adminCall(a, 'POST', '/robots', ['key-manager'], { name: 'Bad Name', repositories: ['**'] })).status, 400);
  });
  it('the secret is never stored or logged in clear: Redis holds a 16-byte salt and a 32-byte scrypt hash', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const stored = JSON.parse((await redis.hget(`${prefix}robots`, 'ci'))!) as Record<string, unknown>;
      assert.deepEqual(Object.keys(stored).sort(), ['createdAt', 'hash', 'name', 'repositories', 'salt']);
      assert.equal(Buffer.from(String(stored['salt']), 'base64').length, 16);
      assert.equal(Buffer.from(String(stored['hash']), 'base64').length, 32);
      for (const key of await redis.keys(`${prefix}*`)) {
        const type = await redis.type(key);
        const dump =
          type === 'hash'
            ? JSON.stringify(await redis.hgetall(key))
            : type === 'string'
              ? String(await redis.get(key))
              : type === 'stream'
                ? JSON.stringify(await redis.xrange(key, '-', '+'))
                : '';
        assert.ok(!dump.includes(secret), `${key} holds the secret`);
      }
    } finally {
      redis.disconnect();
    }
    assert.ok(logs.lines.length > 0);
    assert.ok(!logs.lines.some((line) => line.includes(secret)), 'a log line holds the secret');
  });
  it('revoking › no new tokens for it (a token already issued lives out its ≤ ttl)', async () => {
    await adminCall(a, 'POST', '/robots', ['key-manager'], { name: 'temp', repositories: ['127.0.0.1:9/team/**'] }).then(async (r) => {
      const tempSecret = r.json<{ secret: string }>().secret;
      const issued = await pullToken(a, ['repository:team/app:pull'], 'temp', tempSecret);
      const revoked = await adminCall(b, 'DELETE', '/robots/temp', ['key-manager']);
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.json<{ revokedAt: string }>().revokedAt, new Date(START).toISOString());
      assert.equal((await tokenFor(a.url, 'temp', tempSecret, [], freshAddress())).status, 401);
      assert.equal((await call(`${a.url}/v2/`, bearer(issued))).status, 200);
      assert.equal((await adminCall(b, 'DELETE', '/robots/temp', ['key-manager'])).status, 404);
    });
  });
});

describe('OIDC identities (a service-account token as the password)', () => {
  const saToken = (claims: { sub: string; aud?: string; iss?: string; expSeconds?: number }) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k8s' })
      .setIssuer(claims.iss ?? 'https://kubernetes.default.svc')
      .setAudience(claims.aud ?? 'trustgate-pull')
      .setSubject(claims.sub)
      .setIssuedAt(Math.floor(clock / 1000))
      .setExpirationTime(Math.floor(clock / 1000) + (claims.expSeconds ?? 600))
      .sign(oidcKeys.privateKey);

  it('a verified token › its subject, with the pulls of the grants its subject matches', async () => {
    const res = await tokenFor(a.url, 'any-user', await saToken({ sub: 'system:serviceaccount:ci:builder' }), [
      'repository:ci/app:pull',
      'repository:team/app:pull',
    ]);
    assert.equal(res.status, 200, res.text);
    const claims = decodeJwt(res.json<{ token: string }>().token);
    assert.equal(claims.sub, 'oidc:system:serviceaccount:ci:builder');
    assert.deepEqual(
      (claims['access'] as Array<{ name: string }>).map((g) => g.name),
      ['ci/app'],
    );
  });
  it('a subject no grant matches › a token with no pulls', async () => {
    const res = await tokenFor(a.url, 'u', await saToken({ sub: 'system:serviceaccount:prod:web' }), ['repository:ci/app:pull']);
    assert.deepEqual(decodeJwt(res.json<{ token: string }>().token)['access'], []);
  });
  it('wrong audience, wrong issuer or expired › 401', async () => {
    for (const bad of [{ aud: 'someone-else' }, { iss: 'https://evil' }, { expSeconds: -1 }]) {
      const res = await tokenFor(a.url, 'u', await saToken({ sub: 'system:serviceaccount:ci:builder', ...bad }), [], freshAddress());
      assert.equal(res.status, 401, JSON.stringify(bad));
    }
  });
});
