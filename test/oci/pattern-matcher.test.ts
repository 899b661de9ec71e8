// compilePattern's `test` takes shortcuts (#15, bench profile): a literal pattern is compared whole,
// a literal prefix then `**` with startsWith, and any other pattern skips its literal prefix before
// the NFA runs. This holds every shortcut to an independent oracle: the same steps written as an
// anchored regular expression (fine here, where names are short), over generated patterns and names
// that include `/`, line terminators and characters outside the BMP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compilePattern, patternSteps, type Step } from '../../src/oci/pattern.ts';

const escape = (char: string): string => char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The steps as a regex: `**` anything but a line terminator, `*` anything but `/`, `/**\/` zero or more whole segments. */
function oracle(steps: readonly Step[]): RegExp {
  const parts = steps.map((step) => {
    switch (step.kind) {
      case 'char':
        return escape(step.char);
      case 'any':
        return '[^\\n\\r\\u2028\\u2029]*';
      case 'segment':
        return '[^/]*';
      case 'segments':
        return '(?:[^/]+/)*';
    }
  });
  return new RegExp(`^${parts.join('')}$`, 'su');
}

const patternToken = fc.constantFrom('a', 'b', 'reg.io', '-', '/', '*', '**', '/**/', 'team', '_');
const nameChar = fc.constantFrom('a', 'b', 'reg.io', '-', '/', '_', 'team', '\n', '\u2028', 'é', '😀');

describe('image pattern matching', () => {
  it('every shortcut answers as the steps do, for generated patterns and names', () => {
    fc.assert(
      fc.property(fc.array(patternToken, { minLength: 1, maxLength: 8 }), fc.array(nameChar, { maxLength: 12 }), (tokens, chars) => {
        const source = tokens.join('');
        let steps: readonly Step[];
        try {
          steps = patternSteps(source).steps;
        } catch {
          return; // not a valid pattern: compilePattern refuses it too
        }
        const name = chars.join('');
        assert.equal(compilePattern(source).test(name), oracle(steps).test(name), `${JSON.stringify(source)} on ${JSON.stringify(name)}`);
      }),
      { numRuns: 20_000, seed: 15 },
    );
  });

  it('the prefix shortcuts, by example', () => {
    const team = compilePattern('reg.io/team/**');
    assert.equal(team.test('reg.io/team/app'), true);
    assert.equal(team.test('reg.io/team/'), true);
    assert.equal(team.test('reg.io/teams/app'), false);
    assert.equal(team.test('reg.io/team/app\nx'), false, '`**` stops at a line terminator');
    const exact = compilePattern('reg.io/team/app');
    assert.equal(exact.test('reg.io/team/app'), true);
    assert.equal(exact.test('reg.io/team/app2'), false);
    const mixed = compilePattern('reg.io/*/app');
    assert.equal(mixed.test('reg.io/x/app'), true);
    assert.equal(mixed.test('reg.io/x/y/app'), false);
  });
});
