import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAdminProxy, type AdminProxy } from './admin-proxy.ts';

let tg: AdminProxy;
let token: string;

before(async () => {
  tg = await startAdminProxy('cli-robots');
  token = await tg.mint('alice', 'key-manager');
});
after(() => tg?.close());

describe('trustgate robots', () => {
  it('add › the secret, once; list › never the secret; revoke › revoked; all audited', async () => {
    const add = await tg.cli(
      ['robots', 'add', 'ci-bot', '--repository', '127.0.0.1:9/team/**', '--repository', '127.0.0.1:9/base/*'],
      token,
    );
    assert.equal(add.code, 0, add.stderr);
    const secret = /^secret \(shown once; trustgate keeps only a hash\): (\S+)$/m.exec(add.stdout)?.[1];
    assert.ok(secret !== undefined && secret.length >= 20, add.stdout);
    assert.match(add.stdout, /^robot "ci-bot" may pull 127\.0\.0\.1:9\/team\/\*\*, 127\.0\.0\.1:9\/base\/\*$/m);
    const [list, json] = await Promise.all([tg.cli(['robots', 'list'], token), tg.cli(['robots', 'list', '--json'], token)]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ci-bot +\S+ +- +127\.0\.0\.1:9\/team\/\*\* 127\.0\.0\.1:9\/base\/\*$/m);
    assert.ok(!list.stdout.includes(secret) && !json.stdout.includes(secret));
    assert.deepEqual(
      JSON.parse(json.stdout).robots.map((r: { name: string }) => r.name),
      ['ci-bot'],
    );
    const again = await tg.cli(['robots', 'add', 'ci-bot', '--repository', '127.0.0.1:9/**'], token);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /the server refused \(409\): POST \/admin\/v1\/robots: a robot named "ci-bot" already exists/);
    const revoke = await tg.cli(['robots', 'revoke', 'ci-bot'], token);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(revoke.stdout, /^revoked robot "ci-bot" at \S+$/m);
    const audit = await tg.cli(['audit', '--actor', 'alice', '--action', 'robot.*', '--json'], await tg.jwks.mint('carol', ['auditor']));
    assert.equal(audit.code, 0, audit.stderr);
    assert.ok(!audit.stdout.includes(secret), 'the secret is not in the audit log');
    assert.deepEqual(
      JSON.parse(audit.stdout).entries.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`),
      ['robot.revoke ok', 'robot.add error', 'robot.add ok'],
    );
  });
});
