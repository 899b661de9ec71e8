import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePolicy } from '../../src/policy/parse.ts';
import { parseTrustedIdentity } from '../../src/verify/notation/index.ts';
import { runCli } from '../tools/cli-run.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-policy-check-'));
after(() => rmSync(work, { recursive: true, force: true }));

const GOOD = `version: 1
rules:
  - name: prod
    images: ["registry.example/prod/**"]
    signatures: { trust: [release, ci], threshold: 2, required: [release], notation: { trustedIdentities: ["x509.subject: C=US, ST=WA, O=Example, CN=release"] } }
  - name: dev
    images: ["registry.example/dev/**"]
    mode: warn
`;

const write = (name: string, text: string): string => {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
};

describe('trustgate policy check (offline: no --api, no token)', () => {
  it('a good file › exit 0 with the rules and the hash the proxy would compute', async () => {
    const file = write('good.yaml', GOOD);
    const hash = parsePolicy(GOOD, file, (id) => void parseTrustedIdentity(id)).hash;
    const [human, json] = await Promise.all([
      runCli(['policy', 'check', file], { TRUSTGATE_API: '' }),
      runCli(['policy', 'check', '--json', file]),
    ]);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, `${file}: ok, 2 rules (prod, dev), hash ${hash}\n`);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { ok: true, file, hash, rules: ['prod', 'dev'] });
  });

  it('bad files › exit 1 and "file: field: problem" on stderr', async () => {
    const cases: Array<[string, string]> = [
      [GOOD.replace('threshold: 2', 'threshold: 3'), 'rules[0].signatures.threshold: 3 signers needed but only 2 trusted'],
      [GOOD.replace('CN=release"', 'CN=release", "x509.subject: nonsense"'), 'rules[0].signatures.notation.trustedIdentities[1]: '],
      [GOOD.replace('mode: warn', 'mode: loud'), 'rules[1].mode: '],
      [GOOD.replace('name: dev', 'name: prod'), 'rules[1].name: duplicate rule name "prod"'],
      [GOOD.replace('"registry.example/dev/**"', '"registry example"'), 'rules[1].images[0]: '],
      ['version: 1\nrules: [\n', ''],
    ];
    const files = cases.map(([text], i) => write(`bad-${i}.yaml`, text));
    const runs = await Promise.all(files.map((file) => runCli(['policy', 'check', file])));
    runs.forEach((run, i) => {
      assert.equal(run.code, 1, `${cases[i]![1]}: ${run.stdout}`);
      assert.equal(run.stdout, '');
      assert.ok(run.stderr.startsWith(`${files[i]}: ${cases[i]![1]}`), run.stderr);
    });
    const json = await runCli(['policy', 'check', '--json', files[0]!]);
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), {
      ok: false,
      file: files[0],
      errors: [{ field: 'rules[0].signatures.threshold', message: '3 signers needed but only 2 trusted' }],
    });
    const missing = await runCli(['policy', 'check', join(work, 'missing.yaml')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `${join(work, 'missing.yaml')}: cannot read the file (ENOENT)\n`);
  });
});
