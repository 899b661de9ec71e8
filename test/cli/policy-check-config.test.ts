import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parsePolicy } from '../../src/policy/parse.ts';
import { connectRedis, createRedis } from '../../src/redis/connection.ts';
import { createRedisTrustStore } from '../../src/trust-store/redis-trust-store.ts';
import type { TrustEntry } from '../../src/trust/types.ts';
import { parseTrustedIdentity } from '../../src/verify/notation/index.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { runCli } from '../tools/cli-run.ts';

// `trustgate policy check --config <file> [<policy>]`: the policy checked as a start would check it
// (config/README.md, "Checks at start"), against the config's keys.dir and, with Redis, the trust
// store Redis holds (read, never written) with keys.dir merged in.

const work = mkdtempSync(join(tmpdir(), 'tg-policy-check-config-'));
after(() => rmSync(work, { recursive: true, force: true }));

const UPSTREAMS = `upstreams:
  - { name: team, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/team/**"] }
  - { name: hub, url: "https://registry-1.docker.io", registryHost: docker.io, repositories: ["docker.io/library/*"] }
`;
const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const TRUSTING = (ids: string, threshold = 1): string =>
  `version: 1\nrules:\n  - name: team\n    images: ["127.0.0.1:9/team/**"]\n    signatures: { trust: [${ids}], threshold: ${threshold} }\n`;
const hashOf = (text: string, file: string): string => parsePolicy(text, file, (id) => void parseTrustedIdentity(id)).hash;

/** A deployment directory: trustgate.yaml (with `more`), policy.yaml, and keys/ holding `keys` (each scoped to the team upstream). */
function deployment(
  name: string,
  policy: string,
  keys: readonly string[],
  more = 'keys: { dir: keys }\n',
): { dir: string; config: string } {
  const dir = join(work, name);
  mkdirSync(join(dir, 'keys'), { recursive: true });
  for (const id of keys) {
    writeFileSync(join(dir, 'keys', `${id}.pub`), pem());
    writeFileSync(join(dir, 'keys', `${id}.yaml`), 'scopes: ["127.0.0.1:9/team/**"]\n');
  }
  writeFileSync(join(dir, 'policy.yaml'), policy);
  const config = join(dir, 'trustgate.yaml');
  writeFileSync(config, `listen: { plainHttp: true }\n${more}${UPSTREAMS}`);
  return { dir, config };
}

/** No TRUSTGATE_REDIS_URL from the environment the tests run in. */
const NO_REDIS = { TRUSTGATE_REDIS_URL: '' };
const HUB = `warning: upstreams[1].repositories[0]: no policy rule covers "docker.io/library/*" (upstream "hub"): every image pulled through it is denied by the default rule (no_matching_rule)`;

describe('trustgate policy check --config (keys.dir only, no Redis)', () => {
  it('a trusted id keys.dir lacks › exit 1: the error with its field, the warnings, and "refused" in the summary', async () => {
    const { dir, config } = deployment('unknown-id', TRUSTING('release, ci', 2), ['release']);
    const policy = join(dir, 'policy.yaml');
    const run = await runCli(['policy', 'check', '--config', config, policy], NO_REDIS);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(
      run.stdout,
      [
        `error: rules[0].signatures.trust[1]: "ci" is not in the trust store (keys.dir ${join(dir, 'keys')}; it holds release), and without redis.url nothing adds it after start: add ci.pub (or .crt, .json) with ci.yaml to keys.dir, or correct the id`,
        'warning: rules[0].signatures.threshold: rule "team" needs 2 signers, but only 1 can sign its images now (release); until the trust store changes, every image it decides is denied',
        HUB,
        `${policy}: refused against ${config} (keys.dir ${join(dir, 'keys')}; 1 trust entry), 1 rule (team), hash ${hashOf(TRUSTING('release, ci', 2), policy)}; 1 error, 2 warnings: trustgate would refuse to start`,
        '',
      ].join('\n'),
    );
  });

  it('every id there › exit 0; the policy file defaults to the config’s policy.file; --json gives every problem', async () => {
    const { dir, config } = deployment('good', TRUSTING('release, ci'), ['release', 'ci']);
    const policy = join(dir, 'policy.yaml');
    const [human, json] = await Promise.all([
      runCli(['policy', 'check', '--config', config], NO_REDIS),
      runCli(['policy', 'check', '--json', '--config', config], NO_REDIS),
    ]);
    const hash = hashOf(TRUSTING('release, ci'), policy);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(
      human.stdout,
      `${HUB}\n${policy}: ok against ${config} (keys.dir ${join(dir, 'keys')}; 2 trust entries), 1 rule (team), hash ${hash}; 0 errors, 1 warning\n`,
    );
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      ok: true,
      file: policy,
      config,
      hash,
      rules: ['team'],
      problems: [
        {
          severity: 'warning',
          field: 'upstreams[1].repositories[0]',
          message: HUB.slice('warning: upstreams[1].repositories[0]: '.length),
        },
      ],
    });
  });

  it('a keys.dir written in the config that does not exist › exit 1, error at keys.dir with the resolved path', async () => {
    const { dir, config } = deployment('no-keys-dir', TRUSTING('release'), [], 'keys: { dir: ../elsewhere/keys }\n');
    const run = await runCli(['policy', 'check', '--config', config], NO_REDIS);
    assert.equal(run.code, 1);
    const keys = join(dir, '..', 'elsewhere', 'keys');
    assert.equal(
      run.stdout.split('\n')[0],
      `error: keys.dir: the directory ${keys} does not exist (keys.dir "../elsewhere/keys" in ${config}; a relative keys.dir is relative to the config file's directory)`,
    );
    assert.match(run.stdout, /^error: rules\[0\]\.signatures\.trust\[0\]: "release" is not in the trust store/m);
  });

  it('keys.dir not set and the default missing › a warning naming the resolved default, exit 0', async () => {
    const { dir, config } = deployment(
      'default-keys-dir',
      'version: 1\nrules:\n  - { name: team, images: ["127.0.0.1:9/team/**", "docker.io/**"], mode: off }\n',
      [],
      '',
    );
    const run = await runCli(['policy', 'check', '--config', config], NO_REDIS);
    assert.equal(run.code, 0, run.stdout);
    assert.equal(
      run.stdout.split('\n')[0],
      `warning: keys.dir: not set, so the default applies, relative to the config file ${config}: ${join(dir, '..', 'keys')}, which does not exist; set keys.dir to the trust store's directory (an empty one if every entry comes through the admin API)`,
    );
  });

  it('a policy that does not compile › as without --config: "file: field: problem" on stderr, exit 1', async () => {
    const { dir, config } = deployment(
      'bad-policy',
      'version: 1\nrules:\n  - { name: team, images: ["127.0.0.1:9/**"], mode: sometimes }\n',
      [],
    );
    const run = await runCli(['policy', 'check', '--config', config], NO_REDIS);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, new RegExp(`^${join(dir, 'policy.yaml')}: rules\\[0\\]\\.mode: `));
  });
});

describe('trustgate policy check --config with Redis (TRUSTGATE_REDIS_URL, a test prefix)', () => {
  it('an id added through the admin API counts; one revoked there, or missing, is a warning (Redis can still get it); Redis is not written', async () => {
    const prefix = testPrefix('policy-check-config');
    const redis = createRedis(REDIS_URL);
    const subscriber = createRedis(REDIS_URL);
    try {
      await Promise.all([connectRedis(redis), connectRedis(subscriber)]);
      const store = await createRedisTrustStore({ redis, subscriber, prefix, pollIntervalMs: 0 });
      // What POST /admin/v1/keys and POST /admin/v1/keys/<id>/revoke leave in Redis.
      const added: TrustEntry = { id: 'admin-key', kind: 'key', pem: pem(), scopes: ['127.0.0.1:9/**'], purposes: ['sign'], origin: 'api' };
      await store.upsert([added]);
      await store.revoke('old', 'rotated out', Date.parse('2026-01-01T00:00:00Z'));
      await store.close();

      // keys/ still declares "old": the revocation in Redis wins, as at a start.
      const { dir, config } = deployment(
        'redis',
        TRUSTING('admin-key, old, later'),
        ['old'],
        `keys: { dir: keys }\nredis: { prefix: "${prefix}" }\n`,
      );
      const before = await dump(prefix);
      const run = await runCli(['policy', 'check', '--config', config], { TRUSTGATE_REDIS_URL: REDIS_URL });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const lines = run.stdout.trimEnd().split('\n');
      assert.deepEqual(lines.slice(0, -1), [
        'warning: rules[0].signatures.trust[1]: "old" is revoked (at 2026-01-01T00:00:00.000Z: rotated out); revocations are final, so rule "team" never counts it again',
        `warning: rules[0].signatures.trust[2]: "later" is not in the trust store (keys.dir ${join(dir, 'keys')} and Redis; it holds admin-key): rule "team" counts nothing from it until it is added, in keys/ or through the admin API`,
        HUB,
      ]);
      assert.equal(
        lines.at(-1),
        `${join(dir, 'policy.yaml')}: ok against ${config} (keys.dir ${join(dir, 'keys')} and Redis standalone 127.0.0.1:6379 prefix ${prefix}; 1 trust entry), 1 rule (team), hash ${hashOf(TRUSTING('admin-key, old, later'), join(dir, 'policy.yaml'))}; 0 errors, 3 warnings`,
      );
      assert.deepEqual(await dump(prefix), before, 'nothing written: no keys/ merge, no version bump');
    } finally {
      redis.disconnect();
      subscriber.disconnect();
      await deleteRedisKeys(prefix);
    }
  });

  it('Redis that cannot be reached › exit 1, an error at redis.url naming the host, never the password', async () => {
    const { config } = deployment('redis-down', TRUSTING('release'), ['release'], 'keys: { dir: keys }\n');
    const run = await runCli(['policy', 'check', '--config', config], { TRUSTGATE_REDIS_URL: 'redis://:hunter2-redis@127.0.0.1:1' });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^error: redis\.url: cannot read the trust store from Redis \(standalone 127\.0\.0\.1:1\): .*ECONNREFUSED/m);
    assert.doesNotMatch(run.stdout + run.stderr, /hunter2/);
  });
});

/** Every key under the prefix with its value, to show a command wrote nothing. */
async function dump(prefix: string): Promise<Record<string, unknown>> {
  const redis = new Redis(REDIS_URL);
  try {
    const out: Record<string, unknown> = {};
    for (const key of (await redis.keys(`${prefix}*`)).sort()) {
      const type = await redis.type(key);
      out[key] = type === 'hash' ? await redis.hgetall(key) : type === 'string' ? await redis.get(key) : type;
    }
    return out;
  } finally {
    redis.disconnect();
  }
}
