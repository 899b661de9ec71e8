import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../kit/index.ts';
import { runCli } from '../tools/cli-run.ts';
import { startAdminProxy, type AdminProxy } from './admin-proxy.ts';

let tg: AdminProxy;
let admin: string;

before(async () => {
  tg = await startAdminProxy('cli-errors');
  admin = await tg.mint('root', 'admin');
});
after(() => tg?.close());

describe('admin commands › exit codes a script can rely on', () => {
  it('a token the proxy does not trust › exit 1, "unauthorized (401)", and the token is never printed', async () => {
    const stranger = (
      await runCli([
        'token',
        'mint',
        '--config',
        tg.configFile,
        '--data-dir',
        join(tg.work, 'other-key'),
        '--subject',
        'mallory',
        '--roles',
        'admin',
      ])
    ).stdout.trim();
    const otherAudience = join(tg.work, 'other-audience.yaml');
    writeFileSync(otherAudience, readFileSync(tg.configFile, 'utf8').replace('audience: "trustgate"', 'audience: "elsewhere"'));
    const wrongAudience = (
      await runCli(['token', 'mint', '--config', otherAudience, '--subject', 'mallory', '--roles', 'admin'])
    ).stdout.trim();
    const runs = await Promise.all([stranger, wrongAudience, 'not.a.jwt'].map((t) => tg.cli(['keys', 'list'], t)));
    for (const [i, run] of runs.entries()) {
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        /^trustgate keys list: unauthorized \(401\): GET \/admin\/v1\/keys: the token was refused \(ERR_\w+\)\. Check the token/,
      );
      assert.equal(run.stdout, '');
      assert.ok(!run.stderr.includes([stranger, wrongAudience][i] ?? 'not.a.jwt'));
    }
  });

  it('a valid token without the role › exit 1, "forbidden (403)" with the role needed', async () => {
    const auditor = await tg.mint('reader', 'auditor');
    const run = await tg.cli(['robots', 'list'], auditor);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^trustgate robots list: forbidden \(403\): GET \/admin\/v1\/robots: this needs the role "key-manager"\n$/);
  });

  it('the API is down › exit 3, "cannot reach"', async () => {
    const port = await freePort();
    const run = await runCli(['keys', 'list', '--api', `http://127.0.0.1:${port}`, '--token', admin]);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stderr, `trustgate keys list: cannot reach the admin API at http://127.0.0.1:${port}: ECONNREFUSED\n`);
  });

  it("--help › each admin command's usage on stdout, exit 0, with the common options and exit codes", async () => {
    const groups = ['token', 'keys', 'policy', 'explain', 'robots', 'breakglass', 'audit'];
    const runs = await Promise.all(
      [['--help'], ...groups.map((g) => [g, '--help']), ['keys', 'add', '--help']].map((args) => runCli(args)),
    );
    for (const g of groups) assert.match(runs[0]!.stdout, new RegExp(`^  ${g} `, 'm'));
    runs.slice(1).forEach((run, i) => {
      const g = groups[i] ?? 'keys';
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^usage: trustgate ${g} `));
      if (g !== 'token') assert.match(run.stdout, /--token-file <file>[\s\S]*3 the API cannot be reached/);
    });
  });

  it('usage errors › exit 2, nothing sent', async () => {
    const priv = join(tg.work, 'private.pem');
    writeFileSync(priv, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const cases: Array<[string[], RegExp]> = [
      [['keys'], /^trustgate keys: name a subcommand: list, get, add, revoke, rotate\nRun "trustgate keys --help"/],
      [['keys', 'frob'], /^trustgate keys: unknown keys subcommand "frob"/],
      [['keys', 'add', '--pem-file', priv, '--scope', 'a/**'], /^trustgate keys add: --id is required/],
      [['keys', 'add', '--id', 'k', '--pem-file', priv, '--scope', 'a/**'], /holds a private key; give its public half .*nothing was sent/],
      [['keys', 'add', '--id', 'k', '--pem-file', join(tg.work, 'missing.pub'), '--scope', 'a/**'], /--pem-file: cannot read .*ENOENT/],
      [['keys', 'revoke', 'k'], /^trustgate keys revoke: --reason is required/],
      [
        ['keys', 'rotate', 'k', '--new-id', 'k2', '--pem-file', join(tg.work, 'jwks.json'), '--keep-old-until', 'soon'],
        /--keep-old-until "soon": an RFC 3339 time/,
      ],
      [['keys', 'get'], /^trustgate keys get: name the key id/],
      [['keys', 'list', '--bogus'], /Unknown option '--bogus'/],
      [['policy', 'check'], /^trustgate policy check: name the policy file/],
      [['robots', 'add', 'ci'], /give at least one --repository/],
      [['breakglass', 'add', 'registry.example/app:v1', '--reason', 'x', '--expires', 'later'], /--expires "later"/],
      [['audit', '--limit', 'all'], /--limit: a whole number/],
      [
        ['token', 'mint', '--subject', 'a', '--roles', 'root', '--config', tg.configFile],
        /--roles: a comma-separated list of admin, key-manager, scanner, auditor, each but admin optionally "@<image pattern>" \(not "root"\)/,
      ],
      [
        ['token', 'mint', '--subject', 'a', '--roles', 'admin', '--ttl', '30d', '--config', tg.configFile],
        /--ttl "30d": a duration from 1m to 24h/,
      ],
      [
        [
          'token',
          'mint',
          '--subject',
          'a',
          '--roles',
          'admin',
          '--config',
          tg.configFile,
          '--data-dir',
          join(tg.work, '..', 'keys', 'admin'),
        ],
        /the bootstrap key never goes into the trust store/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, { TRUSTGATE_API: tg.proxy.url, TRUSTGATE_TOKEN: admin })));
    runs.forEach((run, i) => {
      assert.equal(run.code, 2, `${cases[i]![0].join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, cases[i]![1]);
      assert.equal(run.stdout, '');
    });
    const noApi = await runCli(['keys', 'list'], { TRUSTGATE_API: '', TRUSTGATE_TOKEN: admin });
    const noToken = await runCli(['keys', 'list', '--api', tg.proxy.url], { TRUSTGATE_TOKEN: '' });
    assert.deepEqual([noApi.code, noToken.code], [2, 2]);
    assert.match(noApi.stderr, /--api <url> \(or TRUSTGATE_API\) is required/);
    assert.match(noToken.stderr, /no token: give --token-file <file>, --token <jwt> or set TRUSTGATE_TOKEN/);
  });
});
