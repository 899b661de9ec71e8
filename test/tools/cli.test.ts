import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadKeysDir } from '../../src/trust-store/keys-dir.ts';
import { runCli } from './cli-run.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('trustgate usage', () => {
  it("--help and each command's --help › usage on stdout, exit 0", async () => {
    const runs = await Promise.all(
      [['--help'], ['serve', '--help'], ['sign', '--help'], ['keygen', '--help'], ['demo', '--help']].map((args) => runCli(args)),
    );
    assert.equal(runs[0]!.code, 0);
    assert.match(runs[0]!.stdout, /usage: trustgate \[serve\]/);
    for (const command of ['serve', 'sign', 'demo', 'keygen']) assert.match(runs[0]!.stdout, new RegExp(`^  ${command} `, 'm'));
    ['serve', 'sign', 'keygen', 'demo'].forEach((command, i) => {
      assert.equal(runs[i + 1]!.code, 0, runs[i + 1]!.stderr);
      assert.match(runs[i + 1]!.stdout, new RegExp(`^usage: trustgate ${command} `));
    });
  });

  it('usage errors › exit 2 with a message naming the problem', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['bogus'], /^trustgate: unknown command "bogus"\nRun "trustgate --help" for usage\.\n$/],
      [['sign'], /^trustgate sign: --key is required/],
      [['sign', '--key', 'k.pem', '--registry', 'http://127.0.0.1:1'], /name exactly one image/],
      [['sign', '--key', 'k.pem', '--registry', 'http://127.0.0.1:1', 'team/app'], /name a tag or a digest/],
      [['sign', '--key', 'k.pem', '--registry', 'http://127.0.0.1:1', 'Team/App:v1'], /"Team\/App" is not a repository name/],
      [['sign', '--key', 'k.pem', '--registry', 'http://127.0.0.1:1', 'team/app@sha256:abc'], /is not a sha256 or sha512 digest/],
      [
        ['sign', '--key', 'k.pem', '--registry', 'http://127.0.0.1:1', '--username', 'u', 'team/app:v1'],
        /--username and --password-env go together/,
      ],
      [
        ['sign', '--key', 'k.pem', '--registry', 'http://127.0.0.1:1', '--username', 'u', '--password-env', 'TG_TEST_UNSET', 'team/app:v1'],
        /TG_TEST_UNSET is not set/,
      ],
      [['sign', '--kee', 'k.pem'], /Unknown option '--kee'/],
      [['keygen', '--out', join(work, 'k0'), '--id', 'dev'], /at least one --scope/],
      [['keygen', '--out', join(work, 'k0'), '--id', 'Dev', '--scope', 'a/**'], /--id "Dev"/],
      [['keygen', '--out', join(work, 'k0'), '--id', 'dev', '--scope', 'a b'], /invalid image pattern/],
      [['demo', 'now'], /^trustgate demo: unexpected argument "now"/],
      [['serve', 'extra'], /unexpected argument "extra"/],
      [['--bogus'], /Unknown option '--bogus'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, i) => {
      assert.equal(run.code, 2, `${cases[i]![0].join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, cases[i]![1]);
      assert.equal(run.stdout, '');
    });
    assert.equal(existsSync(join(work, 'k0')), false, 'nothing written on a usage error');
  });

  it("serve with a bad config › the proxy's own exit 2 naming the field", async () => {
    const file = join(work, 'bad.yaml');
    writeFileSync(
      file,
      'listen: { plainHttp: true }\nupstreams:\n  - name: up\n    url: http://127.0.0.1:1\n    repositories: ["elsewhere/**"]\n',
    );
    const run = await runCli(['serve', '--config', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /invalid configuration: .*bad\.yaml: upstreams\[0\]\.repositories\[0\]/);
  });
});

describe('trustgate keygen', () => {
  it('--out equal to --keys › refused (exit 2): a private key never sits in a trust store', async () => {
    const dir = join(work, 'same');
    for (const keys of [dir, `${dir}/../same/`]) {
      const run = await runCli(['keygen', '--out', dir, '--keys', keys, '--id', 'dev', '--scope', '127.0.0.1:5000/**']);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--out and --keys are the same directory .*public material only/);
    }
    assert.equal(existsSync(join(dir, 'dev.key')), false);
  });

  it('writes a 0600 PKCS#8 key, and a keys/ entry trustgate loads; never overwrites', async () => {
    const out = join(work, 'private');
    const keys = join(work, 'trust');
    const args = [
      'keygen',
      '--out',
      out,
      '--keys',
      keys,
      '--id',
      'dev',
      '--scope',
      '127.0.0.1:5000/team/**',
      '--scope',
      '127.0.0.1:5000/ops/*',
    ];
    const run = await runCli(args);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /private key: .*dev\.key \(mode 0600/);
    assert.equal(statSync(join(out, 'dev.key')).mode & 0o777, 0o600);
    const [entry] = loadKeysDir(keys);
    assert.equal(entry?.id, 'dev');
    assert.deepEqual(entry?.scopes, ['127.0.0.1:5000/team/**', '127.0.0.1:5000/ops/*']);
    assert.deepEqual(entry?.purposes, ['sign']);
    const again = await runCli(args);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /dev\.key already exists; not overwriting it/);
  });

  it('without --keys › the public half goes to <out>/keys', async () => {
    const out = join(work, 'default-keys');
    const run = await runCli(['keygen', '--out', out, '--id', 'dev', '--scope', '**']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(loadKeysDir(join(out, 'keys'))[0]?.id, 'dev');
  });
});
