import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { createAuthenticator } from '../../src/pullauth/identity.ts';
import { hashSecret, newRobotSecret, SCRYPT_PARAMS, secretMatches } from '../../src/pullauth/robot-secret.ts';
import { createMemoryRobotStore } from '../../src/pullauth/robots.ts';

// Spies on node:crypto as the module under test sees it (its named imports follow the builtin object once synced).
let compares: ReturnType<typeof mock.method>;
let scrypts: ReturnType<typeof mock.method>;
beforeEach(() => {
  compares = mock.method(crypto, 'timingSafeEqual');
  scrypts = mock.method(crypto, 'scrypt');
  syncBuiltinESMExports();
});
afterEach(() => {
  mock.restoreAll();
  syncBuiltinESMExports();
});

describe('robot secrets', () => {
  it('are hashed with scrypt N=2^14 r=8 p=1 into 32 bytes, with a 16-byte salt', async () => {
    const stored = await hashSecret('s3cret');
    assert.equal(Buffer.from(stored.hash, 'base64').length, 32);
    assert.equal(Buffer.from(stored.salt, 'base64').length, 16);
    const options = scrypts.mock.calls[0]!.arguments[3] as { N: number; r: number; p: number };
    assert.deepEqual({ N: options.N, r: options.r, p: options.p }, { N: 16384, r: 8, p: 1 });
    assert.equal(SCRYPT_PARAMS.keyLength, 32);
  });

  it('are 32 random bytes, base64url, never the same twice', () => {
    const a = newRobotSecret();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, newRobotSecret());
  });

  it('the right secret › matches, through one timingSafeEqual', async () => {
    const stored = await hashSecret('right');
    compares.mock.resetCalls();
    assert.equal(await secretMatches('right', stored), true);
    assert.equal(compares.mock.callCount(), 1);
  });

  it('a wrong secret, even one differing in the last character › no match, through one timingSafeEqual', async () => {
    const stored = await hashSecret('right-secret-1');
    compares.mock.resetCalls();
    assert.equal(await secretMatches('right-secret-2', stored), false);
    assert.equal(compares.mock.callCount(), 1);
  });

  it('a malformed stored hash (wrong length) › no match, and still one scrypt and one timingSafeEqual', async () => {
    const stored = await hashSecret('right');
    compares.mock.resetCalls();
    scrypts.mock.resetCalls();
    assert.equal(await secretMatches('right', { salt: stored.salt, hash: Buffer.alloc(31).toString('base64') }), false);
    assert.equal(await secretMatches('right', { salt: '', hash: '' }), false);
    assert.equal(compares.mock.callCount(), 2);
    assert.equal(scrypts.mock.callCount(), 2);
  });

  it('unknown and revoked robots › refused after the same scrypt and compare as a real one', async () => {
    const robots = createMemoryRobotStore();
    const secret = newRobotSecret();
    await robots.create({ name: 'ci', ...(await hashSecret(secret)), repositories: ['**'], createdAt: 1 });
    await robots.create({ name: 'old', ...(await hashSecret(secret)), repositories: ['**'], createdAt: 1 });
    await robots.revoke('old', 2);
    const authenticate = createAuthenticator({ robots });
    for (const [name, expected] of [
      ['ci', 'robot:ci'],
      ['nobody', undefined],
      ['old', undefined],
    ] as const) {
      compares.mock.resetCalls();
      scrypts.mock.resetCalls();
      assert.equal((await authenticate(name, secret))?.subject, expected, name);
      assert.equal(scrypts.mock.callCount(), 1, `${name}: scrypt`);
      assert.equal(compares.mock.callCount(), 1, `${name}: timingSafeEqual`);
    }
  });
});
