import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import {
  call,
  capturingLogger,
  startLoggedProxy,
  tokenFor,
  writeSigningKey,
  type CallResult,
  type CapturingLogger,
} from '../support/pull-auth.ts';
import type { RunningProxy } from '../support/proxy-server.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

// The failed-login limit holds however many logins arrive at once: the attempt is taken before
// the (slow, scrypt) password check, atomically with the limit test. Each password that is checked
// and wrong answers 401 and logs `login_failed`; a refused one answers 429 without a check.
// Real HTTP through trustgate wired as main.ts wires it; with Redis (a fresh prefix) and without.

const dir = mkdtempSync(join(tmpdir(), 'tg-login-race-'));
const keyFile = writeSigningKey(dir);
const prefix = testPrefix('login-race');
let admin: AdminTokens;

after(async () => {
  await deleteRedisKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});
before(async () => {
  admin = await adminTokens(dir);
});

const yaml = (redis: boolean): string => `
listen: { plainHttp: true }
${redis ? `redis: { url: "${REDIS_URL}" }` : ''}
upstreams:
  - { name: local, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"], retries: 0 }
pullAuth:
  signingKey: { file: "${keyFile}" }
  rateLimit: { maxFailures: 10, windowMs: 60000 }
${admin.configYaml}`;

const failedLogins = (logs: CapturingLogger, username: string): number =>
  logs.lines.filter((line) => line.includes('"event":"login_failed"') && line.includes(`"username":"${username}"`)).length;
const retryAfter = (res: CallResult): number => Number(res.headers['retry-after']);

for (const redis of [false, true]) {
  describe(`failed-login limit under concurrency (${redis ? 'redis' : 'memory'})`, () => {
    const logs = capturingLogger();
    let proxy: RunningProxy;
    const secrets = new Map<string, string>();
    const base = redis ? 100 : 150; // loopback addresses of this suite only
    before(async () => {
      proxy = await startLoggedProxy(yaml(redis), logs, redis ? { redisPrefix: prefix } : {});
      for (const name of ['ci', 'burst']) {
        const res = await call(`${proxy.url}/admin/v1/robots`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await admin.mint('alice', ['key-manager'])}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name, repositories: ['127.0.0.1:9/**'] }),
        });
        assert.equal(res.status, 201, res.text);
        secrets.set(name, res.json<{ secret: string }>().secret);
      }
    });
    after(async () => proxy?.close());

    it('100 parallel wrong passwords for one robot: exactly 10 are checked, the other 90 get 429', async () => {
      const from = `127.0.0.${base}`;
      const answers = await Promise.all(Array.from({ length: 100 }, () => tokenFor(proxy.url, 'burst', 'wrong-guess', [], from)));
      const statuses = answers.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 401).length, 10, `401s: ${statuses.join(' ')}`);
      assert.equal(statuses.filter((s) => s === 429).length, 90);
      assert.equal(failedLogins(logs, 'burst'), 10, 'passwords checked');
      for (const res of answers.filter((r) => r.status === 429)) {
        assert.equal(res.json<{ errors: Array<{ code: string }> }>().errors[0]?.code, 'TOOMANYREQUESTS');
        assert.ok(retryAfter(res) >= 1 && retryAfter(res) <= 60, String(res.headers['retry-after']));
      }
      // The identity is now at its limit: even the right secret, from another address, is not checked.
      const right = await tokenFor(proxy.url, 'burst', secrets.get('burst')!, [], `127.0.0.${base + 1}`);
      assert.equal(right.status, 429);
      assert.ok(retryAfter(right) > 50, `the whole window once the failures are counted: ${retryAfter(right)}`);
      assert.equal(failedLogins(logs, 'burst'), 10);
    });

    it('a right password after a few failures works, and successes are not counted as failures', async () => {
      const from = `127.0.0.${base + 2}`;
      const secret = secrets.get('ci')!;
      for (let i = 0; i < 3; i += 1) assert.equal((await tokenFor(proxy.url, 'ci', 'wrong', [], from)).status, 401);
      for (let i = 0; i < 5; i += 1) assert.equal((await tokenFor(proxy.url, 'ci', secret, [], from)).status, 200, `success ${i + 1}`);
      for (let i = 0; i < 7; i += 1) assert.equal((await tokenFor(proxy.url, 'ci', 'wrong', [], from)).status, 401, `failure ${4 + i}`);
      assert.equal((await tokenFor(proxy.url, 'ci', secret, [], from)).status, 429, 'the 10 failures are the limit');
      assert.equal(failedLogins(logs, 'ci'), 10);
    });
  });
}
