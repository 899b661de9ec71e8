import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compilePattern } from '../../src/oci/pattern.ts';
import { commonName, patternsOverlap } from '../../src/oci/pattern-overlap.ts';

// Two patterns overlap when some canonical name matches both (the checks at start ask it of a
// key's scope and a rule's images, and of a rule's images and an upstream allowlist).

describe('commonName: a name two patterns both match', () => {
  const cases: [string, string, boolean][] = [
    ['127.0.0.1:5000/**', '127.0.0.1:5000/team/**', true],
    ['127.0.0.1:5000/team/*', '127.0.0.1:5000/other/**', false],
    ['docker.io/library/*', 'docker.io/**/nginx', true],
    ['a/**/b', 'a/b', true],
    ['a/*/b', 'a/b', false],
    ['**', 'registry.example/x/y', true],
    ['reg/a*', 'reg/*b', true],
    ['reg/a*', 'reg/b*', false],
    ['ghcr.io/org/**', 'registry.k8s.io/**', false],
    ['reg/team/*', 'reg/team/*/x', false],
    ['reg/**', 'reg', false],
  ];
  for (const [a, b, overlap] of cases) {
    it(`${a} and ${b} › ${overlap ? 'overlap' : 'do not overlap'}`, () => {
      const name = commonName(a, b);
      assert.equal(name !== undefined, overlap);
      assert.equal(patternsOverlap(b, a), overlap, 'symmetric');
      if (name !== undefined) {
        assert.ok(compilePattern(a).test(name) && compilePattern(b).test(name), `${name} matches both`);
      }
    });
  }

  it('an invalid pattern › TypeError, as compilePattern', () => {
    assert.throws(() => commonName('reg/***', 'reg/x'), TypeError);
  });

  // Exhaustive over short names: a name both match is found exactly when one exists.
  const segment = fc.constantFrom('a', 'b', 'ab', '*', 'a*', '*b', '**');
  const pattern = fc.array(segment, { minLength: 1, maxLength: 3 }).map((segments) => `r/${segments.join('/')}`);
  const names = (length: number): string[] => {
    let all = [''];
    for (let i = 0; i < length; i++) all = all.flatMap((prefix) => ['a', 'b', '/', '~'].map((c) => prefix + c));
    return all;
  };
  const shortNames = [0, 1, 2, 3, 4, 5, 6].flatMap(names).map((tail) => `r/${tail}`);

  it('against every name up to 8 characters › agrees, and the name it gives matches both', () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const [pa, pb] = [compilePattern(a), compilePattern(b)];
        const name = commonName(a, b);
        if (name !== undefined) return pa.test(name) && pb.test(name);
        return !shortNames.some((n) => pa.test(n) && pb.test(n));
      }),
      { numRuns: 300, seed: 14 },
    );
  });
});
