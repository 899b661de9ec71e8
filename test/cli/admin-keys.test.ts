import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { BOOTSTRAP_KEY_FILE, BOOTSTRAP_PUB_FILE } from '../../src/admin/bootstrap-key.ts';
import { runCli } from '../tools/cli-run.ts';
import { startAdminProxy, type AdminProxy } from './admin-proxy.ts';

let tg: AdminProxy;
let token: string;
let pemFile: string;

before(async () => {
  tg = await startAdminProxy('cli-keys');
  pemFile = join(tg.work, 'release.pub');
  writeFileSync(pemFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
});
after(() => tg?.close());

describe('trustgate token mint › keys', () => {
  it("token mint › a JWT signed with the bootstrap key (0600, outside keys/), the config's issuer and audience, the roles, 1h", async () => {
    const run = await runCli(['token', 'mint', '--config', tg.configFile, '--subject', 'alice', '--roles', 'key-manager,auditor']);
    assert.equal(run.code, 0, run.stderr);
    token = run.stdout.trim();
    assert.equal(run.stdout, `${token}\n`, 'only the token on stdout');
    assert.ok(!run.stderr.includes(token), 'the token is not repeated on stderr');
    assert.match(run.stderr, /token for "alice" \(roles key-manager, auditor\), expires .*bootstrap key sha256:[0-9a-f]{64}/);
    assert.equal(statSync(join(tg.dataDir, BOOTSTRAP_KEY_FILE)).mode & 0o777, 0o600);
    assert.ok(statSync(join(tg.dataDir, BOOTSTRAP_PUB_FILE)).isFile());
    const claims = decodeJwt(token);
    assert.deepEqual(
      { sub: claims.sub, iss: claims.iss, aud: claims.aud, roles: claims['roles'] },
      { sub: 'alice', iss: 'https://issuer.test', aud: 'trustgate', roles: ['key-manager', 'auditor'] },
    );
    assert.equal(claims.exp! - claims.iat!, 3600);
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
  });

  it('token mint with a repository-scoped role › the scoped entry goes into the roles claim; admin cannot be scoped', async () => {
    const run = await runCli([
      'token',
      'mint',
      '--config',
      tg.configFile,
      '--subject',
      'sam',
      '--roles',
      'key-manager@registry.example/team-a/**',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(decodeJwt(run.stdout.trim())['roles'], ['key-manager@registry.example/team-a/**']);
    const scopedAdmin = await runCli([
      'token',
      'mint',
      '--config',
      tg.configFile,
      '--subject',
      'sam',
      '--roles',
      'admin@registry.example/**',
    ]);
    assert.equal(scopedAdmin.code, 2);
  });

  it('keys add with that token › 201; keys list --json shows the key', async () => {
    const add = await tg.cli(
      ['keys', 'add', '--id', 'ci-release', '--pem-file', pemFile, '--scope', 'registry.example/team/**', '--not-after', '2099-01-01'],
      token,
    );
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /^added "ci-release"\n/);
    assert.match(add.stdout, /not after: +2099-01-01T00:00:00\.000Z/);
    const list = await tg.cli(['keys', 'list', '--json'], token);
    assert.equal(list.code, 0, list.stderr);
    const key = (JSON.parse(list.stdout) as { keys: Record<string, unknown>[] }).keys.find((k) => k['id'] === 'ci-release');
    assert.deepEqual(
      { ...key, fingerprint: undefined },
      {
        id: 'ci-release',
        kind: 'key',
        scopes: ['registry.example/team/**'],
        purposes: ['sign'],
        notAfter: '2099-01-01T00:00:00.000Z',
        origin: 'api',
        status: 'active',
        validNow: true,
        fingerprint: undefined,
      },
    );
    const human = await tg.cli(['keys', 'list'], token);
    assert.match(human.stdout, /^ci-release +key +active +yes +sign +2099-01-01T00:00:00\.000Z +registry\.example\/team\/\*\*$/m);
  });

  it("keys revoke › revoked for good; a second revoke is refused (exit 1, the server's message)", async () => {
    const tokenFile = join(tg.work, 'token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const revoke = await tg.cli(['keys', 'revoke', 'ci-release', '--reason', 'laptop stolen', '--token-file', tokenFile]);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(revoke.stdout, /^revoked "ci-release" at \S+: laptop stolen$/m);
    const get = await tg.cli(['keys', 'get', 'ci-release', '--json'], token);
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual([JSON.parse(get.stdout).status, JSON.parse(get.stdout).reason], ['revoked', 'laptop stolen']);
    const again = await tg.cli(['keys', 'revoke', 'ci-release', '--reason', 'again'], token);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^trustgate keys revoke: the server refused \(409\): POST \/admin\/v1\/keys\/ci-release\/revoke: "ci-release" is revoked \(laptop stolen\); revocations are final\n$/,
    );
    assert.equal(again.stdout, '');
  });

  it('audit › the changes, with the actor (newest first); configured-JWKS tokens work beside bootstrap ones', async () => {
    const auditor = await tg.jwks.mint('carol', ['auditor']);
    const json = await tg.cli(['audit', '--actor', 'alice', '--json'], auditor);
    assert.equal(json.code, 0, json.stderr);
    const entries = (JSON.parse(json.stdout) as { entries: { actor: string; action: string; target: string; outcome: string }[] }).entries;
    assert.deepEqual(
      entries.map((e) => [e.actor, e.action, e.target, e.outcome]),
      [
        ['alice', 'key.revoke', 'ci-release', 'error'],
        ['alice', 'key.revoke', 'ci-release', 'ok'],
        ['alice', 'key.add', 'ci-release', 'ok'],
      ],
    );
    const human = await tg.cli(['audit', '--action', 'key.add', '--limit', '5'], token);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^TIME +ACTOR +ACTION +TARGET +OUTCOME\n\S+ +alice +key\.add +ci-release +ok\n$/);
  });
});
