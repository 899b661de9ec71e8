import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { holdsPrivateKey } from '../../console/src/private-key.ts';
import { holdsPrivateKeyMaterial } from '../../src/audit/private-key-material.ts';
import { ec, privatePems, rsa, spki } from '../admin/key-material.ts';

// The console refuses a pasted private key before sending it (console/src/private-key.ts): the
// same cases as the server's detector (src/audit/private-key-material.ts), which is checked to agree.
const both = (text: string): [boolean, boolean] => [holdsPrivateKey(text), holdsPrivateKeyMaterial(text)];

describe('console private key detection', () => {
  const pems = privatePems();
  const ed = generateKeyPairSync('ed25519').privateKey;
  const encrypted = ec('P-256').privateKey.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'pw' });

  it('PEM of every private label, and its bare body, in base64, base64url and hex', () => {
    for (const { label, pem, body } of pems) {
      assert.deepEqual(both(pem), [true, true], label);
      assert.deepEqual(both(body), [true, true], `${label} body`);
      const der = Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64');
      assert.deepEqual(both(der.toString('base64url')), [true, true], `${label} base64url`);
      assert.deepEqual(both(der.toString('hex')), [true, true], `${label} hex`);
      assert.deepEqual(both(pem.split('\n').slice(1, -2).join('\n')), [true, true], `${label} body with line breaks`);
    }
    assert.equal(holdsPrivateKey(ed.export({ type: 'pkcs8', format: 'der' }).toString('base64')), true, 'Ed25519 PKCS#8');
    assert.equal(holdsPrivateKey(encrypted.toString('base64')), true, 'encrypted PKCS#8 (PBES2)');
    assert.equal(holdsPrivateKey('-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----'), true);
  });

  it('OpenSSH and PuTTY keys, base64 of a PEM, a JWK with "d"', () => {
    assert.equal(holdsPrivateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----'), true);
    assert.equal(holdsPrivateKey('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'), true, 'the OpenSSH body alone');
    assert.equal(holdsPrivateKey('PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none'), true);
    assert.deepEqual(both(Buffer.from(pems[0]!.pem).toString('base64')), [true, true], 'base64 of a PEM');
    const jwk = JSON.stringify(ec('P-256').privateKey.export({ format: 'jwk' }));
    assert.deepEqual(both(jwk), [true, true]);
    assert.equal(holdsPrivateKey(JSON.stringify(ec('P-256').publicKey.export({ format: 'jwk' }))), false, 'a public JWK');
  });

  it('public keys, certificates-shaped DER, digests and prose pass', () => {
    const publics = [spki(ec('P-256').publicKey), spki(rsa(2048).publicKey), spki(generateKeyPairSync('ed25519').publicKey)];
    for (const pem of publics) {
      assert.deepEqual(both(pem), [false, false]);
      const der = Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64');
      assert.deepEqual(both(der.toString('hex')), [false, false]);
    }
    for (const text of [
      'sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
      'registry.example/team/**',
      'this field holds a private key, in prose',
      'version: 1\nrules:\n  - { name: prod, images: ["registry.example/prod/**"] }\n',
      '',
    ])
      assert.deepEqual(both(text), [false, false], text);
  });
});
