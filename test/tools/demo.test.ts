import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from './cli-run.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-demo-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('trustgate demo', () => {
  it('end to end › the signed pull allowed with its digest, the unsigned one denied with the reason; the key reused', async () => {
    const first = await runCli(['demo', '--workdir', work]);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    const out = first.stdout;
    assert.match(out, /demo key .*demo\.key \(made now/);
    const digest = /^signed 127\.0\.0\.1:\d+\/demo\/signed@(sha256:[0-9a-f]{64}) /m.exec(out)?.[1];
    assert.ok(digest, out);
    assert.match(
      out,
      /^\$ skopeo inspect --tls-verify=false docker:\/\/127\.0\.0\.1:\d+\/demo\/signed:v1\nallowed: (sha256:[0-9a-f]{64})$/m,
    );
    assert.equal(/^allowed: (\S+)$/m.exec(out)?.[1], digest);
    // The denied line exactly as skopeo prints it.
    assert.match(
      out,
      /^time="[^"]+" level=fatal msg=".*denied: trustgate denied 127\.0\.0\.1:\d+\/demo\/unsigned \(rule \\"demo\\"\): no signature found"$/m,
    );
    assert.match(out, /^demo passed/m);

    assert.equal(statSync(join(work, 'demo.key')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(work, 'keys')).sort(), ['demo.pub', 'demo.yaml']);
    assert.equal(existsSync(join(work, 'run')), false, "the run's registry and files are removed");

    const second = await runCli(['demo', '--workdir', work]);
    assert.equal(second.code, 0, `${second.stdout}\n${second.stderr}`);
    assert.match(second.stdout, /demo key .*demo\.key \(made by an earlier run\)/);
    assert.equal(/^allowed: (\S+)$/m.exec(second.stdout)?.[1], digest, 'the same image bytes, so the same digest');
  });

  it('without skopeo › says what is missing and how to install it, exit 1', async () => {
    const run = await runCli(['demo', '--workdir', join(work, 'nothing')], { PATH: '/nonexistent' });
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /needs the Debian packages docker-registry and skopeo; missing: skopeo\ninstall them with: sudo apt-get install -y docker-registry skopeo\n$/,
    );
    assert.equal(existsSync(join(work, 'nothing')), false);
  });
});
