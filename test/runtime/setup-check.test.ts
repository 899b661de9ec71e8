import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, loadConfigText } from '../../src/config/index.ts';
import { SetupError } from '../../src/policy/setup-check.ts';
import { buildRuntime } from '../../src/runtime/runtime.ts';
import { records, spawnProxy } from '../support/child-proxy.ts';
import { recordingLogger } from '../support/helpers.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { runtimeFiles, type KeyFile } from '../support/runtime-files.ts';

// The checks at start in the real runtime and the real process (config/README.md, "Checks at
// start"): errors refuse the start with every problem named by its field, warnings are logged one
// record each, and a reloaded policy with an error is refused like a policy that does not compile.

const work = mkdtempSync(join(tmpdir(), 'tg-setup-check-'));
after(() => rmSync(work, { recursive: true, force: true }));

const UPSTREAM = 'upstreams:\n  - { name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }\n';
const TRUSTING = (ids: string): string =>
  `version: 1\nrules:\n  - name: team\n    images: ["127.0.0.1:9/team/**"]\n    signatures: { trust: [${ids}], threshold: 1 }\n`;
const keyFile = (id: string): KeyFile => ({
  id,
  pem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  scopes: ['127.0.0.1:9/**'],
});

/** A config file in its own directory, with policy.yaml beside it and keys.dir as given (relative to it). */
function configDir(name: string, keysLine: string, policy: string): string {
  const base = mkdtempSync(join(work, `${name}-`));
  writeFileSync(join(base, 'policy.yaml'), policy);
  const file = join(base, 'trustgate.yaml');
  writeFileSync(file, `listen: { address: "127.0.0.1:0", plainHttp: true }\n${keysLine}${UPSTREAM}`);
  return file;
}

describe('checks at start in the runtime', () => {
  it('a keys.dir written in the config that does not exist, and a trusted id the trust store lacks › refused, every problem with its field, each logged', async () => {
    const file = configDir('refused', 'keys: { dir: keyz }\n', TRUSTING('release, ci'));
    const config = loadConfig(file);
    const logs = recordingLogger();
    await assert.rejects(buildRuntime(config, logs), (error: unknown) => {
      assert.ok(error instanceof SetupError, String(error));
      assert.deepEqual(
        error.problems.map((p) => `${p.severity} ${p.field}`),
        [
          'error keys.dir',
          'error rules[0].signatures.trust[0]',
          'error rules[0].signatures.trust[1]',
          'warning rules[0].signatures.threshold',
        ],
      );
      assert.match(error.problems[0]!.message, new RegExp(`^the directory ${join(file, '..', 'keyz')} does not exist`));
      assert.match(error.message, /^3 problems: keys\.dir: .*rules\[0\]\.signatures\.trust\[1\]: "ci" is not in the trust store/);
      return true;
    });
    const logged = logs.records.filter((r) => (r.record as { event?: string }).event === 'setup_problem');
    assert.deepEqual(
      logged.map((r) => [r.level, (r.record as { field: string }).field, (r.record as { when: string }).when]),
      [
        ['error', 'keys.dir', 'start'],
        ['error', 'rules[0].signatures.trust[0]', 'start'],
        ['error', 'rules[0].signatures.trust[1]', 'start'],
        ['warn', 'rules[0].signatures.threshold', 'start'],
      ],
    );
    assert.match(logged[1]!.message ?? '', /^rules\[0\]\.signatures\.trust\[0\]: "release" is not in the trust store/);
  });

  it('warnings only (an upstream allowlist no rule covers) › starts, each logged at warn with its field', async () => {
    const files = runtimeFiles('version: 1\nrules:\n  - { name: team, images: ["127.0.0.1:9/team/**"], mode: off }\n');
    try {
      const config = loadConfigText(
        `listen: { plainHttp: true }\nupstreams:\n  - { name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/team/**", "127.0.0.1:9/other/**"] }\n${files.configLines}`,
        join(files.dir, 'trustgate.yaml'),
        {},
      );
      const logs = recordingLogger();
      const runtime = await buildRuntime(config, logs);
      try {
        const logged = logs.records.filter((r) => (r.record as { event?: string }).event === 'setup_problem');
        assert.deepEqual(
          logged.map((r) => [r.level, (r.record as { field: string }).field]),
          [['warn', 'upstreams[0].repositories[1]']],
        );
        assert.deepEqual(runtime.setupProblems(), [
          {
            severity: 'warning',
            field: 'upstreams[0].repositories[1]',
            message:
              'no policy rule covers "127.0.0.1:9/other/**" (upstream "up"): every image pulled through it is denied by the default rule (no_matching_rule)',
          },
        ]);
      } finally {
        await runtime.close();
      }
    } finally {
      files.remove();
    }
  });

  it('with Redis, a trusted id not there yet › a warning: it starts, and counts once the admin API adds it', async () => {
    const prefix = testPrefix('setup-check');
    const files = runtimeFiles(TRUSTING('release'));
    try {
      const config = loadConfigText(
        `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}" }\n${UPSTREAM}${files.configLines}`,
        'test.yaml',
        {},
      );
      const logs = recordingLogger();
      const runtime = await buildRuntime(config, logs, { redisPrefix: prefix });
      try {
        const logged = logs.records.filter((r) => (r.record as { event?: string }).event === 'setup_problem');
        assert.deepEqual(
          logged.map((r) => [r.level, (r.record as { field: string }).field]),
          [
            ['warn', 'rules[0].signatures.trust[0]'],
            ['warn', 'rules[0].signatures.threshold'],
          ],
        );
        assert.match(logged[0]!.message ?? '', /"release" is not in the trust store \(keys\.dir .* and Redis; it is empty\)/);
        await runtime.trust.upsert([{ ...keyFile('release'), kind: 'key', purposes: ['sign'], origin: 'api' }]);
        assert.deepEqual(runtime.setupProblems(), []);
      } finally {
        await runtime.close();
      }
    } finally {
      files.remove();
      await deleteRedisKeys(prefix);
    }
  });

  it('a reloaded policy trusting an id keys/ lacks › refused like a bad file (logged, counted, the old policy stays); with its key in keys/ first, taken', async () => {
    const files = runtimeFiles(TRUSTING('release'), [keyFile('release')]);
    try {
      const config = loadConfigText(`listen: { plainHttp: true }\n${UPSTREAM}${files.configLines}`, 'test.yaml', {});
      const logs = recordingLogger();
      const runtime = await buildRuntime(config, logs);
      try {
        const before = runtime.policy.current().hash;
        files.writePolicy(TRUSTING('release, ci'));
        assert.equal(runtime.policy.reload(), false);
        assert.equal(runtime.policy.current().hash, before);
        const failed = logs.records.find((r) => (r.record as { event?: string }).event === 'policy_reload_failed');
        assert.match(
          String((failed?.record as { problem?: unknown }).problem),
          /rules\[0\]\.signatures\.trust\[1\]: "ci" is not in the trust store/,
        );
        const logged = logs.records.filter((r) => (r.record as { event?: string }).event === 'setup_problem');
        assert.deepEqual(
          logged.map((r) => [r.level, (r.record as { field: string }).field, (r.record as { when: string }).when]),
          [['error', 'rules[0].signatures.trust[1]', 'reload']],
        );
        const metrics = await runtime.deps.metrics.registry.metrics();
        assert.match(metrics, /trustgate_reload_failures_total\{kind="policy"\} 1/);

        files.writeKey(keyFile('ci'));
        await runtime.reloadKeys();
        assert.equal(runtime.policy.reload(), true);
        assert.notEqual(runtime.policy.current().hash, before);
      } finally {
        await runtime.close();
      }
    } finally {
      files.remove();
    }
  });
});

/** `node src/main.ts --config <file>` until it exits. */
function runMain(config: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('checks at start in the process', () => {
  it('a missing keys.dir and an unknown trusted id › exit 2, every problem on stderr with its field', async () => {
    const file = configDir('process', 'keys: { dir: keyz }\n', TRUSTING('release'));
    const run = await runMain(file);
    assert.equal(run.code, 2, run.stderr);
    const keyz = join(file, '..', 'keyz');
    assert.equal(
      run.stderr,
      'trustgate: refusing to start: 2 errors in the checks at start (config/README.md, "Checks at start"):\n' +
        `  error: keys.dir: the directory ${keyz} does not exist (keys.dir "keyz" in ${file}; a relative keys.dir is relative to the config file's directory)\n` +
        `  error: rules[0].signatures.trust[0]: "release" is not in the trust store (keys.dir ${keyz}; it is empty), and without redis.url nothing adds it after start: add release.pub (or .crt, .json) with release.yaml to keys.dir, or correct the id\n` +
        '  warning: rules[0].signatures.threshold: rule "team" needs 1 signer, but none of the signers it names can sign its images now (the other problems on this rule say why); until the trust store changes, every image it decides is denied\n',
    );
    assert.deepEqual(
      records(run.stdout, 'setup_problem').map((r) => [r['level'], r['field']]),
      [
        [50, 'keys.dir'],
        [50, 'rules[0].signatures.trust[0]'],
        [40, 'rules[0].signatures.threshold'],
      ],
    );
    assert.equal(records(run.stdout, 'started').length, 0);
  });

  it('on SIGHUP › keys/ is read before the policy, so a policy trusting a key added with it is taken; one trusting an unknown id is refused', async () => {
    const files = runtimeFiles(TRUSTING('release'), [keyFile('release')]);
    const tg = spawnProxy(`listen: { address: "127.0.0.1:0", plainHttp: true }\n${UPSTREAM}`, {}, files);
    try {
      await tg.ready();
      files.writeKey(keyFile('ci'));
      files.writePolicy(TRUSTING('release, ci'));
      tg.child.kill('SIGHUP');
      await tg.waitFor(/"event":"policy_reloaded"/);
      files.writePolicy(TRUSTING('release, ci, ops'));
      tg.child.kill('SIGHUP');
      await tg.waitFor(/"event":"policy_reload_failed"/);
      const [failed] = records(tg.out(), 'policy_reload_failed');
      assert.match(String(failed?.['problem']), /rules\[0\]\.signatures\.trust\[2\]: "ops" is not in the trust store/);
      const refused = records(tg.out(), 'setup_problem').filter((r) => r['when'] === 'reload' && r['severity'] === 'error');
      assert.deepEqual(
        refused.map((r) => r['field']),
        ['rules[0].signatures.trust[2]'],
      );
      assert.equal(tg.child.exitCode, null, 'still running, on the previous policy');
    } finally {
      await tg.kill();
      files.remove();
    }
  });
});
