import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePattern } from '../../src/oci/pattern.ts';

describe('image patterns', () => {
  it('"*" stays within one path segment', () => {
    const p = compilePattern('docker.io/library/*');
    assert.equal(p.test('docker.io/library/nginx'), true);
    assert.equal(p.test('docker.io/library/nginx/extra'), false);
    assert.equal(p.test('docker.io/other/nginx'), false);
  });
  it('"**" spans segments', () => {
    const p = compilePattern('ghcr.io/acme/**');
    assert.equal(p.test('ghcr.io/acme/a'), true);
    assert.equal(p.test('ghcr.io/acme/a/b/c'), true);
    assert.equal(p.test('ghcr.io/acmex/a'), false);
  });
  it('"/**/" also matches no segment', () => {
    const p = compilePattern('reg/a/**/z');
    assert.equal(p.test('reg/a/z'), true);
    assert.equal(p.test('reg/a/b/c/z'), true);
    assert.equal(p.test('reg/a/bz'), false);
  });
  it('dots and other regex characters are literal', () => {
    const p = compilePattern('127.0.0.1:5000/app');
    assert.equal(p.test('127.0.0.1:5000/app'), true);
    assert.equal(p.test('127x0x0x1:5000/app'), false);
  });
  it('more literal text is more specific', () => {
    assert.ok(compilePattern('docker.io/library/nginx').literalLength > compilePattern('docker.io/library/*').literalLength);
  });
  it('refuses malformed patterns', () => {
    for (const bad of ['', 'a//b', 'a/***', 'a b', 'a/(x)']) assert.throws(() => compilePattern(bad), TypeError, bad);
  });
});
