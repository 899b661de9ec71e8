// RFC 3161 countersignatures under notary.x509 (trust-store-trust-policy.md "Validate Trusted Timestamp"):
// a verified timestamp moves the certificate check from now to the timestamp's time window.
//
// The mock TSA (@sigstore/mock) dates its certificates from the moment it is created, so the story is
// told ahead of the wall clock: the verifier is asked at TODAY, two days ahead, and the signing
// certificate was valid YESTERDAY for an hour, during which the signature was made and timestamped.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { verifyNotationSignature } from '../../../src/verify/notation/index.ts';
import type { TrustMaterial } from '../../../src/verify/types.ts';
import { opensslTimestampToken, TSA_LEAF_EXTENSIONS } from '../../kit/notation-pki.ts';
import type { NotationPki } from '../../kit/notation-pki.ts';
import { attachTimestamp, makeNotationTsa, notationSignatureBytes, rfc3339, timestampNotation } from '../../kit/notation-sign.ts';
import type { NotationTsa } from '../../kit/notation-sign.ts';
import { jws } from './fixtures.ts';
import { DAY, NOW, pki, sign, SUBJECT, trustRoot } from './pki.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TODAY = Math.ceil(NOW / 1000) * 1000 + 2 * DAY;
const CERT_FROM = TODAY - DAY;
const CERT_TO = CERT_FROM + HOUR;
const SIGNED_AT = CERT_FROM + 30 * MINUTE;

const iso = (ms: number): string => rfc3339(new Date(ms));
const tsaRoot = (tsa: NotationTsa, id = 'tsa:mock') => ({ id, certificate: new X509Certificate(tsa.rootPem) });

describe('notation RFC 3161 timestamps', () => {
  let p: NotationPki; // root valid 30 days from the wall clock; leaf valid [CERT_FROM, CERT_TO]
  let tsa: NotationTsa; // genTime SIGNED_AT
  let unsigned: Buffer; // signed at SIGNED_AT, no timestamp
  let stamped: Buffer;
  let trust: TrustMaterial;
  before(async () => {
    p = await pki({ leaf: { notBefore: new Date(CERT_FROM), notAfter: new Date(CERT_TO) } });
    tsa = await makeNotationTsa(new Date(SIGNED_AT));
    unsigned = sign(p, 'ES256', { signingTime: new Date(SIGNED_AT) });
    stamped = await timestampNotation(unsigned, tsa);
    trust = { ...trustRoot(p), tsaRoots: [tsaRoot(tsa)] };
  });
  const run = (envelope: Buffer, t: TrustMaterial = trust, now = TODAY) => verifyNotationSignature(jws(envelope), SUBJECT, t, now);

  it('a timestamped signature whose certificate has since expired is valid, checked at the timestamp', async () => {
    const f = await run(stamped);
    assert.equal(f.failure, undefined, f.failure?.message);
    assert.deepEqual(f.verifiedBy, ['ca:test']);
    assert.deepEqual(f.timestamp, { authority: 'tsa:mock', at: SIGNED_AT });
    assert.equal(
      f.notAfter,
      undefined,
      "no certificate's expiry ends a timestamped signature (the root's trust entry still can, in policy)",
    );
  });

  it('the same signature without its timestamp › expiry, the certificate checked now', async () => {
    const f = await run(unsigned);
    assert.equal(f.failure?.kind, 'expiry');
    assert.match(f.failure.message, new RegExp(`^certificate x5c\\[0\\] \\(.*CN=Notation Test Signer\\) expired on ${iso(CERT_TO)}$`));
    assert.equal(f.timestamp, undefined);
    assert.equal(f.notAfter, CERT_TO);
  });

  it('a timestamp over another signature › timestamp_invalid', async () => {
    const other = sign(p, 'ES256', { signingTime: new Date(SIGNED_AT + MINUTE) });
    const f = await run(await timestampNotation(unsigned, tsa, { over: notationSignatureBytes(other) }));
    assert.equal(f.failure?.kind, 'timestamp_invalid');
    assert.equal(
      f.failure.message,
      'timestamp: the message imprint is not the SHA256 hash of this signature: the token timestamps other data',
    );
    assert.equal(f.timestamp, undefined);
  });

  it('a timestamp from a TSA whose root is not in tsaRoots › timestamp_invalid', async () => {
    const stranger = await makeNotationTsa(new Date(SIGNED_AT));
    const f = await run(await timestampNotation(unsigned, stranger));
    assert.equal(f.failure?.kind, 'timestamp_invalid');
    assert.match(
      f.failure.message,
      /^timestamp: the TSA certificate \(CN=tsa signing, O=sigstore\.mock\) does not chain to a trust-store TSA root$/,
    );
    assert.deepEqual(f.verifiedBy, ['ca:test'], 'the signing chain itself is anchored');
  });

  it('no TSA roots in the trust store: the timestamp is set aside and the certificate is checked now (valid now › valid; expired › expiry)', async () => {
    const valid = await run(stamped, trustRoot(p), SIGNED_AT + MINUTE);
    assert.equal(valid.failure, undefined);
    assert.equal(valid.timestamp, undefined);
    const expired = await run(stamped, trustRoot(p), CERT_TO + HOUR);
    assert.equal(expired.failure?.kind, 'expiry');
  });

  it('genTime after the signing certificate expired › expiry at the timestamp', async () => {
    const late = await makeNotationTsa(new Date(CERT_TO + HOUR));
    const f = await run(await timestampNotation(unsigned, late), { ...trust, tsaRoots: [tsaRoot(late)] });
    assert.equal(f.failure?.kind, 'expiry');
    assert.match(f.failure.message, new RegExp(`x5c\\[0\\] .* expired on ${iso(CERT_TO)} at the timestamp ${iso(CERT_TO + HOUR)} ± 1s$`));
    assert.deepEqual(f.timestamp, { authority: 'tsa:mock', at: CERT_TO + HOUR }, 'the timestamp itself verified');
  });

  it('genTime before the signing certificate was valid › expiry (not valid until) at the timestamp', async () => {
    const early = await makeNotationTsa(new Date(CERT_FROM - MINUTE));
    const f = await run(await timestampNotation(unsigned, early), { ...trust, tsaRoots: [tsaRoot(early)] });
    assert.equal(f.failure?.kind, 'expiry');
    assert.match(
      f.failure.message,
      new RegExp(`x5c\\[0\\] .* is not valid until ${iso(CERT_FROM)} at the timestamp ${iso(CERT_FROM - MINUTE)} ± 1s$`),
    );
  });

  it('the whole accuracy window must fall inside the validity: genTime on notAfter is refused, a second earlier is valid', async () => {
    for (const [at, ok] of [
      [CERT_TO, false],
      [CERT_TO - 1000, true],
    ] as const) {
      const edge = await makeNotationTsa(new Date(at));
      const f = await run(await timestampNotation(unsigned, edge), { ...trust, tsaRoots: [tsaRoot(edge)] });
      assert.equal(f.failure?.kind, ok ? undefined : 'expiry', `genTime ${iso(at)}: ${f.failure?.message}`);
    }
  });

  it('an envelope expiry in the past still refuses a timestamped signature', async () => {
    const expiry = new Date(SIGNED_AT + 10 * MINUTE);
    const f = await run(await timestampNotation(sign(p, 'ES256', { signingTime: new Date(SIGNED_AT), expiry }), tsa));
    assert.equal(f.failure?.kind, 'expiry');
    assert.equal(f.failure.message, `signature expired on ${iso(expiry.getTime())}`);
    assert.equal(f.notAfter, expiry.getTime());
  });

  it('a tampered token (a byte of its signature flipped) › timestamp_invalid', async () => {
    const token = await tsa.token(notationSignatureBytes(unsigned));
    token[token.length - 1]! ^= 0x01; // the SignerInfo's signature is the token's last field
    const f = await run(attachTimestamp(unsigned, token));
    assert.equal(f.failure?.kind, 'timestamp_invalid');
    assert.equal(f.failure.message, "timestamp: the TSA's signature does not verify with its certificate's key");
  });

  it('a tampered TSTInfo (genTime moved) › timestamp_invalid: the signed digest no longer matches', async () => {
    const token = await tsa.token(notationSignatureBytes(unsigned));
    const genTime = Buffer.from(iso(SIGNED_AT).replace(/[-:T]/g, ''), 'latin1');
    const at = token.indexOf(genTime);
    assert.ok(at > 0, 'genTime found in the token');
    token[at + 3] = token[at + 3]! - 1; // a decade earlier
    const f = await run(attachTimestamp(unsigned, token));
    assert.equal(f.failure?.kind, 'timestamp_invalid');
    assert.equal(f.failure.message, 'timestamp: the signed messageDigest attribute does not match the TSTInfo');
  });

  it('a TSA certificate outside its validity at genTime › timestamp_invalid', async () => {
    // The mock's certificates start when it is made: a genTime a day earlier predates them.
    const before = await makeNotationTsa(new Date(Date.now() - DAY));
    const f = await run(await timestampNotation(unsigned, before), { ...trust, tsaRoots: [tsaRoot(before)] });
    assert.equal(f.failure?.kind, 'timestamp_invalid');
    assert.match(
      f.failure.message,
      /^timestamp: TSA chain\[0\] \(CN=tsa signing, O=sigstore\.mock\) is not valid until .*, after the timestamp/,
    );
  });

  it('a token without the TSA certificate › timestamp_invalid', async () => {
    const f = await run(await timestampNotation(unsigned, tsa, { certReq: false }));
    assert.equal(f.failure?.kind, 'timestamp_invalid');
    assert.match(f.failure.message, /^timestamp: the token carries no certificate for its signer \(serial 02\)/);
  });

  it('SHA-384 and SHA-512 imprints verify', async () => {
    for (const hash of ['sha384', 'sha512'] as const) {
      const f = await run(await timestampNotation(unsigned, tsa, { hash }));
      assert.equal(f.failure, undefined, `${hash}: ${f.failure?.message}`);
      assert.equal(f.timestamp?.at, SIGNED_AT);
    }
  });

  it('a trust-store TSA entry may be the TSA certificate itself; the first matching entry is the authority', async () => {
    const pinned = { id: 'tsa:pinned', certificate: new X509Certificate(tsa.leafPem) };
    const f = await run(stamped, { ...trust, tsaRoots: [pinned, tsaRoot(tsa)] });
    assert.equal(f.failure, undefined, f.failure?.message);
    assert.equal(f.timestamp?.authority, 'tsa:pinned');
  });

  it('a genTime with milliseconds is read to the millisecond', async () => {
    const precise = await makeNotationTsa(new Date(SIGNED_AT + 672));
    const f = await run(await timestampNotation(unsigned, precise), { ...trust, tsaRoots: [tsaRoot(precise, 'tsa:precise')] });
    assert.equal(f.failure, undefined, f.failure?.message);
    assert.deepEqual(f.timestamp, { authority: 'tsa:precise', at: SIGNED_AT + 672 });
  });

  it('a genTime after the verification time › timestamp_invalid', async () => {
    const f = await run(stamped, trust, SIGNED_AT - HOUR);
    assert.equal(f.failure?.kind, 'timestamp_invalid');
    assert.equal(
      f.failure.message,
      `timestamp: the timestamp ${iso(SIGNED_AT)} ± 1s is after the verification time ${iso(SIGNED_AT - HOUR)}`,
    );
  });

  it('a header value that is not a DER TimeStampToken › timestamp_invalid', async () => {
    const notBase64 = JSON.parse(unsigned.toString('utf8')) as { header: Record<string, unknown> };
    notBase64.header['io.cncf.notary.timestampSignature'] = 'not base64!';
    const a = await run(Buffer.from(JSON.stringify(notBase64)));
    assert.equal(a.failure?.kind, 'timestamp_invalid');
    assert.equal(a.failure.message, 'timestamp: header io.cncf.notary.timestampSignature is not a standard base64 string');
    const b = await run(attachTimestamp(unsigned, Buffer.from('30030201ff', 'hex')));
    assert.equal(b.failure?.kind, 'timestamp_invalid');
    assert.match(b.failure.message, /^timestamp: /);
  });

  it('signingAuthority signatures are judged at authenticSigningTime; a timestamp is not read', async () => {
    const sa = sign(p, 'ES256', { scheme: 'notary.x509.signingAuthority', signingTime: new Date(SIGNED_AT) });
    const f = await run(attachTimestamp(sa, Buffer.from('garbage')));
    assert.equal(f.failure, undefined, f.failure?.message);
    assert.equal(f.timestamp, undefined);
  });
});

describe('notation timestamps from an OpenSSL TSA (RSA, root → intermediate → TSA)', () => {
  // Dated a day back: openssl stamps the wall clock, and the ±1s window must sit inside both chains.
  const since = new Date(Math.floor((Date.now() - DAY) / 1000) * 1000);
  const tsaSpec = (extensions: readonly string[] = TSA_LEAF_EXTENSIONS) => ({
    root: { notBefore: since },
    intermediate: { notBefore: since },
    leaf: { key: 'rsa-2048' as const, subject: '/O=trustgate-test/CN=OpenSSL TSA', notBefore: since, extensions },
  });
  let p: NotationPki; // signing PKI, also dated a day back
  let tsaPki: NotationPki;
  let unsigned: Buffer;
  let trust: TrustMaterial;
  before(async () => {
    [p, tsaPki] = await Promise.all([pki({ root: { notBefore: since }, leaf: { notBefore: since } }), pki(tsaSpec())]);
    unsigned = sign(p, 'ES256');
    trust = { ...trustRoot(p), tsaRoots: [{ id: 'tsa:openssl', certificate: new X509Certificate(tsaPki.root.certPem) }] };
  });
  const run = (token: Buffer, t: TrustMaterial = trust) => verifyNotationSignature(jws(attachTimestamp(unsigned, token)), SUBJECT, t, NOW);

  for (const [essCertIdAlg, hash] of [
    ['sha1', 'sha256'],
    ['sha256', 'sha384'],
  ] as const) {
    it(`an RSA token with signingCertificate${essCertIdAlg === 'sha1' ? '' : 'V2'} and a ${hash} imprint verifies through the token's intermediate`, async () => {
      const f = await run(await opensslTimestampToken(tsaPki, notationSignatureBytes(unsigned), { hash, essCertIdAlg }));
      assert.equal(f.failure, undefined, f.failure?.message);
      assert.equal(f.timestamp?.authority, 'tsa:openssl');
      assert.ok(Math.abs(f.timestamp.at - Date.now()) < 60_000, 'genTime is the wall clock');
    });
  }

  it('a trust-store intermediate may anchor the TSA chain', async () => {
    const pinned = [{ id: 'tsa:intermediate', certificate: new X509Certificate(tsaPki.intermediate!.certPem) }];
    const f = await run(await opensslTimestampToken(tsaPki, notationSignatureBytes(unsigned)), { ...trust, tsaRoots: pinned });
    assert.equal(f.failure, undefined, f.failure?.message);
    assert.equal(f.timestamp?.authority, 'tsa:intermediate');
  });

  it('a TSA certificate breaking the timestamping rules › timestamp_invalid naming the rule', async () => {
    // OpenSSL signs with keyUsage nonRepudiation alone; RFC 3161 TSA certificates here must have digitalSignature.
    const ku = TSA_LEAF_EXTENSIONS.map((e) => (e.startsWith('keyUsage') ? 'keyUsage = critical,nonRepudiation' : e));
    const odd = await pki(tsaSpec(ku));
    const f = await run(await opensslTimestampToken(odd, notationSignatureBytes(unsigned)), {
      ...trust,
      tsaRoots: [{ id: 'tsa:odd', certificate: new X509Certificate(odd.root.certPem) }],
    });
    assert.equal(f.failure?.kind, 'timestamp_invalid');
    assert.equal(
      f.failure.message,
      "timestamp: TSA chain[0] (O=trustgate-test, CN=OpenSSL TSA): the TSA certificate's keyUsage must include digitalSignature",
    );
  });
});
