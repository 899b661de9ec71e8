import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log/logger.ts';
import { scrubSecrets } from '../../src/log/scrub.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { configProblem } from '../support/config-problem.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { basic, call, tokenFor, writeSigningKey, type CallResult } from '../support/pull-auth.ts';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.ts';
import { imageManifest } from './fixtures.ts';
import { rawRequest } from './raw-http.ts';

// No credential reaches the logs, /metrics or an error body: trustgate runs with every kind of
// secret in play (upstream Basic and static bearer credentials, tokens the upstream issues, a Redis
// URL with a password, robot secrets, admin and pull JWTs, cookies, tokens in query strings and
// userinfo in URLs) while every log line, at trace level, is captured from pino.
const tag = randomBytes(6).toString('hex');
const SECRETS = {
  upstreamPassword: `up-pass-${tag}`,
  upstreamBearer: `static-bearer-${tag}`,
  realmIssued: `realm-issued-${tag}`,
  redisPassword: `redispass${tag}`,
  clientBearer: `client-bearer-${tag}`,
  clientCookie: `client-cookie-${tag}`,
  proxyAuthorization: `proxy-auth-${tag}`,
  queryToken: `query-token-${tag}`,
  queryAccessToken: `query-access-${tag}`,
  urlPassword: `url-pass-${tag}`,
  upstreamCookie: `upstream-cookie-${tag}`,
};
/** Secrets learnt while the test runs: the robot's, the JWTs, the signing key's PEM body. */
const learnt: Record<string, string> = {};
const allSecrets = (): [string, string][] => [...Object.entries(SECRETS), ...Object.entries(learnt)];

const lines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer | string, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});
/** Every answer trustgate gave, except the two whose job is to hand out a secret (robot creation, /token). */
const answers: { what: string; res: CallResult | { status: number; headers: Record<string, unknown>; text: string } }[] = [];

let dir: string;
let tokens: AdminTokens;
let redis: OwnRedis;
let privateUp: FakeUpstream; // Bearer challenge, realm wants Basic with the configured password
let staticUp: FakeUpstream; // wants the static bearer token
let proxy: RunningProxy;
let pullToken = '';
const image = imageManifest('scrub');
const BLOB = digestOf(Buffer.from('scrub-blob'));

function requireBearer(token: string, realm: () => string) {
  return (req: IncomingMessage, res: ServerResponse, then: () => void): void => {
    if (req.headers.authorization === `Bearer ${token}`) return then();
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm()}",service="private"`, 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: `token ${String(req.headers.authorization)} refused` }] }));
  };
}

async function record(what: string, res: Promise<CallResult>): Promise<CallResult> {
  const answer = await res;
  answers.push({ what, res: answer });
  return answer;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tg-scrub-'));
  tokens = await adminTokens(dir);
  redis = await startOwnRedis({ args: () => ['--requirepass', SECRETS.redisPassword] });
  [privateUp, staticUp] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);

  const privateGate = requireBearer(SECRETS.realmIssued, () => `${privateUp.url}/token`);
  privateUp.on('/token', (req, res) => {
    if (req.headers.authorization !== basic('puller', SECRETS.upstreamPassword)) return void res.writeHead(401).end();
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `session=${SECRETS.upstreamCookie}` });
    res.end(JSON.stringify({ token: SECRETS.realmIssued, expires_in: 300 }));
  });
  privateUp.on('/v2/', (req, res) => privateGate(req, res, () => void res.writeHead(200).end('{}')));
  privateUp.on('/v2/team/app/manifests/v1', (req, res) =>
    privateGate(req, res, () => manifestAnswer(image.bytes, image.mediaType, { 'set-cookie': `s=${SECRETS.upstreamCookie}` })(req, res)),
  );
  privateUp.on('/v2/team/flaky/manifests/v1', (req, res) =>
    privateGate(
      req,
      res,
      () => void res.writeHead(503, { 'set-cookie': `s=${SECRETS.upstreamCookie}` }).end(`upstream says ${SECRETS.realmIssued}`),
    ),
  );
  privateUp.on(`/v2/team/app/blobs/${BLOB}`, (req, res) =>
    privateGate(
      req,
      res,
      () => void res.writeHead(401, { 'www-authenticate': `Bearer realm="${privateUp.url}/token?token=${SECRETS.queryToken}"` }).end(),
    ),
  );
  const staticGate = requireBearer(SECRETS.upstreamBearer, () => `${staticUp.url}/nowhere`);
  staticUp.on('/v2/team/app/manifests/v1', (req, res) =>
    staticGate(req, res, () => manifestAnswer(image.bytes, image.mediaType)(req, res)),
  );

  const signingKey = writeSigningKey(dir);
  learnt['signingKey'] = readFileSync(signingKey, 'utf8').split('\n')[2]!; // a line from the middle of the PEM
  const yaml = `
listen: { plainHttp: true }
redis: { url: "redis://:${SECRETS.redisPassword}@127.0.0.1:${redis.port}" }
gate: { blobGate: false }
upstreams:
  - name: private
    url: ${privateUp.url}
    default: true
    repositories: ["${privateUp.host}/**"]
    auth: { type: basic, username: puller, password: { env: UP_PASSWORD } }
    retries: 1
    timeouts: { connectMs: 1000, headersMs: 2000, bodyIdleMs: 2000 }
  - name: static
    url: ${staticUp.url}
    registryHost: static.example
    repositories: ["static.example/**"]
    auth: { type: bearer, token: { env: UP_BEARER } }
pullAuth:
  signingKey: { file: "${signingKey}" }
${tokens.configYaml}`;
  const logger = createLogger('trace', capture);
  proxy = await startProxy(yaml, { env: { UP_PASSWORD: SECRETS.upstreamPassword, UP_BEARER: SECRETS.upstreamBearer } }, logger);
});

after(async () => {
  await proxy?.close();
  await Promise.all([privateUp?.close(), staticUp?.close()]);
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('credentials in use end to end', () => {
  it('admin calls with a real, a malformed and a missing token; a robot is made (its secret shown once)', async () => {
    const admin = await tokens.mint('secops', ['admin']);
    learnt['adminJwt'] = admin;
    const created = await call(`${proxy.url}/admin/v1/robots`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', cookie: `c=${SECRETS.clientCookie}` },
      body: JSON.stringify({ name: 'ci', repositories: ['**'] }),
    });
    assert.equal(created.status, 201, created.text);
    learnt['robotSecret'] = created.json<{ secret: string }>().secret;
    await record(
      'admin, bad token',
      call(`${proxy.url}/admin/v1/robots`, { headers: { authorization: `Bearer ${SECRETS.clientBearer}` } }),
    );
    await record(
      'admin, token in the query',
      call(`${proxy.url}/admin/v1/audit?access_token=${SECRETS.queryAccessToken}&token=${SECRETS.queryToken}`),
    );
    await record('admin, audit log', call(`${proxy.url}/admin/v1/audit?limit=50`, { headers: { authorization: `Bearer ${admin}` } }));
    await record('admin, robot list', call(`${proxy.url}/admin/v1/robots`, { headers: { authorization: `Bearer ${admin}` } }));
  });

  it('robot logins, good and bad; the pull token it gets', async () => {
    const good = await tokenFor(proxy.url, 'ci', learnt['robotSecret']!, [
      'repository:team/app:pull',
      'repository:static/team/app:pull',
      'repository:team/flaky:pull',
    ]);
    assert.equal(good.status, 200, good.text);
    pullToken = good.json<{ token: string }>().token;
    learnt['pullJwt'] = pullToken;
    await record('login, wrong secret', tokenFor(proxy.url, 'ci', `${learnt['robotSecret']!}x`, []));
    await record('login, secret as the username', tokenFor(proxy.url, learnt['pullJwt'], 'x', []));
    await record(
      'login, proxy credentials',
      call(`${proxy.url}/token?service=127.0.0.1`, { headers: { 'proxy-authorization': basic('p', SECRETS.proxyAuthorization) } }),
    );
  });

  it('pulls through both upstreams with client cookies, proxy credentials, query tokens and userinfo in the target', async () => {
    const headers = {
      authorization: `Bearer ${pullToken}`,
      cookie: `session=${SECRETS.clientCookie}`,
      'proxy-authorization': basic('p', SECRETS.proxyAuthorization),
    };
    const pulled = await record(
      'pull private',
      call(`${proxy.url}/v2/team/app/manifests/v1?token=${SECRETS.queryToken}&access_token=${SECRETS.queryAccessToken}`, { headers }),
    );
    assert.equal(pulled.status, 200, pulled.text);
    assert.equal(pulled.headers['set-cookie'], undefined, 'upstream cookies stay behind');
    assert.equal((await record('pull static', call(`${proxy.url}/v2/static/team/app/manifests/v1`, { headers }))).status, 200);
    assert.equal((await record('pull flaky', call(`${proxy.url}/v2/team/flaky/manifests/v1`, { headers }))).status, 502);
    assert.equal((await record('blob refused upstream', call(`${proxy.url}/v2/team/app/blobs/${BLOB}`, { headers }))).status, 404);
    await record(
      'bad pull token',
      call(`${proxy.url}/v2/team/app/manifests/v1`, { headers: { authorization: `Bearer ${SECRETS.clientBearer}` } }),
    );
    const absolute = await rawRequest(
      proxy.host,
      `GET http://u:${SECRETS.urlPassword}@${proxy.host}/v2/team/app/manifests/v1?token=${SECRETS.queryToken} HTTP/1.1\nHost: ${proxy.host}\nAuthorization: Bearer ${pullToken}\nConnection: close`,
    );
    answers.push({ what: 'absolute-form with userinfo', res: { status: absolute.status, headers: absolute.headers, text: absolute.body } });
    assert.equal(absolute.status, 200);
  });

  it('Redis (the URL holds a password) goes away under load › errors are logged, without the password', async () => {
    await redis.kill();
    for (const path of ['/v2/team/app/manifests/v1', `/v2/team/app/manifests/${image.digest}`]) {
      await record(`pull, redis down: ${path}`, call(`${proxy.url}${path}`, { headers: { authorization: `Bearer ${pullToken}` } }));
    }
    await record('readyz', call(`${proxy.url}/readyz`));
    await sleep(300);
    assert.ok(
      lines.some((l) => /redis/i.test(l) && /"level":(40|50)/.test(l)),
      'a redis failure was logged',
    );
  });

  it('the captured log exercised the paths that handle credentials', () => {
    const text = lines.join('');
    for (const event of [
      '"event":"decision"',
      '"event":"login_failed"',
      '"event":"token_issued"',
      '"event":"access"',
      'retrying upstream request',
      '"outcome":"denied"',
    ]) {
      assert.ok(text.includes(event), `no ${event} line`);
    }
  });
});

describe('where the secrets must not be', () => {
  it('no log line holds any of them', () => {
    const text = lines.join('');
    assert.ok(lines.length > 30, `${lines.length} lines`);
    for (const [name, secret] of allSecrets())
      assert.ok(!text.includes(secret), `the log holds ${name}: ${lines.find((l) => l.includes(secret))}`);
  });

  it('no answer body or header holds any of them (errors included)', () => {
    for (const { what, res } of answers) {
      const all = `${JSON.stringify(res.headers)}\n${res.text}`;
      for (const [name, secret] of allSecrets()) {
        // The pull token may come back only in... nothing: no answer here is a token answer.
        assert.ok(!all.includes(secret), `${what} (${res.status}) holds ${name}`);
      }
    }
  });

  it('/metrics holds none of them', async () => {
    const metrics = (await call(`${proxy.url}/metrics`)).text;
    assert.ok(metrics.includes('trustgate_decisions_total'));
    for (const [name, secret] of allSecrets()) assert.ok(!metrics.includes(secret), `/metrics holds ${name}`);
  });
});

describe('the logger itself (pino → stream; every line scrubbed by field name and in text)', () => {
  const logged = (record: object, message?: string): string => {
    const out: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer | string, _e, done) => void (out.push(String(chunk)), done()) });
    createLogger('info', stream).info(record, message);
    return out.join('');
  };

  it('credential fields are redacted by name at any depth, whatever their value; the line stays valid JSON', () => {
    const line = logged({
      Authorization: 'Basic dXNlcjpwYXNz',
      headers: { authorization: 'Bearer abc', 'proxy-authorization': 'Basic x', cookie: 'a=b', 'set-cookie': ['c=d', 'e="f"'] },
      upstream: { credentials: { password: 'hunter2', token: { value: 'tok' }, client_secret: 'cs', privateKey: 'pk', apiKey: 12345 } },
      deep: { a: { b: { c: { d: { secret: 'deep "quoted" s3' } } } } },
      kept: { tokenRealms: ['https://auth.example/token'], digest: 'sha256:abc' },
    });
    const parsed = JSON.parse(line) as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(parsed['Authorization'], '[redacted]' as never);
    assert.deepEqual(parsed['headers'], {
      authorization: '[redacted]',
      'proxy-authorization': '[redacted]',
      cookie: '[redacted]',
      'set-cookie': '[redacted]',
    });
    assert.deepEqual(parsed['upstream']!['credentials'], {
      password: '[redacted]',
      token: '[redacted]',
      client_secret: '[redacted]',
      privateKey: '[redacted]',
      apiKey: '[redacted]',
    });
    assert.deepEqual(parsed['deep'], { a: { b: { c: { d: { secret: '[redacted]' } } } } });
    assert.deepEqual(parsed['kept'], { tokenRealms: ['https://auth.example/token'], digest: 'sha256:abc' });
    for (const value of ['hunter2', 'dXNlcjpwYXNz', 's3', 'c=d', 'tok"', '12345']) assert.ok(!line.includes(value), value);
  });

  it('credentials inside text are scrubbed: URL userinfo, query tokens, Bearer/Basic values, JWTs, private keys, nested anywhere', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const line = logged(
      {
        err: new Error(`connect redis://default:pa@ss/w0rd@10.0.0.1:6379/0 and rediss://:only-pass@h failed`),
        a: { b: { c: { d: { header: 'Bearer 9f86d081884c7d659a2feaa0c55ad015', basic: 'Basic dXNlcjpwYXNzd29yZA==' } } } },
        url: 'https://storage.example/blob?X-Amz-Signature=abc123&X-Amz-Credential=AKIA%2Fx&n=1&token=t0k&access_token=at',
        pem: '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----',
      },
      `presented ${jwt}`,
    );
    for (const value of [
      'pa@ss/w0rd',
      'only-pass',
      '9f86d081884c7d659a2feaa0c55ad015',
      'dXNlcjpwYXNzd29yZA',
      'abc123',
      'AKIA',
      't0k',
      '=at',
      jwt,
      'MIGHAgEAMBMGByqGSM49',
    ]) {
      assert.ok(!line.includes(value), `${value} in ${line}`);
    }
    assert.match(line, /redis:\/\/\[redacted\]@10\.0\.0\.1:6379/);
    assert.match(line, /[?&]n=1/);
  });

  it('ordinary text is left alone: words after Bearer/Basic, image references, hosts', () => {
    const text =
      'a Bearer challenge; basic credentials; Basic realm; 127.0.0.1:5000/team/app@sha256:abc; http://127.0.0.1:5000/v2/; up=http://registry:5000';
    assert.equal(scrubSecrets(text), text);
  });

  it('an upstream URL with credentials in it is refused at start (they would be ignored, and logged)', () => {
    const problem = configProblem(
      'listen: { plainHttp: true }\nupstreams: [{ name: up, url: "https://user:pw@registry.example", default: true, repositories: ["registry.example/**"] }]\n',
    );
    assert.equal(problem.field, 'upstreams[0].url');
    assert.ok(!problem.message.includes('pw@'), problem.message);
  });
});
