// Envelope expiry and certificate validity: now under notary.x509, authenticSigningTime under
// notary.x509.signingAuthority (trust-store-trust-policy.md "Validate Expiry", "Validate Trusted Timestamp").
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { verifyNotationSignature } from '../../../src/verify/notation/index.ts';
import type { NotationPki } from '../../kit/notation-pki.ts';
import { jws } from './fixtures.ts';
import { DAY, NOW, pki, sign, SUBJECT, trustRoot } from './pki.ts';

const SA = 'notary.x509.signingAuthority' as const;
const validTo = (pem: string): number => Date.parse(new X509Certificate(pem).validTo);

describe('notation time checks', () => {
  let p: NotationPki; // leaf valid 2 days, root 30 days
  before(async () => {
    p = await pki({ leaf: { days: 2 } });
  });
  const run = (envelope: Buffer, now: number) => verifyNotationSignature(jws(envelope), SUBJECT, trustRoot(p), now);

  it('notary.x509: valid now; notAfter is the leaf expiry, the earliest in the chain', async () => {
    const f = await run(sign(p, 'ES256'), NOW);
    assert.equal(f.failure, undefined);
    assert.equal(f.notAfter, validTo(p.leaf.certPem));
  });

  it('notary.x509 with an expired leaf › expiry naming the certificate', async () => {
    const f = await run(sign(p, 'ES256'), NOW + 5 * DAY);
    assert.equal(f.failure?.kind, 'expiry');
    assert.match(f.failure.message, /^certificate x5c\[0\] \(.*CN=Notation Test Signer\) expired on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(f.verifiedBy, ['ca:test'], 'the chain itself is anchored');
  });

  it('notary.x509 before the leaf is valid › expiry (not valid until)', async () => {
    const f = await run(sign(p, 'ES256'), NOW - 2 * DAY);
    assert.equal(f.failure?.kind, 'expiry');
    assert.match(f.failure.message, /is not valid until/);
  });

  it('an envelope expiry at or before now › expiry "signature expired on …"; just after › valid', async () => {
    const expiry = new Date(Math.floor(NOW / 1000) * 1000 + DAY);
    const env = sign(p, 'ES256', { expiry });
    const at = await run(env, expiry.getTime());
    assert.equal(at.failure?.kind, 'expiry');
    assert.equal(at.failure.message, `signature expired on ${expiry.toISOString().replace('.000', '')}`);
    assert.equal((await run(env, expiry.getTime() - 1000)).failure, undefined);
    assert.equal((await run(env, expiry.getTime() - 1000)).notAfter, expiry.getTime(), 'notAfter = min(expiry, leaf notAfter)');
  });

  it('signingAuthority with authenticSigningTime inside the validity verifies even after the leaf expired', async () => {
    const f = await run(sign(p, 'ES256', { scheme: SA, signingTime: new Date(NOW) }), NOW + 5 * DAY);
    assert.equal(f.failure, undefined, f.failure?.message);
    assert.equal(f.notAfter, undefined, 'certificate expiry does not end a signingAuthority signature');
  });

  it('signingAuthority notAfter is the envelope expiry alone', async () => {
    const expiry = new Date(NOW + 100 * DAY);
    const f = await run(sign(p, 'ES256', { scheme: SA, signingTime: new Date(NOW), expiry }), NOW);
    assert.equal(f.failure, undefined);
    assert.equal(f.notAfter, Math.floor(expiry.getTime() / 1000) * 1000);
  });

  it('signingAuthority with authenticSigningTime after the leaf expired › expiry at the signing time', async () => {
    const f = await run(sign(p, 'ES256', { scheme: SA, signingTime: new Date(NOW + 5 * DAY) }), NOW);
    assert.equal(f.failure?.kind, 'expiry');
    assert.match(f.failure.message, /x5c\[0\] .* expired on .* at the authentic signing time/);
  });

  it('signingAuthority with authenticSigningTime before the chain existed › expiry', async () => {
    const f = await run(sign(p, 'ES256', { scheme: SA, signingTime: new Date(NOW - 3 * DAY) }), NOW);
    assert.equal(f.failure?.kind, 'expiry');
    assert.match(f.failure.message, /is not valid until .* at the authentic signing time/);
  });
});
