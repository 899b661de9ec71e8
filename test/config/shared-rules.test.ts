import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isWithin } from '../../src/config/paths.ts';
import { KEY_ID } from '../../src/trust/key-id.ts';

// Two rules that used to be copied: the key id (keys/, the admin API, keygen) and "the bootstrap
// key's directory is not inside keys.dir" (the config and `token mint`). Each is written once.

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : name.endsWith('.ts') ? [full] : [];
  });
}

describe('rules written once', () => {
  it('the key id › lowercase letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63', () => {
    for (const id of ['a', 'release-2024', 'ci.key_1', 'x'.repeat(63)]) assert.ok(KEY_ID.test(id), id);
    for (const id of ['', '-a', '.a', 'A', 'a/b', 'a b', 'x'.repeat(64)]) assert.ok(!KEY_ID.test(id), id);
  });

  it('inside a directory › the directory itself and anything under it, "..name" children included', () => {
    assert.ok(isWithin('/srv/keys', '/srv/keys'));
    assert.ok(isWithin('/srv/keys', '/srv/keys/admin'));
    assert.ok(isWithin('/srv/keys', '/srv/keys/..admin'));
    assert.ok(!isWithin('/srv/keys', '/srv/keys-admin'));
    assert.ok(!isWithin('/srv/keys', '/srv'));
    assert.ok(!isWithin('/srv/keys', '/srv/data/admin'));
  });

  it('src/ writes the key id pattern once, and compares a data dir with keys.dir in one place', () => {
    const files = sources('src').map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    const ids = files.filter((f) => f.text.includes('[a-z0-9][a-z0-9._-]')).map((f) => f.path);
    assert.deepEqual(ids, [join('src', 'trust', 'key-id.ts')]);
    const within = files.filter((f) => /relative\([^)]*keysDir/i.test(f.text)).map((f) => f.path);
    assert.deepEqual(within, []);
  });
});
