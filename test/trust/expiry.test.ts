import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { certificateExpiry } from '../../src/trust/expiry.ts';
import type { TrustEntry } from '../../src/trust/types.ts';
import { makeNotationPki } from '../kit/index.ts';
import { PUBLIC_GOOD_JSON } from '../verify/cosign/fixtures.ts';

// When a trust entry's certificates stop vouching for new signatures (`trustgate doctor`, "trust certificates").

const entry = (more: Partial<TrustEntry>): TrustEntry => ({
  id: 'x',
  kind: 'key',
  pem: '',
  scopes: ['**'],
  purposes: ['sign'],
  origin: 'file',
  ...more,
});

describe('certificateExpiry', () => {
  it('a sigstore trusted root › the latest end among its CA chains (public-good: the 2022 CA, until 2031-10-05)', () => {
    assert.deepEqual(certificateExpiry(entry({ kind: 'sigstore-root', trustedRoot: PUBLIC_GOOD_JSON })), {
      notAfter: Date.parse('2031-10-05T13:56:58Z'),
      subject: 'O=sigstore.dev, CN=sigstore',
    });
  });

  it('a notation root, and a sigstore root given as PEM › the certificate’s notAfter', async () => {
    const pki = await makeNotationPki();
    try {
      const end = Date.parse(new X509Certificate(pki.root.certPem).validTo);
      assert.equal(certificateExpiry(entry({ kind: 'notation-root', pem: pki.root.certPem }))?.notAfter, end);
      assert.equal(certificateExpiry(entry({ kind: 'sigstore-root', pem: pki.root.certPem }))?.notAfter, end);
    } finally {
      rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  it('a key, or material that does not parse › none', () => {
    assert.equal(certificateExpiry(entry({ kind: 'key', pem: '-----BEGIN PUBLIC KEY-----' })), undefined);
    assert.equal(certificateExpiry(entry({ kind: 'tsa', pem: 'not a certificate' })), undefined);
  });
});
