import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicy } from '../../src/policy/parse.ts';
import { checkSetup, formatProblem, hasErrors, SetupError, type SetupFacts, type SetupProblem } from '../../src/policy/setup-check.ts';
import type { Revocation, TrustEntry } from '../../src/trust/types.ts';
import { parseTrustedIdentity } from '../../src/verify/notation/index.ts';

// The checks at start (config/README.md, "Checks at start"), one problem kind at a time: each
// names its field, says what is wrong, and is an error or a warning as documented.

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;

const policyOf = (rules: string) => parsePolicy(`version: 1\nrules:\n${rules}`, 'policy.yaml', (id) => void parseTrustedIdentity(id));

const entry = (id: string, more: Partial<TrustEntry> = {}): TrustEntry => ({
  id,
  kind: 'key',
  pem: 'public key',
  scopes: ['reg.example/**'],
  purposes: ['sign'],
  origin: 'file',
  ...more,
});

function facts(more: Partial<SetupFacts> = {}): SetupFacts {
  return {
    configFile: '/etc/trustgate/trustgate.yaml',
    keysDir: { path: '/etc/trustgate/keys', written: 'keys', exists: true },
    shared: false,
    upstreams: [{ name: 'reg', repositories: ['reg.example/**'] }],
    trust: { entries: [], revocations: [] },
    pending: [],
    now: NOW,
    ...more,
  };
}

const trust = (entries: TrustEntry[], revocations: Revocation[] = []): Pick<SetupFacts, 'trust'> => ({ trust: { entries, revocations } });

/** The problems, each as `severity field: message`, for exact comparison. */
const lines = (problems: readonly SetupProblem[]): string[] => problems.map((p) => `${p.severity} ${p.field}: ${p.message}`);

const TEAM = `  - name: team
    images: ["reg.example/team/**"]
    signatures: { trust: [release, ci], threshold: 1 }
`;

describe('checks at start: keys.dir', () => {
  it('written in the config and missing › an error naming the resolved path and the config file', () => {
    const problems = checkSetup(
      policyOf('  - { name: open, images: ["reg.example/**"], mode: off }\n'),
      facts({ keysDir: { path: '/etc/trustgate/keyz', written: 'keyz', exists: false } }),
    );
    assert.deepEqual(lines(problems), [
      `error keys.dir: the directory /etc/trustgate/keyz does not exist (keys.dir "keyz" in /etc/trustgate/trustgate.yaml; a relative keys.dir is relative to the config file's directory)`,
    ]);
    assert.ok(hasErrors(problems));
  });

  it('not set, and the default is missing › a warning with the resolved path and that the default is relative to the config file', () => {
    const problems = checkSetup(
      policyOf('  - { name: open, images: ["reg.example/**"], mode: off }\n'),
      facts({ keysDir: { path: '/etc/keys', written: undefined, exists: false } }),
    );
    assert.deepEqual(lines(problems), [
      `warning keys.dir: not set, so the default applies, relative to the config file /etc/trustgate/trustgate.yaml: /etc/keys, which does not exist; set keys.dir to the trust store's directory (an empty one if every entry comes through the admin API)`,
    ]);
    assert.ok(!hasErrors(problems));
  });

  it('there › nothing to say', () => {
    assert.deepEqual(checkSetup(policyOf('  - { name: open, images: ["reg.example/**"], mode: off }\n'), facts()), []);
  });
});

describe('checks at start: ids a rule trusts', () => {
  it('not in the trust store, without Redis › an error at signatures.trust[j], listing what the store holds', () => {
    const problems = checkSetup(policyOf(TEAM), facts(trust([entry('release')])));
    assert.deepEqual(lines(problems), [
      'error rules[0].signatures.trust[1]: "ci" is not in the trust store (keys.dir /etc/trustgate/keys; it holds release), and without redis.url nothing adds it after start: add ci.pub (or .crt, .json) with ci.yaml to keys.dir, or correct the id',
    ]);
  });

  it('not in the trust store, with Redis › a warning: the admin API may add it after start', () => {
    const problems = checkSetup(policyOf(TEAM), facts({ shared: true, ...trust([entry('release')]) }));
    assert.deepEqual(lines(problems), [
      'warning rules[0].signatures.trust[1]: "ci" is not in the trust store (keys.dir /etc/trustgate/keys and Redis; it holds release): rule "team" counts nothing from it until it is added, in keys/ or through the admin API',
    ]);
    assert.ok(!hasErrors(problems));
  });

  it('revoked › a warning, with or without Redis: a revocation never stops a start', () => {
    const revoked: Revocation = { id: 'ci', revokedAt: NOW - DAY, reason: 'laptop stolen' };
    for (const shared of [false, true]) {
      const problems = checkSetup(policyOf(TEAM), facts({ shared, ...trust([entry('release'), entry('ci')], [revoked]) }));
      assert.deepEqual(lines(problems), [
        'warning rules[0].signatures.trust[1]: "ci" is revoked (at 2026-05-31T00:00:00.000Z: laptop stolen); revocations are final, so rule "team" never counts it again',
      ]);
    }
  });

  it('revoked before it was ever added › revoked, not missing', () => {
    const problems = checkSetup(policyOf(TEAM), facts(trust([entry('release')], [{ id: 'ci', revokedAt: NOW, reason: 'pre-emptive' }])));
    assert.deepEqual(
      problems.map((p) => [p.severity, p.field]),
      [['warning', 'rules[0].signatures.trust[1]']],
    );
    assert.match(problems[0]!.message, /"ci" is revoked/);
  });

  it('scopes that cover none of the rule’s images › a warning naming both', () => {
    const problems = checkSetup(
      policyOf(TEAM),
      facts(trust([entry('release'), entry('ci', { scopes: ['reg.example/other/*', 'ghcr.io/**'] })])),
    );
    assert.deepEqual(lines(problems), [
      `warning rules[0].signatures.trust[1]: the scopes of "ci" (reg.example/other/*, ghcr.io/**) cover none of rule "team"'s images (reg.example/team/**): rule "team" can never count it`,
    ]);
  });

  it('scopes that cover some of the rule’s images › fine', () => {
    const problems = checkSetup(policyOf(TEAM), facts(trust([entry('release'), entry('ci', { scopes: ['reg.example/team/app'] })])));
    assert.deepEqual(problems, []);
  });

  it('of a kind that never signs, scan-only, or outside its validity window › a warning each, saying why', () => {
    const rules = `  - name: team
    images: ["reg.example/team/**"]
    signatures: { trust: [stamp, scanner, old, future, release], threshold: 1 }
`;
    const problems = checkSetup(
      policyOf(rules),
      facts(
        trust([
          entry('stamp', { kind: 'tsa' }),
          entry('scanner', { purposes: ['scan'] }),
          entry('old', { notAfter: NOW - DAY }),
          entry('future', { notBefore: NOW + DAY }),
          entry('release'),
        ]),
      ),
    );
    assert.deepEqual(lines(problems), [
      'warning rules[0].signatures.trust[0]: "stamp" is a tsa, a timestamp authority: it never signs images: rule "team" can never count it',
      'warning rules[0].signatures.trust[1]: "scanner" has purposes [scan]: it is not trusted to sign images: rule "team" can never count it',
      'warning rules[0].signatures.trust[2]: "old" stopped being valid at 2026-05-31T00:00:00.000Z (its notAfter): rule "team" can never count it',
      'warning rules[0].signatures.trust[3]: "future" is not valid before 2026-06-02T00:00:00.000Z (its notBefore): rule "team" can never count it',
    ]);
  });

  it('without a trust list, a required key id is checked where it is named › signatures.required[j]', () => {
    const rules = `  - name: team
    images: ["reg.example/team/**"]
    signatures: { required: [release] }
`;
    const problems = checkSetup(policyOf(rules), facts(trust([entry('ci')])));
    assert.deepEqual(
      problems.map((p) => [p.severity, p.field]),
      [['error', 'rules[0].signatures.required[0]']],
    );
    assert.match(problems[0]!.message, /^"release" is not in the trust store/);
  });

  it('a keyless root and a Rekor root › checked at signatures.keyless[k].root and signatures.rekor.root, as sigstore-roots', () => {
    const rules = `  - name: keyless
    images: ["reg.example/**"]
    signatures:
      keyless:
        - { root: public-good, identities: [{ issuer: "https://issuer.example", subject: "a@b.example" }] }
        - { root: release, identities: [{ issuer: "https://issuer.example", subject: "a@b.example" }] }
  - name: keys
    images: ["reg.example/keys/**"]
    signatures: { trust: [release], rekor: { root: rekor-root } }
`;
    const problems = checkSetup(policyOf(rules), facts(trust([entry('release')])));
    assert.deepEqual(
      problems.map((p) => [p.severity, p.field]),
      [
        ['error', 'rules[0].signatures.keyless[0].root'],
        ['warning', 'rules[0].signatures.keyless[1].root'],
        // no threshold problem for rule 0: without a trust list the key "release", in scope, may sign
        ['error', 'rules[1].signatures.rekor.root'],
        ['warning', 'rules[1].signatures.threshold'],
      ],
    );
    assert.match(problems[0]!.message, /^"public-good" is not in the trust store/);
    assert.equal(problems[1]!.message, '"release" is a key, not a sigstore-root: rule "keyless" can never count it');
    assert.match(problems[3]!.message, /its keys count only with the Rekor root "rekor-root", which is not usable;/);
  });

  it('the TUF refresh’s root, not created yet › not missing, and its identities count', () => {
    const rules = `  - name: keyless
    images: ["reg.example/**"]
    signatures:
      keyless: [{ root: public-good, identities: [{ issuer: "https://issuer.example", subject: "a@b.example" }] }]
`;
    const pending = [{ id: 'public-good', kind: 'sigstore-root' as const, scopes: ['reg.example/**'] }];
    assert.deepEqual(checkSetup(policyOf(rules), facts({ pending })), []);
  });

  it('a rule with mode: off › no signature is looked at, so nothing is checked', () => {
    const problems = checkSetup(
      policyOf(`  - { name: open, images: ["reg.example/**"], mode: off, signatures: { trust: [nobody] } }\n`),
      facts(),
    );
    assert.deepEqual(problems, []);
  });
});

describe('checks at start: a rule no trust-store entry can satisfy', () => {
  it('a threshold above its usable signers › a warning at signatures.threshold naming those that can sign', () => {
    const rules = `  - name: team
    images: ["reg.example/team/**"]
    signatures: { trust: [release, ci], threshold: 2 }
`;
    const problems = checkSetup(policyOf(rules), facts(trust([entry('release'), entry('ci', { scopes: ['ghcr.io/**'] })])));
    assert.deepEqual(
      problems.map((p) => p.field),
      ['rules[0].signatures.trust[1]', 'rules[0].signatures.threshold'],
    );
    assert.equal(
      problems[1]!.message,
      'rule "team" needs 2 signers, but only 1 can sign its images now (release); until the trust store changes, every image it decides is denied',
    );
    assert.equal(problems[1]!.severity, 'warning');
  });

  it('no trust list and no key whose scopes reach its images › a warning (the shipped defaults with an empty keys/)', () => {
    const rules = '  - { name: local, images: ["127.0.0.1:5000/**"], signatures: { threshold: 1 } }\n';
    const upstreams = [{ name: 'local', repositories: ['127.0.0.1:5000/**'] }];
    const problems = checkSetup(policyOf(rules), facts({ upstreams, ...trust([entry('elsewhere')]) }));
    assert.deepEqual(lines(problems), [
      'warning rules[0].signatures.threshold: rule "local" needs 1 signer, but no key or notation root in the trust store can sign its images (127.0.0.1:5000/**) now (active, not revoked, purpose sign, scopes reaching them); until the trust store changes, every image it decides is denied',
    ]);
  });

  it('mode: warn › the same warning says images are served with a warning', () => {
    const problems = checkSetup(policyOf('  - { name: w, images: ["reg.example/**"], mode: warn }\n'), facts());
    assert.match(problems[0]!.message, /every image it decides is served with a warning$/);
  });

  it('keyless identities under a usable root count, one signer each', () => {
    const rules = `  - name: keyless
    images: ["reg.example/**"]
    signatures:
      threshold: 2
      keyless:
        - root: pg
          identities:
            - { name: a, issuer: "https://issuer.example", subject: "a@b.example" }
            - { name: b, issuer: "https://issuer.example", subject: "b@b.example" }
`;
    assert.deepEqual(checkSetup(policyOf(rules), facts(trust([entry('pg', { kind: 'sigstore-root', pem: '', trustedRoot: '{}' })]))), []);
    const three = rules.replace('threshold: 2', 'threshold: 3');
    const problems = checkSetup(policyOf(three), facts(trust([entry('pg', { kind: 'sigstore-root', pem: '', trustedRoot: '{}' })])));
    assert.deepEqual(lines(problems), [
      'warning rules[0].signatures.threshold: rule "keyless" needs 3 signers, but only 2 can sign its images now (pg/a, pg/b); until the trust store changes, every image it decides is denied',
    ]);
  });
});

describe('checks at start: upstream allowlists', () => {
  it('a pattern no rule reaches › a warning at upstreams[i].repositories[j]; one a rule partly covers › fine', () => {
    const upstreams = [
      { name: 'local', repositories: ['reg.example/**'] },
      { name: 'hub', repositories: ['docker.io/library/*', 'docker.io/bitnami/**'] },
    ];
    const rules = '  - { name: team, images: ["reg.example/team/**", "docker.io/library/nginx"], mode: off }\n';
    assert.deepEqual(lines(checkSetup(policyOf(rules), facts({ upstreams }))), [
      'warning upstreams[1].repositories[1]: no policy rule covers "docker.io/bitnami/**" (upstream "hub"): every image pulled through it is denied by the default rule (no_matching_rule)',
    ]);
  });
});

describe('checks at start: every problem at once', () => {
  it('keys.dir, each rule’s ids and threshold, then the upstreams, in that order; SetupError carries them all', () => {
    const rules = `  - name: team
    images: ["reg.example/team/**"]
    signatures: { trust: [release, ci], threshold: 2 }
  - name: other
    images: ["reg.example/other/**"]
    signatures: { trust: [ops] }
`;
    const problems = checkSetup(
      policyOf(rules),
      facts({
        keysDir: { path: '/etc/trustgate/keyz', written: 'keyz', exists: false },
        upstreams: [
          { name: 'reg', repositories: ['reg.example/**'] },
          { name: 'hub', repositories: ['docker.io/**'] },
        ],
      }),
    );
    assert.deepEqual(
      problems.map((p) => `${p.severity} ${p.field}`),
      [
        'error keys.dir',
        'error rules[0].signatures.trust[0]',
        'error rules[0].signatures.trust[1]',
        'warning rules[0].signatures.threshold',
        'error rules[1].signatures.trust[0]',
        'warning rules[1].signatures.threshold',
        'warning upstreams[1].repositories[0]',
      ],
    );
    const error = new SetupError(problems);
    assert.equal(error.problems, problems);
    assert.match(
      error.message,
      /^4 problems: keys\.dir: the directory \/etc\/trustgate\/keyz does not exist .*; rules\[1\]\.signatures\.trust\[0\]: "ops" is not in the trust store/,
    );
    assert.equal(formatProblem(problems[0]!), `error: keys.dir: ${problems[0]!.message}`);
  });
});
