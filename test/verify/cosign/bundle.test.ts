// verifySigstoreBundle on v0.3 bundles built at test time by the independent test signer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { verifySigstoreBundle } from '../../../src/verify/cosign/index.ts';
import type { SignatureFailure, SignatureFinding, SigstoreBundle, TrustedKey } from '../../../src/verify/types.ts';
import { dssePae, makeMessageSignatureBundle, makeSigstoreBundle, signPayload } from '../../kit/index.ts';
import { read, subjectOf, trust } from './fixtures.ts';
import { ACCEPTED, keys } from './keys.ts';
import type { Pair } from './keys.ts';

const subject = subjectOf(read('raw/dir-img-cosign-valid/manifest.json'));
const other = subjectOf(read('raw/dir-img-cosign-modified-manifest/manifest.json'));
const trusted = (id: string, pair: Pair): TrustedKey => ({ id, publicKey: pair.publicKey });
const asBundle = (json: unknown): SigstoreBundle => ({
  scheme: 'sigstore-bundle',
  source: 'referrer sha256:beef',
  bundle: Buffer.from(JSON.stringify(json)),
});
const check = (json: unknown, keyList: TrustedKey[] = [trusted('k', keys.p256)], s = subject): SignatureFinding =>
  verifySigstoreBundle(asBundle(json), s, trust(keyList), Date.now());
const kindOf = (f: SignatureFinding): SignatureFailure | 'valid' => f.failure?.kind ?? 'valid';
type Json = Record<string, any>;
const dsse = (options: Partial<Parameters<typeof makeSigstoreBundle>[0]> = {}): Json =>
  makeSigstoreBundle({ privateKey: keys.p256.privateKey, digest: subject.digest, ...options }) as Json;

describe('DSSE bundles', () => {
  for (const [name, pair, options] of ACCEPTED) {
    test(`${name} › valid`, () => {
      const f = check(makeSigstoreBundle({ privateKey: pair.privateKey, digest: subject.digest, ...options }), [trusted('k', pair)]);
      assert.deepEqual(f, { scheme: 'sigstore-bundle', source: 'referrer sha256:beef', verifiedBy: ['k'] });
    });
  }
  test('both v0.3 media type spellings › valid', () => {
    assert.equal(kindOf(check(dsse({ mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.3' }))), 'valid');
  });
  test('URL-safe unpadded base64 payload and signature › valid', () => {
    const b = dsse();
    const url = (s: string): string => Buffer.from(s, 'base64').toString('base64url');
    b.dsseEnvelope.payload = url(b.dsseEnvelope.payload);
    b.dsseEnvelope.signatures[0].sig = url(b.dsseEnvelope.signatures[0].sig);
    assert.equal(kindOf(check(b)), 'valid');
  });
  test('wrong subject › digest, verifiedBy kept', () => {
    const f = check(dsse(), undefined, other);
    assert.equal(kindOf(f), 'digest');
    assert.deepEqual(f.verifiedBy, ['k']);
    assert.equal(f.failure!.message, 'signed for sha256:634a8f35b5f1… not sha256:d9dcafdb480a…');
  });
  test('a statement with several subjects, one of them ours › valid', () => {
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
      subject: [{ digest: { sha256: other.digest.slice(7) } }, { name: 'x', digest: { sha512: 'ab', sha256: subject.digest.slice(7) } }],
    };
    assert.equal(kindOf(check(dsse({ statement }))), 'valid');
  });
  test('wrong key › crypto', () => assert.equal(kindOf(check(dsse(), [trusted('o', keys.otherP256), trusted('r', keys.rsa)])), 'crypto'));
  test('the hint only orders keys: a wrong hint still verifies; verifiedBy follows the hint', () => {
    const b = dsse();
    b.verificationMaterial.publicKey.hint = 'bm90IGEgaGludA==';
    assert.deepEqual(check(b, [trusted('o', keys.otherP256), trusted('k', keys.p256)]).verifiedBy, ['k']);
    delete b.verificationMaterial.publicKey.hint;
    assert.equal(kindOf(check(b)), 'valid');
    assert.deepEqual(check(dsse(), [trusted('a', keys.p256), trusted('b', keys.p256)]).verifiedBy, ['a', 'b']);
  });
  test('Ed25519ph DSSE signature › unsupported_algorithm', () => {
    const f = check(makeSigstoreBundle({ privateKey: keys.ed25519.privateKey, digest: subject.digest, ed25519ph: true }), [
      trusted('ed', keys.ed25519),
    ]);
    assert.equal(kindOf(f), 'unsupported_algorithm');
  });
  test('a DSSE envelope with two signatures › format (a bundle envelope holds exactly one)', () => {
    const b = dsse();
    b.dsseEnvelope.signatures.unshift({ sig: Buffer.from('junk').toString('base64'), keyid: '' });
    const f = check(b);
    assert.equal(kindOf(f), 'format');
    assert.match(f.failure!.message, /^not a valid sigstore bundle: .*content\.dsseEnvelope\.signatures/);
  });
  test('a malformed log entry (no logId, no kindVersion) › format', () => {
    const b = dsse();
    b.verificationMaterial.tlogEntries = [{ logIndex: '1', canonicalizedBody: 'garbage' }];
    const f = check(b);
    assert.equal(kindOf(f), 'format');
    assert.match(f.failure!.message, /tlogEntries\[0\]\.logId/);
  });
  test('a well-formed log entry and no sigstore root: the key signature counts, logProblems say why the entry does not', () => {
    const b = dsse();
    b.verificationMaterial.tlogEntries = [
      {
        logIndex: '1',
        logId: { keyId: randomBytes(32).toString('base64') },
        kindVersion: { kind: 'dsse', version: '0.0.1' },
        integratedTime: '1700000000',
        inclusionPromise: { signedEntryTimestamp: randomBytes(64).toString('base64') },
        inclusionProof: {
          logIndex: '1',
          rootHash: randomBytes(32).toString('base64'),
          treeSize: '2',
          hashes: [],
          checkpoint: { envelope: 'x' },
        },
        canonicalizedBody: Buffer.from('{}').toString('base64'),
      },
    ];
    const f = check(b);
    assert.equal(kindOf(f), 'valid');
    assert.deepEqual(f.verifiedBy, ['k']);
    assert.equal(f.logEntries, undefined);
    assert.deepEqual(f.logProblems, [{ message: 'it has log entries, but no sigstore root lists a transparency log' }]);
  });
});

describe('bundles that never count', () => {
  test('a certificate and no sigstore root › certificate_untrusted', () => {
    const f = check(dsse({ certificate: randomBytes(300) }));
    assert.equal(kindOf(f), 'certificate_untrusted');
    assert.equal(f.failure!.message, 'certificate signature, and no sigstore root is trusted');
  });
  test('x509CertificateChain (the v0.1/v0.2 keyless form) and no sigstore root › certificate_untrusted', () => {
    const b = dsse({ mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2' });
    b.verificationMaterial = { x509CertificateChain: { certificates: [{ rawBytes: 'AA==' }] }, tlogEntries: [] };
    assert.equal(kindOf(check(b)), 'certificate_untrusted');
  });
  for (const version of ['0.1', '0.2']) {
    test(`version ${version} (key-based, no log entry) › valid; the never-used ".v${version}+json" spelling › format`, () => {
      assert.equal(kindOf(check(dsse({ mediaType: `application/vnd.dev.sigstore.bundle+json;version=${version}` }))), 'valid');
      const f = check(dsse({ mediaType: `application/vnd.dev.sigstore.bundle.v${version}+json` }));
      assert.equal(kindOf(f), 'format');
      assert.equal(
        f.failure!.message,
        `bundle media type "application/vnd.dev.sigstore.bundle.v${version}+json" is not a sigstore bundle v0.1 to v0.3`,
      );
    });
  }
  const statement = (patch: Json): Json => ({
    _type: 'https://in-toto.io/Statement/v1',
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
    subject: [{ digest: { sha256: subject.digest.slice(7) } }],
    ...patch,
  });
  const formats: Array<[string, () => unknown]> = [
    ['unknown media type', () => dsse({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.4+json' })],
    ['no media type', () => ({ ...dsse(), mediaType: undefined })],
    ['no verificationMaterial', () => ({ ...dsse(), verificationMaterial: null })],
    ['no publicKey', () => ({ ...dsse(), verificationMaterial: { tlogEntries: [] } })],
    ['neither dsseEnvelope nor messageSignature', () => ({ ...dsse(), dsseEnvelope: undefined })],
    [
      'both dsseEnvelope and messageSignature',
      () => ({
        ...dsse(),
        messageSignature: (makeMessageSignatureBundle({ privateKey: keys.p256.privateKey, manifest: subject.bytes }) as Json)
          .messageSignature,
      }),
    ],
    ['payloadType not in-toto', () => dsse({ payloadType: 'application/json' })],
    ['statement v0.1', () => dsse({ statement: statement({ _type: 'https://in-toto.io/Statement/v0.1' }) })],
    [
      'another predicateType (an attestation)',
      () => dsse({ statement: statement({ predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1' }) }),
    ],
    [
      'signed payload is not JSON',
      () => {
        const b = dsse();
        const p = Buffer.from('not json');
        b.dsseEnvelope.payload = p.toString('base64');
        b.dsseEnvelope.signatures[0].sig = signPayload(keys.p256.privateKey, dssePae('application/vnd.in-toto+json', p));
        return b;
      },
    ],
    [
      'no signatures',
      () => {
        const b = dsse();
        b.dsseEnvelope.signatures = [];
        return b;
      },
    ],
    [
      '100 signatures',
      () => {
        const b = dsse();
        b.dsseEnvelope.signatures = Array(100).fill(b.dsseEnvelope.signatures[0]);
        return b;
      },
    ],
    [
      'signature not base64',
      () => {
        const b = dsse();
        b.dsseEnvelope.signatures[0].sig = '%%%';
        return b;
      },
    ],
    [
      'payload not base64',
      () => {
        const b = dsse();
        b.dsseEnvelope.payload = 'a b';
        return b;
      },
    ],
    [
      'payload missing',
      () => {
        const b = dsse();
        delete b.dsseEnvelope.payload;
        return b;
      },
    ],
    ['dsseEnvelope a string', () => ({ ...dsse(), dsseEnvelope: 'x' })],
    ['bundle null', () => null],
    ['bundle an array', () => [dsse()]],
  ];
  for (const [name, make] of formats) test(`${name} › format`, () => assert.equal(kindOf(check(make())), 'format'));
  test('statement without subjects › format, verifiedBy kept', () => {
    for (const subjects of [null, [], {}]) {
      const f = check(dsse({ statement: statement({ subject: subjects }) }));
      assert.equal(kindOf(f), 'format');
      assert.deepEqual(f.verifiedBy, ['k']);
    }
  });
  test('subjects that are not objects, or lack our algorithm › digest', () => {
    assert.equal(
      kindOf(check(dsse({ statement: statement({ subject: [null, 'x', { digest: { sha512: subject.digest.slice(7) } }] }) }))),
      'digest',
    );
  });
  test('bytes that are not JSON (garbage, empty, BOM, truncated, 4 MiB) › format, no throw', () => {
    const good = JSON.stringify(dsse());
    for (const bytes of [
      randomBytes(1000),
      Buffer.alloc(0),
      Buffer.from(`\ufeff${good}`),
      Buffer.from(good.slice(0, -1)),
      Buffer.alloc(4 << 20, 0x5b),
    ]) {
      assert.equal(
        kindOf(
          verifySigstoreBundle(
            { scheme: 'sigstore-bundle', source: 's', bundle: bytes },
            subject,
            trust([trusted('k', keys.p256)]),
            Date.now(),
          ),
        ),
        'format',
      );
    }
  });
});

describe('messageSignature bundles', () => {
  const message = (pair: Pair = keys.p256, manifest = subject.bytes, options = {}): Json =>
    makeMessageSignatureBundle({ privateKey: pair.privateKey, manifest, ...options }) as Json;
  test('signature over the manifest bytes › valid', () => {
    assert.deepEqual(check(message()).verifiedBy, ['k']);
    assert.equal(kindOf(check(message(keys.rsa, subject.bytes, { rsaPadding: 'pss' }), [trusted('r', keys.rsa)])), 'valid');
  });
  test('made for another manifest › digest', () => {
    const f = check(message(keys.p256, other.bytes));
    assert.equal(kindOf(f), 'digest');
    assert.match(f.failure!.message, /^signed for sha256:d9dcafdb480a… not sha256:634a8f35b5f1…$/);
  });
  test('digest claims our manifest, signature is over other bytes › crypto', () => {
    const b = message();
    b.messageSignature.signature = signPayload(keys.p256.privateKey, other.bytes);
    assert.equal(kindOf(check(b)), 'crypto');
  });
  test('wrong key › crypto; Ed25519ph › unsupported_algorithm; certificate with no sigstore root › certificate_untrusted', () => {
    assert.equal(kindOf(check(message(), [trusted('o', keys.otherP256)])), 'crypto');
    assert.equal(
      kindOf(check(message(keys.ed25519, subject.bytes, { ed25519ph: true }), [trusted('ed', keys.ed25519)])),
      'unsupported_algorithm',
    );
    assert.equal(kindOf(check(message(keys.p256, subject.bytes, { certificate: randomBytes(10) }))), 'certificate_untrusted');
  });
  const formats: Array<[string, (b: Json) => void]> = [
    [
      'algorithm SHA2_512',
      (b) => {
        b.messageSignature.messageDigest.algorithm = 'SHA2_512';
      },
    ],
    [
      'no messageDigest',
      (b) => {
        delete b.messageSignature.messageDigest;
      },
    ],
    [
      'digest not 32 bytes',
      (b) => {
        b.messageSignature.messageDigest.digest = 'AAAA';
      },
    ],
    [
      'signature missing',
      (b) => {
        delete b.messageSignature.signature;
      },
    ],
    [
      'signature empty',
      (b) => {
        b.messageSignature.signature = '';
      },
    ],
    [
      'messageSignature an array',
      (b) => {
        b.messageSignature = [];
      },
    ],
  ];
  for (const [name, patch] of formats)
    test(`${name} › format`, () => {
      const b = message();
      patch(b);
      assert.equal(kindOf(check(b)), 'format');
    });
});
