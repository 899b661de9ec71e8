import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isDigest, isRepositoryName, isTag, parseDigest, parseReference, parseRepositoryName, printable } from '../../src/oci/reference.ts';
import { referrersTag, sha256Digest } from '../../src/oci/digest.ts';
import { TrustgateError } from '../../src/errors/errors.ts';

const HEX64 = 'a'.repeat(64);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof TrustgateError);
    return error.code;
  }
}

describe('repository names', () => {
  for (const good of ['nginx', 'library/nginx', 'a/b/c', 'my-app', 'my--app', 'my_app', 'my__app', 'a.b', 'x1/y2']) {
    it(`accepts "${good}"`, () => assert.equal(isRepositoryName(good), true));
  }
  for (const bad of [
    '',
    'UPPER',
    '../etc',
    'a/../b',
    'a//b',
    '/a',
    'a/',
    '-a',
    'a-',
    'a___b',
    'a..b',
    'a b',
    'a%2fb',
    'a\nb',
    'a:b',
    'a@b',
  ]) {
    it(`refuses ${JSON.stringify(bad)} with NAME_INVALID`, () => {
      assert.equal(isRepositoryName(bad), false);
      assert.equal(
        codeOf(() => parseRepositoryName(bad)),
        'NAME_INVALID',
      );
    });
  }
  it('refuses names over 255 characters', () => {
    assert.equal(isRepositoryName('a'.repeat(255)), true);
    assert.equal(isRepositoryName('a'.repeat(256)), false);
  });
  it('never accepts a name with a dot segment, a slash run or a control character', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        if (isRepositoryName(s)) {
          assert.ok(!s.split('/').some((seg) => seg === '' || seg === '.' || seg === '..'));
          assert.ok(!/[^a-z0-9._/-]/.test(s));
        }
      }),
    );
  });
});

describe('tags', () => {
  it('accepts the spec grammar up to 128 characters', () => {
    assert.equal(isTag('latest'), true);
    assert.equal(isTag('v1.2.3-rc_1'), true);
    assert.equal(isTag('_x'), true);
    assert.equal(isTag('a'.repeat(128)), true);
  });
  it('refuses a leading dot or dash, 129 characters, and odd characters', () => {
    for (const bad of ['.x', '-x', 'a'.repeat(129), 'a/b', 'a b', '', 'a\r\nX-Injected: 1']) assert.equal(isTag(bad), false, bad);
  });
  it('a tag-shaped reference that is not a tag is MANIFEST_INVALID', () => {
    assert.equal(
      codeOf(() => parseReference('.hidden')),
      'MANIFEST_INVALID',
    );
  });
});

describe('digests', () => {
  it('accepts sha256 with 64 lowercase hex and sha512 with 128', () => {
    assert.equal(isDigest(`sha256:${HEX64}`), true);
    assert.equal(isDigest(`sha512:${'0'.repeat(128)}`), true);
  });
  it('refuses uppercase hex, wrong lengths and other algorithms with DIGEST_INVALID', () => {
    for (const bad of [
      `sha256:${'A'.repeat(64)}`,
      `sha256:${'a'.repeat(63)}`,
      `sha256:${'a'.repeat(65)}`,
      `md5:${'a'.repeat(32)}`,
      `blake3:${HEX64}`,
      'sha256:',
      ':abc',
    ]) {
      assert.equal(
        codeOf(() => parseDigest(bad)),
        'DIGEST_INVALID',
        bad,
      );
    }
  });
  it('a reference containing a colon is parsed as a digest', () => {
    assert.deepEqual(parseReference(`sha256:${HEX64}`), { kind: 'digest', digest: `sha256:${HEX64}` });
    assert.deepEqual(parseReference('v1'), { kind: 'tag', tag: 'v1' });
  });
  it('hashes exact bytes', () => {
    assert.equal(sha256Digest(Buffer.from('')), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
  it('derives the referrers fallback tag from a digest', () => {
    assert.equal(referrersTag(`sha256:${HEX64}`), `sha256-${HEX64}`);
    assert.equal(isTag(referrersTag(`sha512:${'b'.repeat(128)}`)), true);
  });
});

describe('printable', () => {
  it('strips control characters and bounds length', () => {
    assert.equal(printable('a\r\nb'), 'a??b');
    assert.equal(printable('x'.repeat(200)).length, 81);
  });
});
