import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/input/config-error.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { selectRule } from '../../src/policy/select.ts';

const noIdentityCheck = (): void => {};
const policy = (rules: string) => parsePolicy(`version: 1\nrules:\n${rules}`, 'policy.yaml', noIdentityCheck);

function problem(text: string): ConfigError {
  try {
    parsePolicy(text, 'policy.yaml', (identity) => {
      if (identity !== '*' && !identity.startsWith('x509.subject:')) throw new TypeError('must be "*" or start with "x509.subject:"');
    });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}

describe('rule selection', () => {
  const p = policy(`
  - { name: everything, images: ["reg/**"] }
  - { name: team, images: ["reg/team/*"] }
  - { name: deep-team, images: ["reg/team/**"] }
  - { name: exact, images: ["reg/team/app"] }
  - { name: first-tie, images: ["reg/a*/x"] }
  - { name: second-tie, images: ["reg/*b/x"] }
`);
  it('an exact name beats every wildcard', () => assert.equal(selectRule(p, 'reg/team/app')?.name, 'exact'));
  it('a pattern without ** beats one with **', () => assert.equal(selectRule(p, 'reg/team/other')?.name, 'team'));
  it('** catches deeper names', () => assert.equal(selectRule(p, 'reg/team/a/b')?.name, 'deep-team'));
  it('the broadest rule still catches the rest', () => assert.equal(selectRule(p, 'reg/misc')?.name, 'everything'));
  it('on an equal score the rule written first wins', () => assert.equal(selectRule(p, 'reg/ab/x')?.name, 'first-tie'));
  it('no match › undefined, so the default rule denies', () => assert.equal(selectRule(p, 'other/x'), undefined));
});

describe('policy loading', () => {
  it('compiles, freezes and hashes; the same text gives the same hash', () => {
    const a = policy('  - { name: r, images: ["reg/**"], signatures: { threshold: 2 } }');
    const b = policy('  - { name: r, images: ["reg/**"], signatures: { threshold: 2 } }');
    assert.equal(a.hash, b.hash);
    assert.ok(Object.isFrozen(a.rules[0]));
    assert.notEqual(policy('  - { name: r, images: ["reg/**"] }').hash, a.hash);
  });
  it('names the field of a bad mode', () => {
    assert.equal(problem('version: 1\nrules:\n  - { name: r, images: ["x/**"], mode: maybe }').field, 'rules[0].mode');
  });
  it("refuses a rule named like a built-in check, so a decision's rule says which kind of check made it", () => {
    for (const name of ['break-glass', 'source-allowlist', 'pull-access', 'manifest-format', 'default']) {
      const error = problem(`version: 1\nrules:\n  - { name: ${name}, images: ["x/**"] }`);
      assert.equal(error.field, 'rules[0].name');
      assert.match(error.message, new RegExp(`"${name}" is the name of a built-in check`));
    }
  });
  it('names an unknown field', () => {
    assert.equal(problem('version: 1\nrules:\n  - { name: r, images: ["x/**"], colour: red }').field, 'rules[0]');
  });
  describe('keyless authorities', () => {
    const keyless = (authority: string, extra = ''): string =>
      `version: 1\nrules:\n  - { name: r, images: ["x/**"], signatures: { keyless: [${authority}]${extra} } }`;
    const GH = 'issuer: "https://token.actions.githubusercontent.com"';
    it('compiles identities into named signers, exact and anchored RegExp', () => {
      const rule = parsePolicy(
        keyless(
          `{ root: pg, identities: [{ name: release, ${GH}, subjectRegExp: "^https://github.com/org/repo/.+$" }, { issuer: x, subject: a@b.c }] }`,
          ', required: [pg/release]',
        ),
        'policy.yaml',
        noIdentityCheck,
      ).rules[0]!;
      const [authority] = rule.signatures.keyless;
      assert.equal(authority!.root, 'pg');
      assert.equal(authority!.transparencyLog, 'required');
      assert.deepEqual(
        authority!.identities.map((i) => i.signer),
        ['pg/release', 'pg/1'],
      );
      assert.deepEqual(authority!.identities[1]!.subject, { exact: 'a@b.c' });
      const pattern = authority!.identities[0]!.subject;
      assert.ok('regExp' in pattern && pattern.regExp.test('https://github.com/org/repo/x'));
      assert.ok('regExp' in pattern && !pattern.regExp.test('https://github.com/org/repox'.replace('repox', 'other/x')));
    });
    it('refuses an authority without identities, naming the field', () => {
      for (const authority of ['{ root: pg }', '{ root: pg, identities: [] }']) {
        const error = problem(keyless(authority));
        assert.equal(error.field, 'rules[0].signatures.keyless[0].identities');
        assert.match(error.message, /would accept anyone's certificate/);
      }
    });
    it('refuses an unanchored RegExp (stricter than cosign), and a top-level alternation', () => {
      for (const pattern of ['https://github.com/.*', '^https://github.com/.*', '.*@example.com$', '^a$|^b$', '^a|b$', '^a\\$']) {
        const error = problem(keyless(`{ root: pg, identities: [{ ${GH}, subjectRegExp: '${pattern}' }] }`));
        assert.equal(error.field, 'rules[0].signatures.keyless[0].identities[0].subjectRegExp', pattern);
        assert.match(error.message, /: unanchored: the pattern must match the whole value/);
      }
      const issuer = problem(keyless('{ root: pg, identities: [{ issuerRegExp: "https://.*", subject: a@b.c }] }'));
      assert.equal(issuer.field, 'rules[0].signatures.keyless[0].identities[0].issuerRegExp');
      assert.doesNotThrow(() =>
        parsePolicy(keyless(`{ root: pg, identities: [{ ${GH}, subjectRegExp: '^(?:a|b)@x\\.y$' }] }`), 'p', noIdentityCheck),
      );
    });
    it('refuses a missing subject, both forms at once, duplicate signer names and an unknown keyless signer in required', () => {
      assert.equal(problem(keyless(`{ root: pg, identities: [{ ${GH} }] }`)).field, 'rules[0].signatures.keyless[0].identities[0].subject');
      assert.equal(
        problem(keyless(`{ root: pg, identities: [{ ${GH}, subject: a, subjectRegExp: "^a$" }] }`)).field,
        'rules[0].signatures.keyless[0].identities[0].subject',
      );
      assert.match(
        problem(keyless(`{ root: pg, identities: [{ name: n, subject: a }, { name: n, subject: b }] }`)).message,
        /two identities are named "pg\/n"/,
      );
      assert.equal(
        problem(keyless('{ root: pg, identities: [{ subject: a }] }', ', required: [pg/zz]')).field,
        'rules[0].signatures.required[0]',
      );
    });
    it('refuses transparencyLog: off under a root that lists logs, when the trust store is known; PKI and unknown roots load', () => {
      const text = keyless('{ root: pg, transparencyLog: off, identities: [{ subject: a@b.c }] }');
      const kinds = { pg: 'logged', corp: 'pki' } as const;
      const rootKind = (id: string) => kinds[id as keyof typeof kinds];
      try {
        parsePolicy(text, 'policy.yaml', noIdentityCheck, rootKind);
        assert.fail('expected a ConfigError');
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.field, 'rules[0].signatures.keyless[0].transparencyLog');
        assert.match(error.message, /"off" is only for a bring-your-own PKI root; sigstore root "pg" lists transparency logs/);
      }
      assert.doesNotThrow(() => parsePolicy(text.replace('root: pg', 'root: corp'), 'p', noIdentityCheck, rootKind));
      assert.doesNotThrow(() => parsePolicy(text.replace('root: pg', 'root: later'), 'p', noIdentityCheck, rootKind));
      assert.doesNotThrow(() => parsePolicy(text, 'p', noIdentityCheck));
    });
    it('takes rekor: { root } for key-based signatures', () => {
      const rule = parsePolicy(
        'version: 1\nrules:\n  - { name: r, images: ["x/**"], signatures: { rekor: { root: pg } } }',
        'p',
        noIdentityCheck,
      ).rules[0]!;
      assert.equal(rule.signatures.keyTransparencyLogRoot, 'pg');
    });
  });
  it('refuses a required signer the rule does not trust, and a threshold above the trusted set', () => {
    assert.equal(
      problem('version: 1\nrules:\n  - { name: r, images: ["x/**"], signatures: { trust: [a], required: [b] } }').field,
      'rules[0].signatures.required[0]',
    );
    assert.equal(
      problem('version: 1\nrules:\n  - { name: r, images: ["x/**"], signatures: { trust: [a], threshold: 2 } }').field,
      'rules[0].signatures.threshold',
    );
  });
  it('refuses duplicate names and bad identities, naming them', () => {
    assert.equal(
      problem('version: 1\nrules:\n  - { name: r, images: ["x/**"] }\n  - { name: r, images: ["y/**"] }').field,
      'rules[1].name',
    );
    assert.equal(
      problem('version: 1\nrules:\n  - { name: r, images: ["x/**"], signatures: { notation: { trustedIdentities: ["CN=x"] } } }').field,
      'rules[0].signatures.notation.trustedIdentities[0]',
    );
  });
  it('requires version 1', () => assert.equal(problem('rules: []').field, 'version'));
});
