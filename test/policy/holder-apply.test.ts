import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/input/config-error.ts';
import { PolicyHolder } from '../../src/policy-store/holder.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { validatePolicy } from '../../src/policy/validate.ts';
import { recordingLogger } from '../support/helpers.ts';

const FILE = 'version: 1\nrules:\n  - { name: file, images: ["reg/**"] }\n';
const API = 'version: 1\nrules:\n  - { name: api, images: ["reg/**"], mode: warn }\n';
const compile = (text: string, source: string) => parsePolicy(text, source, () => {});

describe('PolicyHolder.apply', () => {
  it('swaps in compiled text with its origin, notifies on a new hash, and keeps the old on error', () => {
    let file = FILE;
    const logs = recordingLogger();
    const holder = new PolicyHolder(() => compile(file, 'policy.yaml'), logs, { compile });
    const changes: string[] = [];
    holder.onChange((p) => changes.push(p.hash));
    assert.deepEqual(holder.origin(), { source: 'file' });
    assert.equal(holder.current().text, FILE);
    const applied = holder.apply(API, { source: 'api', version: 3, actor: 'kim', time: 1 });
    assert.equal(holder.current(), applied);
    assert.deepEqual(holder.origin(), { source: 'api', version: 3, actor: 'kim', time: 1 });
    assert.deepEqual(changes, [applied.hash]);
    assert.throws(
      () => holder.apply('version: 1\nrules:\n  - { name: x, images: ["a//b"] }\n', { source: 'api', version: 4 }),
      ConfigError,
    );
    assert.equal(holder.current(), applied);
    assert.equal(holder.origin().version, 3);
    holder.apply(`# the same rules\n${API}`, { source: 'api', version: 5 });
    assert.equal(changes.length, 1, 'the same compiled policy is no change for the verdict cache');
    file = FILE.replace('file', 'file2');
    assert.equal(holder.reload(), true);
    assert.equal(holder.origin().source, 'api', 'the file does not replace an API policy');
    assert.match(logs.text(), /policy_file_ignored/);
  });

  it('validatePolicy lists every schema problem, and the first compile problem', () => {
    const bad = validatePolicy('version: 1\nrules:\n  - { name: "a b", images: [], mode: x }\n', 's', compile);
    assert.equal(bad.ok, false);
    assert.deepEqual(!bad.ok && bad.errors.map((e) => e.field).sort(), ['rules[0].images', 'rules[0].mode', 'rules[0].name']);
    const dup = validatePolicy('version: 1\nrules:\n  - { name: a, images: ["r/**"] }\n  - { name: a, images: ["s/**"] }\n', 's', compile);
    assert.deepEqual(!dup.ok && dup.errors, [{ field: 'rules[1].name', message: 'duplicate rule name "a"' }]);
    const good = validatePolicy(API, 's', compile);
    assert.equal(good.ok && good.policy.rules[0]!.name, 'api');
  });
});
