import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const work = mkdtempSync(join(tmpdir(), 'tg-main-'));
after(() => rmSync(work, { recursive: true, force: true }));

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('the trustgate process', () => {
  it('with a bad config › exits 2 naming the file and the field', async () => {
    const file = join(work, 'bad.yaml');
    writeFileSync(
      file,
      'listen: { plainHttp: true }\nupstreams:\n  - name: up\n    url: http://127.0.0.1:1\n    repositories: ["elsewhere/**"]\n',
    );
    const run = start(['--config', file]);
    assert.equal(await run.exited, 2);
    assert.match(
      run.err(),
      new RegExp(`invalid configuration: ${file}: upstreams\\[0\\]\\.repositories\\[0\\]: "elsewhere/\\*\\*" must start with`),
    );
  });

  it('on SIGHUP › reloads a changed policy, and keeps it when the new file is bad', async () => {
    const config = join(work, 'hup.yaml');
    const policy = join(work, 'hup-policy.yaml');
    writeFileSync(policy, 'version: 1\nrules:\n  - { name: before, images: ["127.0.0.1:1/**"] }\n');
    mkdirSync(join(work, 'hup-keys')); // an empty trust store: a keys.dir that does not exist refuses the start
    writeFileSync(
      config,
      `listen: { address: "127.0.0.1:0", plainHttp: true }\npolicy: { file: ${policy} }\nkeys: { dir: ${join(work, 'hup-keys')} }\nupstreams:\n  - { name: up, url: "http://127.0.0.1:1", repositories: ["127.0.0.1:1/**"] }\n`,
    );
    const run = start(['--config', config]);
    const waitFor = async (pattern: RegExp): Promise<void> => {
      for (let i = 0; i < 100 && !pattern.test(run.out()); i += 1) await new Promise((r) => setTimeout(r, 100));
      assert.match(run.out(), pattern);
    };
    try {
      await waitFor(/"event":"started"/);
      writeFileSync(policy, 'version: 1\nrules:\n  - { name: after, images: ["127.0.0.1:1/**"] }\n');
      run.child.kill('SIGHUP');
      await waitFor(/"event":"policy_reloaded"/);
      writeFileSync(policy, 'version: 1\nrules:\n  - { name: broken, images: ["127.0.0.1:1/**"], mode: sometimes }\n');
      run.child.kill('SIGHUP');
      await waitFor(/"event":"policy_reload_failed".*rules\[0\]\.mode/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('on the shipped defaults › serves /v2/ and stops cleanly on SIGTERM', async () => {
    const run = start([], { TRUSTGATE_LISTEN: '127.0.0.1:0' });
    let url: string | undefined;
    for (let i = 0; i < 100 && url === undefined; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(run.out())?.[1];
    }
    assert.ok(url, `no start line in ${run.out()} ${run.err()}`);
    const res = await fetch(`${url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  });
});
