import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Logger } from '../../src/log/logger.ts';
import { PolicyHolder } from '../../src/policy-store/holder.ts';
import { loadPolicy } from '../../src/policy-store/policy-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const put = (record: object, message?: string) => void lines.push(`${message ?? ''} ${JSON.stringify(record)}`);
  return { lines, debug: put, info: put, warn: put, error: put };
}

describe('policy reload', () => {
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, 'version: 1\nrules:\n  - { name: first, images: ["reg/**"] }\n');
  const logger = recordingLogger();
  const holder = new PolicyHolder(() => loadPolicy(file, () => {}), logger);
  const changes: string[] = [];
  holder.onChange((p) => changes.push(p.hash));

  it('a valid new file replaces the policy and notifies', () => {
    const before = holder.current().hash;
    writeFileSync(file, 'version: 1\nrules:\n  - { name: second, images: ["reg/**"] }\n');
    assert.equal(holder.reload(), true);
    assert.equal(holder.current().rules[0]!.name, 'second');
    assert.notEqual(holder.current().hash, before);
    assert.deepEqual(changes, [holder.current().hash]);
  });

  it('a bad file is refused with the field named, and the old policy stays', () => {
    const kept = holder.current().hash;
    writeFileSync(file, 'version: 1\nrules:\n  - { name: third, images: ["reg/**"], mode: sometimes }\n');
    assert.equal(holder.reload(), false);
    assert.equal(holder.current().hash, kept);
    assert.ok(logger.lines.some((l) => l.includes('rules[0].mode')));
  });

  it('an unchanged file changes nothing', () => {
    writeFileSync(file, 'version: 1\nrules:\n  - { name: second, images: ["reg/**"] }\n');
    const count = changes.length;
    assert.equal(holder.reload(), true);
    assert.equal(changes.length, count);
  });
});
