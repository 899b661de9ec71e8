// Trusted identities (trust-store-trust-policy.md "Trusted Identities Constraints") and node subject parsing.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  matchesTrustedIdentity,
  parseSubjectName,
  parseTrustedIdentities,
  parseTrustedIdentity,
} from '../../../src/verify/notation/index.ts';
import { FIXTURE_IDENTITY, read } from './fixtures.ts';
import { pki } from './pki.ts';

const FIXTURE_LEAF = { C: 'US', ST: 'WA', L: 'Seattle', O: 'Notary', CN: 'Notation Test Root' };

describe('matchesTrustedIdentity', () => {
  it('ng-01/ng-03: the fixture identity matches its leaf; CN=LOL, O=DummyOrg, ST=TG, C=IN does not', () => {
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, FIXTURE_IDENTITY), true);
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, 'x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN'), false);
  });
  it('matches a subset of the subject, with spaces after the prefix and commas', () => {
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, 'x509.subject: C=US, ST=WA, O=Notary'), true);
    assert.equal(
      matchesTrustedIdentity(FIXTURE_LEAF, 'x509.subject: C=US, ST=WA, O=Notary, OU=Build'),
      false,
      'an attribute the leaf lacks',
    );
  });
  it('values are exact; attribute types are case-insensitive and S means ST', () => {
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, 'x509.subject: C=US, S=WA, O=Notary'), true);
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, 'x509.subject: c=US, st=WA, o=Notary'), true);
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, 'x509.subject: C=US, ST=WA, O=notary'), false);
  });
  it('* matches everything, even an empty subject', () => {
    assert.equal(matchesTrustedIdentity({}, '*'), true);
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, '*'), true);
  });
  it('escaped separators and backslashes are part of the value', () => {
    const subject = { C: 'US', ST: 'WA', O: 'Acme, Inc.; Ltd \\ x', CN: ' padded ' };
    assert.equal(matchesTrustedIdentity(subject, 'x509.subject: C=US, ST=WA, O=Acme\\, Inc.\\; Ltd \\\\ x'), true);
    assert.equal(matchesTrustedIdentity(subject, 'x509.subject: C=US, ST=WA, O=Acme\\, Inc.\\; Ltd \\\\ x, CN=\\ padded\\ '), true);
    assert.equal(matchesTrustedIdentity(subject, 'x509.subject: C=US, ST=WA, O=Acme\\2C Inc.\\3B Ltd \\5C x'), true, 'hex escapes');
  });
  it('a malformed entry matches nothing instead of throwing', () => {
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, 'x509.subject: CN=Notation Test Root'), false);
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, 'CN=Notation Test Root, O=Notary, ST=WA, C=US'), false);
  });
  it('accepts a parsed identity as well as a string', () => {
    assert.equal(matchesTrustedIdentity(FIXTURE_LEAF, parseTrustedIdentity(FIXTURE_IDENTITY)), true);
  });
});

describe('parseTrustedIdentity', () => {
  it('parses * and x509.subject entries', () => {
    assert.deepEqual(parseTrustedIdentity(' * '), { kind: 'any' });
    assert.deepEqual(parseTrustedIdentity('x509.subject: C=US, S=WA, O=acme;OU=x'), {
      kind: 'x509.subject',
      attributes: { C: 'US', ST: 'WA', O: 'acme', OU: 'x' },
    });
  });
  const bad: Array<[string, RegExp]> = [
    ['CN=a, C=US, ST=WA, O=x', /must be "\*" or start with "x509\.subject:"/],
    ['x509.subject: CN=a', /must include C, ST \(or S\) and O; missing C, ST, O/],
    ['x509.subject: C=US, O=x', /missing ST/],
    ['x509.subject: C=US, ST=WA, O=x, O=y', /lists O twice/],
    ['x509.subject: C=US, S=WA, ST=WA, O=x', /lists ST twice/],
    ['x509.subject: C=US, ST=WA, O=x+OU=y', /multi-valued RDN/],
    ['x509.subject: C=US, ST=WA, O=x,', /empty RDN/],
    ['x509.subject: C=US, ST=WA, O', /RDN without "=": "O"/],
    ['x509.subject: C=US, ST=WA, O=', /empty value for O/],
    ['x509.subject: C=US, ST=WA, O=x\\', /ends with a lone backslash/],
    ['x509.subject: C=US, ST=WA, O=x, 1bad=y', /invalid attribute type "1bad"/],
  ];
  for (const [identity, pattern] of bad) {
    it(`rejects ${JSON.stringify(identity)} with a TypeError`, () => {
      assert.throws(
        () => parseTrustedIdentity(identity),
        (err: unknown) => err instanceof TypeError && pattern.test(err.message),
      );
    });
  }
  it('a list: * must stand alone, and entries must not be subsets of each other', () => {
    assert.equal(parseTrustedIdentities(['x509.subject: C=US, ST=WA, O=a, OU=1', 'x509.subject: C=US, ST=WA, O=a, OU=2']).length, 2);
    assert.throws(() => parseTrustedIdentities(['*', 'x509.subject: C=US, ST=WA, O=a']), /must be the only entry/);
    assert.throws(() => parseTrustedIdentities(['x509.subject: C=US, ST=WA, O=a, OU=1', 'x509.subject: C=US, ST=WA, O=a']), /overlap/);
  });
});

describe('parseSubjectName (node X509Certificate.subject)', () => {
  it('the fixture leaf', () => {
    const x5c0 = (JSON.parse(read('envelopes/ca_valid_sig_env.json').toString('utf8')) as { header: { x5c: string[] } }).header.x5c[0]!;
    assert.deepEqual(parseSubjectName(new X509Certificate(Buffer.from(x5c0, 'base64')).subject), FIXTURE_LEAF);
  });
  it('escapes, multi-valued RDNs, repeated types and UTF-8 from a real openssl certificate', async () => {
    const p = await pki({
      leaf: { subject: '/C=US/ST=WA/O=Acme\\, Inc.+OU=Build/OU=Ops/CN=a=b \\+ "q" \\\\ back;semi<>/L=Zürich/street=\\#1 ' },
    });
    const subject = new X509Certificate(p.leaf.certPem).subject;
    assert.deepEqual(
      parseSubjectName(subject),
      {
        C: 'US',
        ST: 'WA',
        O: 'Acme, Inc.',
        OU: 'Build+Ops',
        CN: 'a=b + "q" \\ back;semi<>',
        L: 'Zürich',
        street: '#1 ',
      },
      subject,
    );
    assert.equal(matchesTrustedIdentity(parseSubjectName(subject), 'x509.subject: C=US, ST=WA, O=Acme\\, Inc.'), true);
    assert.equal(
      matchesTrustedIdentity(parseSubjectName(subject), 'x509.subject: C=US, ST=WA, O=Acme\\, Inc., OU=Build'),
      false,
      'one of two OUs does not match',
    );
  });
  it('control bytes printed as \\XX hex and escaped edge spaces', () => {
    assert.deepEqual(parseSubjectName('C=US\nO=\\ a\\0Ab\\ \nCN=x \\+ y + OU=z'), { C: 'US', O: ' a\nb ', CN: 'x + y', OU: 'z' });
  });
});
