// Envelope shape, protected-header rules and hostile input: every input yields a finding, none throws.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { verifyNotationSignature } from '../../../src/verify/notation/index.ts';
import type { SignatureFailure, SignatureFinding } from '../../../src/verify/types.ts';
import type { NotationPki } from '../../kit/notation-pki.ts';
import type { SignNotationOptions } from '../../kit/notation-sign.ts';
import { envelopeBytes, FIXTURE_SUBJECT, jws, STORES } from './fixtures.ts';
import { NOW, pki, sign, SUBJECT, trustRoot } from './pki.ts';

const H = 'io.cncf.notary.';
const SA = 'notary.x509.signingAuthority';
const bytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const valid = (): Record<string, unknown> => JSON.parse(envelopeBytes('ca_valid').toString('utf8')) as Record<string, unknown>;
const onFixture = (envelope: Buffer, mediaType?: string): Promise<SignatureFinding> =>
  verifyNotationSignature(jws(envelope, 'test', mediaType), FIXTURE_SUBJECT, STORES['ca:valid-trust-store'], NOW);

function expect(f: SignatureFinding, kind: SignatureFailure, pattern: RegExp): void {
  assert.equal(f.failure?.kind, kind, f.failure?.message);
  assert.match(f.failure.message, pattern);
}

describe('notation envelope media types', () => {
  it('COSE (application/cose) › unsupported_algorithm, saying only JWS is supported', async () => {
    expect(await onFixture(Buffer.from([0xd2, 0x84]), 'application/cose'), 'unsupported_algorithm', /COSE .* not supported; only JWS/);
  });
  it('any other media type › format', async () => {
    expect(await onFixture(envelopeBytes('ca_valid'), 'application/json'), 'format', /not a Notary Project envelope media type/);
  });
});

describe('notation envelope structure › integrity', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['non-JSON', Buffer.from('not json {'), /not UTF-8 JSON/],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /not UTF-8 JSON/],
    ['a JSON array', bytes([valid()]), /not a JSON object/],
    ['JSON null', bytes(null), /not a JSON object/],
    [
      'an extra top-level member',
      bytes({ ...valid(), signatures: [] }),
      /members must be exactly header, payload, protected, signature; got header, payload, protected, signature, signatures/,
    ],
    ['a missing member', bytes({ ...valid(), header: undefined }), /got payload, protected, signature/],
    ['a header that is not an object', bytes({ ...valid(), header: 'x' }), /header must be a JSON object/],
    ['a missing x5c', bytes({ ...valid(), header: {} }), /x5c must be a non-empty array/],
    ['an empty x5c', bytes({ ...valid(), header: { x5c: [] } }), /x5c must be a non-empty array/],
    [
      'x5c in base64url',
      bytes({ ...valid(), header: { x5c: [Buffer.from(randomBytes(300)).toString('base64url') + '-_'] } }),
      /x5c\[0\] is not standard base64/,
    ],
    [
      'x5c that is not a certificate',
      bytes({ ...valid(), header: { x5c: [Buffer.from('hello world!').toString('base64')] } }),
      /x5c\[0\] is not a DER X\.509 certificate/,
    ],
    [
      'x5c holding PEM text',
      bytes({ ...valid(), header: { x5c: [Buffer.from(pemOf(valid())).toString('base64')] } }),
      /x5c\[0\] is not a DER X\.509 certificate/,
    ],
    ['a 4n+1-long payload', bytes({ ...valid(), payload: 'abcde' }), /payload is not base64url/],
    ['a standard-base64 signature', bytes({ ...valid(), signature: 'ab+/' }), /signature is not base64url/],
    ['an empty signature', bytes({ ...valid(), signature: '' }), /signature must be a non-empty base64url string/],
    [
      'a protected header that is not JSON',
      bytes({ ...valid(), protected: Buffer.from('{"alg"').toString('base64url') }),
      /protected header is not UTF-8 JSON/,
    ],
    [
      'an unprotected header repeating a protected one',
      bytes({ ...valid(), header: { ...(valid().header as object), alg: 'PS384' } }),
      /JWS rejected: .*must be disjoint/,
    ],
  ];
  for (const [name, envelope, pattern] of cases) {
    it(name, async () => expect(await onFixture(envelope), 'integrity', pattern));
  }

  it('10 MB of junk is refused by size, without parsing', async () => {
    expect(await onFixture(randomBytes(10 * 1024 * 1024)), 'integrity', /over the 1048576-byte limit/);
  });
  it('a deeply nested JSON envelope under the limit', async () => {
    expect(await onFixture(Buffer.from('['.repeat(500_000) + ']'.repeat(500_000))), 'integrity', /not UTF-8 JSON|not a JSON object/);
  });
});

function pemOf(envelope: Record<string, unknown>): string {
  const der = (envelope.header as { x5c: string[] }).x5c[0]!;
  return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

describe('notation protected header rules (properly signed envelopes)', () => {
  let p: NotationPki;
  before(async () => {
    p = await pki();
  });
  const run = (extra: Partial<SignNotationOptions>) => verifyNotationSignature(jws(sign(p, 'ES256', extra)), SUBJECT, trustRoot(p), NOW);
  const crit = (...names: string[]) => ({ crit: names.map((n) => H + n) });

  it('the kit envelope passes as made', async () => assert.equal((await run({})).failure, undefined));
  it('a verificationPlugin header › unsupported_algorithm: trustgate runs no plugins', async () =>
    expect(
      await run({ extraProtected: { [`${H}verificationPlugin`]: 'com.example.plugin', ...crit('signingScheme', 'verificationPlugin') } }),
      'unsupported_algorithm',
      /names io\.cncf\.notary\.verificationPlugin "com\.example\.plugin"; trustgate runs no verification plugins/,
    ));
  it('a verificationPluginMinVersion header alone › unsupported_algorithm', async () =>
    expect(
      await run({ extraProtected: { [`${H}verificationPluginMinVersion`]: '1.0.0' } }),
      'unsupported_algorithm',
      /verificationPluginMinVersion/,
    ));
  it('an unknown critical header › unsupported_algorithm', async () =>
    expect(
      await run({ extraProtected: { 'com.example.x': 1, crit: [`${H}signingScheme`, 'com.example.x'] } }),
      'unsupported_algorithm',
      /critical header com\.example\.x is not supported/,
    ));
  it('an unknown non-critical header is ignored', async () =>
    assert.equal((await run({ extraProtected: { 'com.example.note': 'hi' } })).failure, undefined));

  const integrity: Array<[string, Partial<SignNotationOptions>, RegExp]> = [
    [
      'cty of another payload type',
      { extraProtected: { cty: 'application/json' } },
      /cty "application\/json" is not application\/vnd\.cncf\.notary\.payload\.v1\+json/,
    ],
    ['no crit', { extraProtected: { crit: undefined } }, /crit must be a non-empty array/],
    [
      'crit without signingScheme',
      { expiry: new Date(NOW + 1e9), extraProtected: crit('expiry') },
      /crit must list io\.cncf\.notary\.signingScheme/,
    ],
    [
      'crit naming an absent header',
      { extraProtected: crit('signingScheme', 'expiry') },
      /crit lists io\.cncf\.notary\.expiry, which is not in the protected header/,
    ],
    ['crit naming a header twice', { extraProtected: crit('signingScheme', 'signingScheme') }, /crit lists a header twice/],
    [
      'expiry not in crit',
      { expiry: new Date(NOW + 1e9), extraProtected: crit('signingScheme') },
      /io\.cncf\.notary\.expiry is present but not listed in crit/,
    ],
    [
      'an unknown signing scheme',
      { extraProtected: { [`${H}signingScheme`]: 'notary.x509.v2' } },
      /signing scheme "notary\.x509\.v2" is not/,
    ],
    [
      'notary.x509 without signingTime',
      { extraProtected: { [`${H}signingTime`]: undefined } },
      /signingTime is required under notary\.x509/,
    ],
    [
      'notary.x509 with authenticSigningTime',
      { extraProtected: { [`${H}authenticSigningTime`]: '2024-01-01T00:00:00Z' } },
      /authenticSigningTime is not allowed under notary\.x509/,
    ],
    [
      'signingAuthority without authenticSigningTime',
      { scheme: SA, extraProtected: { [`${H}authenticSigningTime`]: undefined, ...crit('signingScheme') } },
      /authenticSigningTime is required/,
    ],
    [
      'signingAuthority with authenticSigningTime not critical',
      { scheme: SA, extraProtected: crit('signingScheme') },
      /authenticSigningTime must be listed in crit/,
    ],
    [
      'signingAuthority with signingTime',
      { scheme: SA, extraProtected: { [`${H}signingTime`]: '2024-01-01T00:00:00Z' } },
      /signingTime is not allowed under notary\.x509\.signingAuthority/,
    ],
    [
      'a signingTime that is not RFC 3339',
      { extraProtected: { [`${H}signingTime`]: 'yesterday' } },
      /signingTime "yesterday" is not an RFC 3339 time/,
    ],
    ['an impossible date', { extraProtected: { [`${H}signingTime`]: '2022-02-30T00:00:00Z' } }, /not an RFC 3339 time/],
    [
      'an expiry that is a number',
      { expiry: new Date(NOW), extraProtected: { [`${H}expiry`]: 1700000000 } },
      /expiry 1700000000 is not an RFC 3339 time/,
    ],
  ];
  for (const [name, extra, pattern] of integrity) {
    it(`${name} › integrity`, async () => expect(await run(extra), 'integrity', pattern));
  }

  it('RFC 3339 offsets and fractional seconds are accepted for expiry', async () => {
    const f = await run({ expiry: new Date(NOW + 1e9), extraProtected: { [`${H}expiry`]: '2120-01-01T09:00:00.5+09:00' } });
    assert.equal(f.failure, undefined, f.failure?.message);
    assert.ok((f.notAfter ?? 0) <= Date.parse('2120-01-01T00:00:00.5Z'));
  });
});

describe('notation verifier never throws', () => {
  const never = async (envelope: Buffer, mediaType?: string): Promise<void> => {
    const f = await onFixture(envelope, mediaType);
    assert.equal(f.scheme, 'notation');
    assert.ok(Array.isArray(f.verifiedBy));
  };
  it('on arbitrary bytes and media types', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2048 }),
        fc.constantFrom('application/jose+json', 'application/cose', ''),
        async (b, mt) => never(Buffer.from(b), mt),
      ),
      { numRuns: 200 },
    );
  });
  it('on arbitrary JSON in the four members', async () => {
    const member = fc.oneof(fc.jsonValue(), fc.base64String(), fc.string());
    await fc.assert(
      fc.asyncProperty(member, member, member, member, async (payload, prot, header, signature) =>
        never(bytes({ payload, protected: prot, header, signature })),
      ),
      { numRuns: 200 },
    );
  });
  it('on protected headers of arbitrary JSON around a real signature', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('alg', 'cty', 'crit', `${H}signingScheme`, `${H}signingTime`, `${H}expiry`, `${H}authenticSigningTime`, 'x'),
          fc.jsonValue(),
        ),
        async (h) => never(bytes({ ...valid(), protected: Buffer.from(JSON.stringify(h)).toString('base64url') })),
      ),
      { numRuns: 200 },
    );
  });
  it('on single-byte corruptions of a valid envelope', async () => {
    const good = envelopeBytes('ca_valid');
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const b = Buffer.from(good);
        b[at]! ^= x;
        await never(b);
      }),
      { numRuns: 300 },
    );
  });
});
