// base64 as Go decodes it, and the DSSE PAE.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAnyBase64, decodeStdBase64, pae } from '../../../src/verify/cosign/index.ts';

describe('decodeStdBase64 (Go StdEncoding)', () => {
  test('padded standard base64, CR and LF skipped anywhere', () => {
    assert.equal(decodeStdBase64('aGVsbG8=')?.toString(), 'hello');
    assert.equal(decodeStdBase64('aGVs\nbG8=\r\n')?.toString(), 'hello');
    assert.equal(decodeStdBase64('')?.length, 0);
    assert.deepEqual(decodeStdBase64('+/8='), Buffer.from([0xfb, 0xff]));
  });
  for (const bad of ['aGVsbG8', 'aGVs bG8=', 'aGVs\tbG8=', 'aGVsbG8=\0', '-_8=', 'aGVsbG8==', 'aG=sbG8=', '====', 'A', 'é===']) {
    test(`${JSON.stringify(bad)} › rejected`, () => assert.equal(decodeStdBase64(bad), undefined));
  }
});

describe('decodeAnyBase64 (DSSE, protobuf JSON bytes)', () => {
  test('standard or URL-safe, padded or not', () => {
    for (const text of ['+/8=', '+/8', '-_8=', '-_8', '-_\n8']) assert.deepEqual(decodeAnyBase64(text), Buffer.from([0xfb, 0xff]));
  });
  for (const bad of ['+_8=', 'A', 'AB=', 'AB===', 'AB=C', 'a b=', '!!!!']) {
    test(`${JSON.stringify(bad)} › rejected`, () => assert.equal(decodeAnyBase64(bad), undefined));
  }
});

describe('pae', () => {
  test('the DSSE protocol.md example', () => {
    assert.equal(
      pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });
  test('lengths are byte lengths, not characters', () => {
    assert.equal(pae('tÿpe', Buffer.from('é')).toString(), 'DSSEv1 5 tÿpe 2 é');
    assert.equal(pae('', Buffer.alloc(0)).toString(), 'DSSEv1 0  0 ');
  });
});
