import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { fileSecret } from '../../src/config/file-secret.ts';
import { loadConfigText } from '../../src/config/index.ts';

describe('a secret kept in a file (rotated cloud tokens)', () => {
  it('is read again when the file changes, at most once a second, and keeps the last good value when the file is gone or empty', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-secret-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ecr-password');
    writeFileSync(path, 'token-one\n');
    let clock = 0;
    const secret = fileSecret(path, 'token-one', () => clock);
    assert.equal(secret.reveal(), 'token-one');
    writeFileSync(`${path}.new`, 'token-two-longer\n');
    renameSync(`${path}.new`, path); // how a rotator replaces it: a new inode
    clock = 999;
    assert.equal(secret.reveal(), 'token-one', 'not looked at again within a second');
    clock = 1_000;
    assert.equal(secret.reveal(), 'token-two-longer');
    rmSync(path);
    clock = 2_000;
    assert.equal(secret.reveal(), 'token-two-longer', 'a missing file keeps the last value');
    writeFileSync(path, '   \n');
    clock = 3_000;
    assert.equal(secret.reveal(), 'token-two-longer', 'an empty file keeps the last value');
    writeFileSync(path, 'token-three');
    clock = 4_000;
    assert.equal(secret.reveal(), 'token-three');
    assert.equal(inspect(secret), '[secret]');
    assert.equal(JSON.stringify({ secret }), '{"secret":"[secret]"}');
  });

  it('an upstream password from a file is read from it (trimmed), as a file secret', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-secret-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'password'), 'first\n');
    const config = loadConfigText(
      `
listen: { plainHttp: true }
upstreams:
  - name: ecr
    preset: ecr
    url: https://123456789012.dkr.ecr.eu-west-1.amazonaws.com
    repositories: ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/app/**"]
    allowAnonymousPulls: true
    auth: { type: basic, username: AWS, password: { file: password } }
`,
      join(dir, 'trustgate.yaml'),
      { env: {} },
    );
    const credentials = config.upstreams[0]!.credentials;
    assert.equal(credentials.type, 'basic');
    if (credentials.type !== 'basic') return;
    assert.equal(credentials.password.reveal(), 'first');
  });
});
