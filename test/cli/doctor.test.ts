import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parsePolicy } from '../../src/policy/parse.ts';
import { redisPolicyVersions } from '../../src/policy-store/redis-policy-versions.ts';
import { connectRedis, createRedis } from '../../src/redis/connection.ts';
import { parseTrustedIdentity } from '../../src/verify/notation/index.ts';
import { makeTls, startRegistry, startTokenIssuer, type RunningRegistry, type TlsFiles, type TokenIssuer } from '../kit/index.ts';
import { startFakeUpstream } from '../support/fake-upstream.ts';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.ts';
import { runCli } from '../tools/cli-run.ts';

// `trustgate doctor`: a deployment checked from its config against real dependencies: a registry
// behind TLS (a test CA) with the token flow, a plain one, a Redis with a password, the listener's
// certificate and the trust store's. One line per check, ok/warn/fail, and never a secret.

const work = mkdtempSync(join(tmpdir(), 'tg-doctor-'));
const UPSTREAM_PASSWORD = `up-${randomBytes(12).toString('hex')}`;
const REDIS_PASSWORD = `rd-${randomBytes(12).toString('hex')}`;

let issuer: TokenIssuer;
let upstreamTls: TlsFiles;
let listenTls: TlsFiles;
let secure: RunningRegistry;
let plain: RunningRegistry;
let redis: OwnRedis;

before(async () => {
  mkdirSync(join(work, 'upstream-tls'));
  mkdirSync(join(work, 'listen-tls'));
  [upstreamTls, listenTls] = await Promise.all([
    makeTls(join(work, 'upstream-tls')), // 2 days: the registry's certificate is close to its end
    makeTls(join(work, 'listen-tls'), { days: 400 }),
  ]);
  issuer = await startTokenIssuer({ users: { robot: UPSTREAM_PASSWORD } });
  [secure, plain, redis] = await Promise.all([
    startRegistry({ auth: { type: 'token', issuer }, tls: upstreamTls }),
    startRegistry(),
    startOwnRedis({ args: () => ['--requirepass', REDIS_PASSWORD, '--appendonly', 'yes', '--maxmemory-policy', 'allkeys-lru'] }),
  ]);
});

after(async () => {
  await Promise.all([secure?.stop(), plain?.stop(), redis?.stop(), issuer?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

const redisUrl = (): string => `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`;
const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
const CLOCK = 'this clock is (in step with|\\d+ s (ahead of|behind)) its Date header \\([^)]+\\)';
const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A deployment directory: trustgate.yaml, policy.yaml and (unless `keys` is undefined) keys/. */
function deployment(
  name: string,
  config: string,
  policy: string,
  keys: Record<string, string> | undefined,
): { dir: string; config: string } {
  const dir = join(work, name);
  mkdirSync(dir);
  if (keys !== undefined) {
    mkdirSync(join(dir, 'keys'));
    for (const [file, text] of Object.entries(keys)) writeFileSync(join(dir, 'keys', file), text);
  }
  writeFileSync(join(dir, 'policy.yaml'), policy);
  writeFileSync(join(dir, 'trustgate.yaml'), config);
  return { dir, config: join(dir, 'trustgate.yaml') };
}

/** The output, line by line, against one pattern per line; and no secret anywhere. */
function assertLines(stdout: string, patterns: readonly string[]): void {
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines.length, patterns.length, stdout);
  lines.forEach((line, i) => assert.match(line, new RegExp(`^${patterns[i]}$`), `line ${i + 1}`));
  for (const secret of [UPSTREAM_PASSWORD, REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD)])
    assert.ok(!stdout.includes(secret), 'a secret was printed');
  assert.doesNotMatch(stdout, /eyJ[A-Za-z0-9_-]{4,}\./, 'no token');
}

describe('trustgate doctor', () => {
  it('a healthy deployment › every check on its line, ok or warn, exit 0; the API policy in Redis is the one checked', async () => {
    const prefix = '{tg-doctor-a}:';
    const release = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rules = (name: string, trusted: string): string => `version: 1
rules:
  - name: ${name}
    images: ["${secure.host}/**"]
    signatures: { trust: [${trusted}] }
  - { name: plain, images: ["${plain.host}/**"], mode: off }
`;
    const { dir, config } = deployment(
      'healthy',
      `listen: { address: "127.0.0.1:0", tls: { certFile: "${listenTls.certFile}", keyFile: "${listenTls.keyFile}" } }
redis: { prefix: "${prefix}" }
keys: { dir: keys }
upstreams:
  - name: secure
    url: ${secure.url}
    repositories: ["${secure.host}/**"]
    auth: { type: basic, username: robot, password: { env: DOCTOR_UPSTREAM_PASSWORD } }
    allowAnonymousPulls: true
    tokenRealms: ["${issuer.url}"]
    tls: { caFile: "${upstreamTls.caFile}" }
  - name: plain
    url: ${plain.url}
    repositories: ["${plain.host}/**"]
`,
      rules('file-rule', 'ghost'), // the file trusts an unknown id, but the API policy is what runs
      {
        'release.pub': release,
        'release.yaml': `scopes: ["${secure.host}/**"]\n`,
        'corp-root.crt': readFileSync(upstreamTls.caFile, 'utf8'),
        'corp-root.yaml': 'scopes: ["**"]\n',
      },
    );
    const apiText = rules('api-rule', 'release');
    const apiHash = parsePolicy(apiText, 'api', (id) => void parseTrustedIdentity(id)).hash;
    const client = createRedis(redisUrl());
    try {
      await connectRedis(client);
      await redisPolicyVersions(client, prefix).put({ text: apiText, hash: apiHash, actor: 'alice', time: Date.now() });
    } finally {
      client.disconnect();
    }

    const run = await runCli(['doctor', '--config', config], {
      TRUSTGATE_REDIS_URL: redisUrl(),
      DOCTOR_UPSTREAM_PASSWORD: UPSTREAM_PASSWORD,
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stderr, '');
    const where = `standalone 127\\.0\\.0\\.1:${redis.port}`;
    assertLines(run.stdout, [
      `ok   config: ${esc(config)}`,
      `ok   setup: policy ${apiHash} from admin API policy v1 \\(2 rules\\) against keys\\.dir ${esc(join(dir, 'keys'))} and Redis ${where} prefix ${esc(prefix)} \\(2 entries\\): no problems`,
      `ok   redis: Redis \\d+\\.\\d+\\.\\d+ at ${where}`,
      'warn redis eviction: maxmemory-policy allkeys-lru can evict trust-store revocations \\(a revoked key could be trusted again\\): set noeviction or a volatile-\\* policy',
      'ok   redis persistence: appendonly yes',
      `ok   upstream secure: GET ${esc(secure.url)}/v2/ answered 200 \\(auth basic: a token from the token flow\\)`,
      `ok   upstream secure clock: ${CLOCK}`,
      `warn upstream secure tls: CN=127\\.0\\.0\\.1, valid until ${ISO} \\(in 1 day\\)`,
      `ok   upstream plain: GET ${esc(plain.url)}/v2/ answered 200 \\(auth anonymous: no credentials needed\\)`,
      `ok   upstream plain clock: ${CLOCK}`,
      `ok   listen tls: CN=127\\.0\\.0\\.1, valid until ${ISO} \\(in 399 days\\)`,
      `warn trust certificates: soonest ${ISO} \\(in 1 day\\): notation-root "corp-root" \\(CN=trustgate-test-ca\\), of 1 with certificates`,
    ]);
    assert.ok(
      issuer.calls.some((call) => call.user === 'robot' && call.status === 200),
      'the token flow ran with the configured credentials',
    );
  });

  it('a broken deployment › a fail line for each broken check, exit 1, still no secret', async () => {
    const prefix = '{tg-doctor-b}:';
    const admin = new Redis({ port: redis.port, password: REDIS_PASSWORD });
    try {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'appendonly', 'no');
    } finally {
      admin.disconnect();
    }
    const { dir, config } = deployment(
      'broken',
      `listen: { address: "127.0.0.1:0", plainHttp: true }
redis: { prefix: "${prefix}" }
keys: { dir: missing-keys }
upstreams:
  - name: secure
    url: ${secure.url}
    repositories: ["${secure.host}/**"]
    auth: { type: basic, username: robot, password: { env: DOCTOR_UPSTREAM_PASSWORD } }
    allowAnonymousPulls: true
    tokenRealms: ["${issuer.url}"]
    tls: { caFile: "${upstreamTls.caFile}" }
  - name: untrusted
    url: ${secure.url}
    registryHost: untrusted.test
    repositories: ["untrusted.test/**"]
`,
      `version: 1\nrules:\n  - name: team\n    images: ["${secure.host}/**"]\n    signatures: { trust: [release] }\n`,
      undefined,
    );
    const wrong = `${UPSTREAM_PASSWORD}-wrong`;
    const run = await runCli(['doctor', '--config', config], { TRUSTGATE_REDIS_URL: redisUrl(), DOCTOR_UPSTREAM_PASSWORD: wrong });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const keys = join(dir, 'missing-keys');
    assertLines(run.stdout, [
      `ok   config: ${esc(config)}`,
      `fail setup: keys\\.dir: the directory ${esc(keys)} does not exist \\(keys\\.dir "missing-keys" in ${esc(config)}; a relative keys\\.dir is relative to the config file's directory\\)`,
      `warn setup: rules\\[0\\]\\.signatures\\.trust\\[0\\]: "release" is not in the trust store \\(keys\\.dir ${esc(keys)} and Redis; it is empty\\): rule "team" counts nothing from it until it is added, in keys/ or through the admin API`,
      'warn setup: rules\\[0\\]\\.signatures\\.threshold: rule "team" needs 1 signer, but .*',
      'warn setup: upstreams\\[1\\]\\.repositories\\[0\\]: no policy rule covers "untrusted\\.test/\\*\\*" \\(upstream "untrusted"\\): .*',
      `ok   redis: Redis \\d+\\.\\d+\\.\\d+ at standalone 127\\.0\\.0\\.1:${redis.port}`,
      'ok   redis eviction: maxmemory-policy noeviction',
      `warn redis persistence: appendonly no and no save rules on 127\\.0\\.0\\.1:${redis.port}: a restart of Redis loses .*`,
      `fail upstream secure: GET ${esc(secure.url)}/v2/ failed: upstream "secure": the token endpoint answered 401 \\(are the configured credentials right\\?\\)`,
      `warn upstream secure tls: CN=127\\.0\\.0\\.1, valid until ${ISO} \\(in 1 day\\)`,
      `fail upstream untrusted: GET ${esc(secure.url)}/v2/ failed: .*`,
      `fail upstream untrusted tls: CN=127\\.0\\.0\\.1, valid until ${ISO} \\(in 1 day\\); not trusted: [A-Z_]+`,
      'warn listen tls: plain HTTP \\(listen\\.plainHttp\\): container runtimes refuse it unless the registry is marked insecure',
      'ok   trust certificates: no certificate in the trust store \\(0 keys; keys do not expire\\)',
    ]);
    assert.ok(!run.stdout.includes(wrong));
  });

  it('an upstream whose Date is 5 minutes off, and one that refuses anonymous access › warn on the clock, fail on the 401', async () => {
    // A scripted upstream: no real registry can be made to misstate its clock.
    const skewed = await startFakeUpstream();
    const refusing = await startFakeUpstream();
    try {
      const late = new Date(Date.now() - 5 * 60_000).toUTCString();
      skewed.on('/v2/', (_req, res) => void res.writeHead(200, { date: late, 'content-type': 'application/json' }).end('{}'));
      refusing.on('/v2/', (_req, res) => void res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end());
      const { config } = deployment(
        'clock',
        `listen: { plainHttp: true }
keys: { dir: keys }
upstreams:
  - { name: skewed, url: "${skewed.url}", repositories: ["${skewed.host}/**"] }
  - { name: refusing, url: "${refusing.url}", repositories: ["${refusing.host}/**"] }
`,
        `version: 1\nrules:\n  - { name: all, images: ["**"], mode: off }\n`,
        {},
      );
      const run = await runCli(['doctor', '--config', config], { TRUSTGATE_REDIS_URL: '' });
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assertLines(run.stdout, [
        `ok   config: ${esc(config)}`,
        'ok   setup: policy [0-9a-f]{16} from .* \\(1 rule\\) against keys\\.dir .* \\(0 entries\\): no problems',
        'ok   redis: not configured: each replica keeps its state in its own memory',
        `ok   upstream skewed: GET ${esc(skewed.url)}/v2/ answered 200 \\(auth anonymous: no credentials needed\\)`,
        `warn upstream skewed clock: this clock is (29[5-9]|30[0-5]) s ahead of its Date header \\(${esc(late)}\\): token expiry, certificate validity and scan ages are judged by this clock`,
        `fail upstream refusing: GET ${esc(refusing.url)}/v2/ answered 401: the configured credentials \\(auth anonymous\\) were not accepted`,
        `ok   upstream refusing clock: ${CLOCK}`,
        'warn listen tls: plain HTTP .*',
        'ok   trust certificates: no certificate in the trust store \\(0 keys; keys do not expire\\)',
      ]);
    } finally {
      await skewed.close();
      await refusing.close();
    }
  });

  it('a config that does not load › one fail line naming the field, exit 1', async () => {
    const { config } = deployment('unloadable', 'listen: { plainHttp: true }\nupstreams: []\n', 'version: 1\n', {});
    const run = await runCli(['doctor', '--config', config]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, `fail config: ${config}: upstreams: Too small: expected array to have >=1 items\n`);
  });
});
