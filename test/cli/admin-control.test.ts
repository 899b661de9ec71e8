import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, push, startRegistry, type RunningRegistry } from '../kit/index.ts';
import { startAdminProxy, type AdminProxy } from './admin-proxy.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-cli-control-'));
let registry: RunningRegistry;
let tg: AdminProxy;
let token: string;
let image: string;

const policy = (mode: string): string => `version: 1\nrules:\n  - { name: prod, images: ["${registry.host}/prod/**"], mode: ${mode} }\n`;
const file = (name: string, text: string): string => {
  writeFileSync(join(work, name), text);
  return join(work, name);
};

before(async () => {
  registry = await startRegistry();
  const built = await buildImage(join(work, 'img'), { seed: 'cli-control' });
  assert.equal((await push(built.layoutDir, `docker://${registry.host}/prod/app:v1`)).code, 0);
  image = `${registry.host}/prod/app:v1`;
  tg = await startAdminProxy('cli-control', {
    upstreams: `upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }\n`,
    policy: policy('enforce'),
  });
  token = await tg.mint('alice', 'key-manager,auditor');
});
after(async () => {
  await tg?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('trustgate explain › policy › breakglass', () => {
  it('explain › why an unsigned image is denied, and a source outside the allowlist, without pulling', async () => {
    const [unsigned, elsewhere] = await Promise.all([
      tg.cli(['explain', image], token),
      tg.cli(['explain', 'elsewhere.example/app:v1', '--json'], token),
    ]);
    assert.equal(unsigned.code, 0, unsigned.stderr);
    assert.match(
      unsigned.stdout,
      new RegExp(
        `^${image.replace(/[.]/g, '\\.')}  sha256:[0-9a-f]{64}  \\(application/vnd\\.oci\\.image\\.manifest\\.v1\\+json\\)\ndenied by rule "prod"\n  unsigned: `,
      ),
    );
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.deepEqual([JSON.parse(elsewhere.stdout).outcome, JSON.parse(elsewhere.stdout).rule], ['deny', 'source-allowlist']);
  });

  it('policy validate › problems as "file: field: problem" (exit 1); apply › in force; get › its text; rollback', async () => {
    const bad = file('bad.yaml', policy('loud'));
    const refused = await tg.cli(['policy', 'validate', bad], token);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^${bad}: rules\\[0\\]\\.mode: `));
    const applyBad = await tg.cli(['policy', 'apply', bad], token);
    assert.equal(applyBad.code, 1);
    assert.match(applyBad.stderr, new RegExp(`^${bad}: rules\\[0\\]\\.mode: `));
    const warn = file('warn.yaml', policy('warn'));
    const valid = await tg.cli(['policy', 'validate', warn], token);
    assert.match(valid.stdout, new RegExp(`^${warn}: valid on the server, 1 rule, hash [0-9a-f]{16}\n$`));
    const applied = await tg.cli(['policy', 'apply', warn], token);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /^applied .*warn\.yaml: policy [0-9a-f]{16} is api v1, on every replica\n$/);
    const get = await tg.cli(['policy', 'get'], token);
    assert.equal(
      get.stdout,
      `# policy ${/policy ([0-9a-f]{16})/.exec(applied.stdout)![1]} from api v1, applied by alice at ${/at (\S+),/.exec(get.stdout)?.[1]}, 1 rule\n${policy('warn').trimEnd()}\n`,
    );
    const explained = await tg.cli(['explain', image], token);
    assert.match(explained.stdout, /^allowed with a warning by rule "prod"$/m);
    const noEarlier = await tg.cli(['policy', 'rollback'], token);
    assert.equal(noEarlier.code, 1);
    assert.match(noEarlier.stderr, /the server refused \(409\): POST \/admin\/v1\/policy\/rollback: version 1 is the first policy applied/);
    assert.equal((await tg.cli(['policy', 'apply', file('enforce.yaml', policy('enforce'))], token)).code, 0);
    const rolled = await tg.cli(['policy', 'rollback'], token);
    assert.equal(rolled.code, 0, rolled.stderr);
    assert.match(rolled.stdout, /^rolled back from api v2 to api v1: policy [0-9a-f]{16}\n$/);
  });

  it('breakglass add › explain shows the override; list; end › gone; audited with the actor', async () => {
    assert.equal((await tg.cli(['policy', 'apply', file('enforce2.yaml', policy('enforce'))], token)).code, 0);
    const add = await tg.cli(['breakglass', 'add', `${registry.host}/prod/**`, '--reason', 'INC-42 hotfix', '--expires', '2h'], token);
    assert.equal(add.code, 0, add.stderr);
    const id = /^break glass (bg-[0-9a-f]{12}): /.exec(add.stdout)?.[1];
    assert.ok(id !== undefined, add.stdout);
    const [list, explained] = await Promise.all([tg.cli(['breakglass', 'list'], token), tg.cli(['explain', image], token)]);
    assert.match(list.stdout, new RegExp(`^${id} +\\S+ +alice +${registry.host.replace(/[.]/g, '\\.')}/prod/\\*\\* +INC-42 hotfix$`, 'm'));
    assert.match(
      explained.stdout,
      /^allowed by rule "break-glass" \(until \S+\)\n  break_glass: break glass "bg-[0-9a-f]+" by alice .*INC-42 hotfix\nthe gate alone would have decided:\n  denied by rule "prod"\n    unsigned: /m,
    );
    const end = await tg.cli(['breakglass', 'end', id], token);
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stdout, new RegExp(`^ended break glass ${id} on .* at \\S+\n$`));
    assert.equal((await tg.cli(['breakglass', 'list'], token)).stdout, 'no active break-glass exceptions\n');
    const audit = await tg.cli(['audit', '--actor', 'alice', '--json'], token);
    const actions = JSON.parse(audit.stdout).entries.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`);
    assert.deepEqual(actions.slice(0, 3), ['breakglass.end ok', 'breakglass.add ok', 'policy.apply ok']);
    assert.ok(actions.includes('policy.rollback ok') && actions.includes('policy.apply error'), actions.join(', '));
  });
});
