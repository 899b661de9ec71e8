// Keeps the test signer honest against real cosign bytes and a real registry. No src/ imports.
// Run: node --import tsx --test test/kit/cosign-sign.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  COSIGN_MT,
  COSIGN_SIGNATURE_ANNOTATION,
  cosignSignatureTag,
  dssePae,
  getManifest,
  makeSigstoreBundle,
  makeSimpleSigningPayload,
  pushCosignSignature,
  sha256,
  signPayload,
  startRegistry,
} from './index.ts';
import type { RunningRegistry } from './index.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/containers-image/', import.meta.url));
const fixture = (path: string): Buffer => readFileSync(`${FIXTURES}${path}`);
const DIGEST = 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00';
const REFERENCE = '192.168.64.2:5000/cosign-signed-single-sample';

/** Key names and value types, recursively: the "shape" of a JSON value. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return value === null ? 'null' : typeof value;
}

describe('cosign test signer against the containers/image fixtures', () => {
  test('its payload for the fixture digest and reference has the structure of key-valid/payload.json', () => {
    const ours = makeSimpleSigningPayload(DIGEST, REFERENCE);
    const theirs = fixture('derived/key-valid/payload.json');
    assert.deepEqual(shape(JSON.parse(ours.toString())), shape(JSON.parse(theirs.toString())));
    assert.deepEqual(Object.keys(JSON.parse(ours.toString()).critical), ['identity', 'image', 'type']);
    // cosign's Go marshalling gives byte-identical output, which is the strongest check we can make.
    assert.deepEqual(ours, theirs);
  });

  test('a real cosign signature verifies over the fixture payload with cosign.pub (plain node:crypto)', () => {
    const key = createPublicKey(fixture('keys/cosign.pub'));
    const payload = fixture('derived/key-valid/payload.json');
    const signature = Buffer.from(fixture('derived/key-valid/signature.b64').toString(), 'base64');
    assert.equal(verify('sha256', payload, key, signature), true);
    assert.equal(verify('sha256', Buffer.concat([payload, Buffer.from(' ')]), key, signature), false);
  });

  test('the fixture pki-valid RSA signature verifies as PKCS#1 v1.5 SHA-256 with its certificate key', () => {
    const annotations = JSON.parse(fixture('derived/pki-valid/annotations.json').toString()) as Record<string, string>;
    const key = createPublicKey(annotations['dev.sigstore.cosign/certificate']!);
    const signature = Buffer.from(fixture('derived/pki-valid/signature.b64').toString(), 'base64');
    assert.equal(
      verify('sha256', fixture('derived/pki-valid/payload.json'), { key, padding: constants.RSA_PKCS1_PADDING }, signature),
      true,
    );
  });
});

describe('signPayload', () => {
  const payload = makeSimpleSigningPayload(DIGEST, REFERENCE);
  const check = (ok: boolean): void => assert.equal(ok, true);

  test('ECDSA P-384 with sha384 is DER over SHA-384', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    check(verify('sha384', payload, publicKey, Buffer.from(signPayload(privateKey, payload, { hash: 'sha384' }), 'base64')));
  });
  test('RSA PSS signs with the maximum salt length', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sig = Buffer.from(signPayload(privateKey, payload, { rsaPadding: 'pss' }), 'base64');
    check(verify('sha256', payload, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 256 - 32 - 2 }, sig));
  });
  test('Ed25519ph is not a pure Ed25519 signature', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    assert.equal(verify(null, payload, publicKey, Buffer.from(signPayload(privateKey, payload, { ed25519ph: true }), 'base64')), false);
    check(verify(null, payload, publicKey, Buffer.from(signPayload(privateKey, payload), 'base64')));
  });
  test('bundles sign PAE(payloadType, statement)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const bundle = makeSigstoreBundle({ privateKey, digest: DIGEST }) as {
      dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] };
    };
    const payloadBytes = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    check(
      verify(
        'sha256',
        dssePae(bundle.dsseEnvelope.payloadType, payloadBytes),
        publicKey,
        Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64'),
      ),
    );
    assert.deepEqual(JSON.parse(payloadBytes.toString()).subject, [{ digest: { sha256: DIGEST.slice(7) } }]);
    assert.equal(
      dssePae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });
});

describe('pushCosignSignature on a real registry', () => {
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
  });

  test('writes the .sig manifest with cosign layout, readable back byte for byte', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const payloads = [makeSimpleSigningPayload(DIGEST, REFERENCE), makeSimpleSigningPayload(DIGEST, `${REFERENCE}:v2`)];
    const layers = payloads.map((payload, i) => ({
      payload,
      signature: signPayload(privateKey, payload),
      annotations: (i ? { 'dev.sigstore.cosign/bundle': '{}' } : {}) as Record<string, string>,
    }));
    const pushed = await pushCosignSignature(reg.url, 'kit/signed', { digest: DIGEST }, layers);
    assert.equal(pushed.tag, `sha256-${DIGEST.slice(7)}.sig`);
    assert.equal(cosignSignatureTag(DIGEST), pushed.tag);

    const bytes = await getManifest(reg.url, 'kit/signed', pushed.tag, COSIGN_MT.ociManifest);
    assert.ok(bytes);
    assert.deepEqual(bytes, pushed.manifestBytes);
    assert.equal(sha256(bytes), pushed.manifest.digest);
    const manifest = JSON.parse(bytes.toString());
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(manifest.layers.length, 2);
    for (const [i, layer] of manifest.layers.entries()) {
      assert.equal(layer.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
      assert.equal(layer.digest, sha256(payloads[i]!));
      assert.equal(layer.size, payloads[i]!.length);
      assert.equal(layer.annotations[COSIGN_SIGNATURE_ANNOTATION], layers[i]!.signature);
      const blob = await fetch(`${reg.url}/v2/kit/signed/blobs/${layer.digest}`);
      assert.equal(blob.status, 200);
      assert.deepEqual(Buffer.from(await blob.arrayBuffer()), payloads[i]);
    }
    assert.equal(manifest.layers[1].annotations['dev.sigstore.cosign/bundle'], '{}');
    const config = await fetch(`${reg.url}/v2/kit/signed/blobs/${manifest.config.digest}`);
    assert.deepEqual(
      JSON.parse(await config.text()).rootfs.diff_ids,
      payloads.map((p) => sha256(p)),
    );
  });
});
