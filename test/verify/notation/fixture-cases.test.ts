// ng-01 … ng-11 of test/fixtures/README.md: real notation-go envelopes (PS384, RSA 3072 leaf).
import assert from 'node:assert/strict';
import { X509Certificate, constants, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { matchesTrustedIdentity, verifyNotationSignature } from '../../../src/verify/notation/index.ts';
import type { SignatureFinding, Subject, TrustMaterial } from '../../../src/verify/types.ts';
import { envelopeBytes, fixture, FIXTURE_IDENTITY, FIXTURE_SUBJECT, STORES } from './fixtures.ts';
import type { FixtureEnvelope } from './fixtures.ts';

const NOW = Date.now(); // the valid envelopes expire in 2120, their certificates in 2122
const run = (name: FixtureEnvelope, trust: TrustMaterial, subject: Subject = FIXTURE_SUBJECT): Promise<SignatureFinding> =>
  verifyNotationSignature(fixture(name), subject, trust, NOW);
const FIXTURE_SIGNER = { C: 'US', ST: 'WA', L: 'Seattle', O: 'Notary', CN: 'Notation Test Root' };

describe('notation-go fixtures', () => {
  it('ng-01: ca_valid against ca:valid-trust-store verifies, and the fixture identity matches', async () => {
    const f = await run('ca_valid', STORES['ca:valid-trust-store']);
    assert.equal(f.failure, undefined);
    assert.deepEqual(f.verifiedBy, ['ca:valid-trust-store/NotationTestRoot.pem']);
    assert.deepEqual(f.signerSubject, FIXTURE_SIGNER);
    assert.equal(f.notAfter, Date.parse('2120-11-09T07:00:00Z'), 'the envelope expiry comes before the certificates end (2122)');
    assert.ok(matchesTrustedIdentity(f.signerSubject!, FIXTURE_IDENTITY));
  });

  it('ng-02: ca_valid against the GlobalSign-only store › authenticity, no chain to a trusted root', async () => {
    const f = await run('ca_valid', STORES['ca:valid-trust-store-2']);
    assert.equal(f.failure?.kind, 'authenticity');
    assert.match(f.failure.message, /no chain to a trusted root/);
    assert.deepEqual(f.verifiedBy, []);
  });

  it('ng-03: ca_valid verifies but the identity CN=LOL, O=DummyOrg, ST=TG, C=IN does not match (policy › authenticity)', async () => {
    const f = await run('ca_valid', STORES['ca:valid-trust-store']);
    assert.equal(f.failure, undefined);
    assert.equal(matchesTrustedIdentity(f.signerSubject!, 'x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN'), false);
  });

  it('ng-04: ca_valid for another digest › digest (README says integrity; see payload.ts), root still reported', async () => {
    const f = await run('ca_valid', STORES['ca:valid-trust-store'], { ...FIXTURE_SUBJECT, digest: `sha256:${'0'.repeat(64)}` });
    assert.equal(f.failure?.kind, 'digest');
    assert.match(f.failure.message, /signature is for sha256:60043cf4.* not sha256:0{64}/);
    assert.deepEqual(f.verifiedBy, ['ca:valid-trust-store/NotationTestRoot.pem']);
  });

  it('ng-05: ca_invalid (payload gained a trailing "=") › integrity', async () => {
    const f = await run('ca_invalid', STORES['ca:valid-trust-store']);
    assert.equal(f.failure?.kind, 'integrity');
    assert.match(f.failure.message, /payload has base64 padding/);
    assert.equal(f.signerSubject, undefined);
  });

  it('ng-06: ca_invalid decoded leniently still fails: PS384 does not verify over the padded signing input', async () => {
    const env = JSON.parse(envelopeBytes('ca_invalid').toString('utf8')) as {
      payload: string;
      protected: string;
      signature: string;
      header: { x5c: string[] };
    };
    assert.ok(env.payload.endsWith('='));
    const leaf = new X509Certificate(Buffer.from(env.header.x5c[0]!, 'base64'));
    const ok = verify(
      'sha384',
      Buffer.from(`${env.protected}.${env.payload}`),
      { key: leaf.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
      Buffer.from(env.signature, 'base64url'),
    );
    assert.equal(ok, false);
    assert.equal((await run('ca_invalid', STORES['ca:valid-trust-store'])).failure?.kind, 'integrity');
  });

  it('ng-07: ca_expired › expiry, though the signature and chain verify', async () => {
    const f = await run('ca_expired', STORES['ca:valid-trust-store']);
    assert.equal(f.failure?.kind, 'expiry');
    assert.equal(f.failure.message, 'signature expired on 2022-07-29T23:59:00Z');
    assert.deepEqual(f.verifiedBy, ['ca:valid-trust-store/NotationTestRoot.pem']);
    assert.equal(f.notAfter, Date.parse('2022-07-29T23:59:00Z'));
  });

  it('ng-08: sa_valid against signingAuthority:valid-trust-store verifies', async () => {
    const f = await run('sa_valid', STORES['signingAuthority:valid-trust-store']);
    assert.equal(f.failure, undefined);
    assert.deepEqual(f.verifiedBy, ['signingAuthority:valid-trust-store/NotationTestRoot.pem']);
    assert.deepEqual(f.signerSubject, FIXTURE_SIGNER);
  });

  it('ng-09: sa_valid against the GlobalSign-only store › authenticity', async () => {
    const f = await run('sa_valid', STORES['ca:valid-trust-store-2']);
    assert.equal(f.failure?.kind, 'authenticity');
    assert.match(f.failure.message, /no chain to a trusted root/);
  });

  it('ng-10: sa_invalid › integrity', async () => {
    assert.equal((await run('sa_invalid', STORES['signingAuthority:valid-trust-store'])).failure?.kind, 'integrity');
  });

  it('ng-11: sa_expired › expiry', async () => {
    const f = await run('sa_expired', STORES['signingAuthority:valid-trust-store']);
    assert.equal(f.failure?.kind, 'expiry');
    assert.equal(f.failure.message, 'signature expired on 2022-07-29T23:59:00Z');
  });
});
