// verifyWithKey: cosign's key/hash table (docs/wire-formats.md "Signature bytes and keys") and exact Ed25519ph recognition.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { verifyWithKey } from '../../../src/verify/cosign/index.ts';
import { signPayload } from '../../kit/index.ts';
import { ACCEPTED, REJECTED, keys } from './keys.ts';

const data = Buffer.from('{"critical":{}}');
const sig = (...args: Parameters<typeof signPayload>): Buffer => Buffer.from(signPayload(...args), 'base64');

describe('verifyWithKey', () => {
  for (const [name, pair, options] of ACCEPTED) {
    test(`${name} › ok`, () => {
      assert.equal(verifyWithKey(pair.publicKey, data, sig(pair.privateKey, data, options)), 'ok');
    });
    test(`${name}, other data › bad`, () => {
      assert.equal(verifyWithKey(pair.publicKey, Buffer.from('other'), sig(pair.privateKey, data, options)), 'bad');
    });
  }
  for (const [name, pair, options] of REJECTED) {
    test(`${name} (not in cosign's table) › bad`, () => {
      assert.equal(verifyWithKey(pair.publicKey, data, sig(pair.privateKey, data, options)), 'bad');
    });
  }

  test('Ed25519ph by the same key (cosign ≥ 2.6) › ed25519ph', () => {
    assert.equal(verifyWithKey(keys.ed25519.publicKey, data, sig(keys.ed25519.privateKey, data, { ed25519ph: true })), 'ed25519ph');
  });
  test('Ed25519ph by another key, or over other data › bad (recognised exactly, not guessed)', () => {
    const ph = sig(keys.ed25519.privateKey, data, { ed25519ph: true });
    assert.equal(verifyWithKey(keys.otherEd25519.publicKey, data, ph), 'bad');
    assert.equal(verifyWithKey(keys.ed25519.publicKey, Buffer.from('other'), ph), 'bad');
    assert.equal(verifyWithKey(keys.ed25519.publicKey, data, randomBytes(64)), 'bad');
  });
  test('a signature from another key of the same type › bad', () => {
    assert.equal(verifyWithKey(keys.otherP256.publicKey, data, sig(keys.p256.privateKey, data)), 'bad');
  });
  test('a private KeyObject also verifies (Node derives the public half)', () => {
    assert.equal(verifyWithKey(keys.p256.privateKey, data, sig(keys.p256.privateKey, data)), 'ok');
  });

  test('malformed signatures never throw › bad', () => {
    const good = sig(keys.p256.privateKey, data);
    const hostile = [
      Buffer.alloc(0),
      Buffer.alloc(1),
      randomBytes(64),
      randomBytes(4096),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from([0x30, 0x81, 0xff]),
    ];
    for (const pair of Object.values(keys)) {
      for (const signature of hostile) assert.equal(verifyWithKey(pair.publicKey, data, signature), 'bad');
    }
  });
  test('key types cosign never uses (X25519, Ed448, secp256k1, DSA) › bad, no throw', () => {
    const odd = [
      generateKeyPairSync('x25519'),
      generateKeyPairSync('ed448'),
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }),
      generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }),
    ];
    for (const pair of odd) assert.equal(verifyWithKey(pair.publicKey, data, randomBytes(64)), 'bad');
    const k1 = odd[2]!;
    assert.equal(verifyWithKey(k1.publicKey, data, sig(k1.privateKey, data)), 'bad');
  });
});
