// verifyVulnAttestation on the trivy-2 docs predicate, wrapped in an in-toto statement and a DSSE
// envelope signed here with node:crypto (the signing is written out, independent of the verifier).
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Digest } from '../../../src/oci/reference.ts';
import { pae, verifyVulnAttestation } from '../../../src/verify/cosign/index.ts';
import type { TrustedKey } from '../../../src/verify/types.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const PREDICATE = JSON.parse(readFileSync(`${FIXTURES}trivy/cosign-vuln-predicate.alpine-3.10.docs-example.json`, 'utf8')) as Record<
  string,
  any
>;

const NOW = Date.parse('2022-08-01T00:00:00Z');
const HEX = createHash('sha256').update('alpine:3.10 manifest').digest('hex');
const SUBJECT = { digest: `sha256:${HEX}` as Digest };
const OTHER = { digest: `sha256:${'0'.repeat(64)}` as Digest };
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';
const IN_TOTO = 'application/vnd.in-toto+json';

const scanner = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const trusted = (id: string, pair: { publicKey: KeyObject }): TrustedKey => ({ id, publicKey: pair.publicKey });
const KEYS = [trusted('scanner', scanner)];

/** DSSE protocol.md PAE, written out independently of src/verify/cosign/dsse.ts. */
const testPae = (type: string, body: Buffer): Buffer => {
  const t = Buffer.from(type, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${body.length} `), body]);
};

type Json = Record<string, any>;
const statement = (extra: Json = {}): Json => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'index.docker.io/library/alpine', digest: { sha256: HEX } }],
  predicateType: VULN,
  predicate: PREDICATE,
  ...extra,
});
/** ECDSA P-256 → SHA-256 DER; RSA → PKCS#1 v1.5 SHA-256 (cosign's scheme, docs/wire-formats.md "Signature bytes and keys"). */
function envelope(body: Json | Buffer = statement(), privateKey: KeyObject = scanner.privateKey, payloadType = IN_TOTO): Json {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const sig = sign('sha256', testPae(payloadType, payload), privateKey);
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] };
}
const check = (env: Json, keys = KEYS, subject = SUBJECT, now = NOW) =>
  verifyVulnAttestation({ envelope: Buffer.from(JSON.stringify(env)), source: 'sha256-abc.att#0' }, subject, keys, now);

describe('PAE', () => {
  test('byte-exact against the DSSE spec example', () => {
    const expected = Buffer.from('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    assert.deepEqual(pae('http://example.com/HelloWorld', Buffer.from('hello world')), expected);
    assert.deepEqual(testPae('http://example.com/HelloWorld', Buffer.from('hello world')), expected);
  });
  test('LEN is the byte length, not the character count', () => {
    assert.deepEqual(pae('t', Buffer.from('é')), Buffer.from('DSSEv1 1 t 2 é'));
  });
});

describe('trivy-2: the docs predicate, signed', () => {
  test('valid › a record from scanner.result, finishedAt = scanFinishedOn', () => {
    const result = check(envelope());
    assert.equal(result.failure, undefined);
    assert.deepEqual(result.verifiedBy, ['scanner']);
    assert.equal(result.source, 'sha256-abc.att#0');
    assert.deepEqual(result.record, {
      digest: SUBJECT.digest,
      scanner: 'pkg:github/aquasecurity/trivy@v0.30.1-8-gf9cb8a28',
      finishedAt: Date.parse('2022-07-24T08:14:04.864Z'),
      source: 'attestation',
      findings: [{ id: 'CVE-2021-36159', severity: 'CRITICAL', pkg: 'apk-tools', installed: '2.10.6-r0', fixedIn: '2.10.7-r0' }],
      counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 1 },
    });
  });
  test("bound by its subject, not by the result's RepoDigests or ImageID", () => {
    assert.notEqual(PREDICATE.scanner.result.Metadata.RepoDigests[0].split('@')[1], SUBJECT.digest);
    assert.equal(check(envelope()).record?.digest, SUBJECT.digest);
  });
  test('cosign legacy attest: Statement v0.1 › accepted', () => {
    assert.equal(check(envelope(statement({ _type: 'https://in-toto.io/Statement/v0.1' }))).record?.findings.length, 1);
  });
  test('RSA key, URL-safe base64, and every verifying key is returned', () => {
    const env = envelope(statement(), rsa.privateKey);
    env.payload = Buffer.from(env.payload, 'base64').toString('base64url');
    env.signatures[0].sig = Buffer.from(env.signatures[0].sig, 'base64').toString('base64url');
    assert.deepEqual(check(env, [trusted('other', stranger), trusted('a', rsa), trusted('b', rsa)]).verifiedBy, ['a', 'b']);
  });
  test('scanner version is appended when the URI does not carry it', () => {
    const predicate = { ...PREDICATE, scanner: { ...PREDICATE.scanner, uri: 'pkg:github/aquasecurity/trivy', version: '0.50.1' } };
    assert.equal(check(envelope(statement({ predicate }))).record?.scanner, 'pkg:github/aquasecurity/trivy 0.50.1');
  });
});

describe('failures', () => {
  const kind = (r: ReturnType<typeof check>) => r.failure?.kind ?? 'valid';
  test('wrong key › crypto, nothing verified', () => {
    const r = check(envelope(), [trusted('other', stranger)]);
    assert.deepEqual(r, {
      source: 'sha256-abc.att#0',
      verifiedBy: [],
      failure: { kind: 'crypto', message: 'signature does not verify with the trusted key' },
    });
  });
  test('no keys › crypto', () =>
    assert.equal(check(envelope(), []).failure?.message, 'signature not checked: no trusted keys are configured'));
  test('tampered payload › crypto', () => {
    const env = envelope();
    const changed = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Json;
    changed.predicate.metadata.scanFinishedOn = '2022-07-31T00:00:00Z';
    env.payload = Buffer.from(JSON.stringify(changed)).toString('base64');
    assert.equal(kind(check(env)), 'crypto');
  });
  test('signature over the bare payload instead of the PAE › crypto', () => {
    const env = envelope();
    env.signatures[0].sig = sign('sha256', Buffer.from(env.payload, 'base64'), scanner.privateKey).toString('base64');
    assert.equal(kind(check(env)), 'crypto');
  });
  test('wrong subject digest › digest, verifiedBy kept', () => {
    const r = check(envelope(), KEYS, OTHER);
    assert.deepEqual(r.failure, { kind: 'digest', message: `attests sha256:${HEX.slice(0, 12)}… not sha256:000000000000…` });
    assert.deepEqual(r.verifiedBy, ['scanner']);
    assert.equal(r.record, undefined);
  });
  test('several subjects, one of them ours › valid', () => {
    const subject = [
      { name: 'a', digest: { sha256: OTHER.digest.slice(7) } },
      { name: 'b', digest: { sha512: 'ff', sha256: HEX } },
    ];
    assert.equal(kind(check(envelope(statement({ subject })))), 'valid');
  });
  test('wrong predicate type (also the legacy spelling without https://) › format', () => {
    assert.deepEqual(check(envelope(statement({ predicateType: 'https://cosign.sigstore.dev/attestation/v1' }))).failure, {
      kind: 'format',
      message: `predicateType is not ${VULN}`,
    });
    assert.equal(kind(check(envelope(statement({ predicateType: 'cosign.sigstore.dev/attestation/vuln/v1' })))), 'format');
  });
  test('missing scanFinishedOn › format', () => {
    const predicate = { ...PREDICATE, metadata: { scanStartedOn: PREDICATE.metadata.scanStartedOn } };
    const r = check(envelope(statement({ predicate })));
    assert.deepEqual(r.failure, { kind: 'format', message: 'predicate.metadata.scanFinishedOn is missing' });
    assert.deepEqual(r.verifiedBy, ['scanner']);
  });
  test('scanFinishedOn not RFC 3339, or in the future › format', () => {
    const at = (scanFinishedOn: unknown) =>
      check(envelope(statement({ predicate: { ...PREDICATE, metadata: { scanFinishedOn } } }))).failure?.message;
    assert.equal(at('24 July 2022'), 'predicate.metadata.scanFinishedOn "24 July 2022" is not an RFC 3339 date-time');
    assert.equal(at('2022-08-01T01:00:00Z'), 'predicate.metadata.scanFinishedOn 2022-08-01T01:00:00Z is 1h in the future');
  });
  test("scanner.result that is not a Trivy report (e.g. another scanner's format) › format, never a clean pass", () => {
    const predicate = { ...PREDICATE, scanner: { ...PREDICATE.scanner, result: { matches: [] } } };
    assert.deepEqual(check(envelope(statement({ predicate }))).failure, {
      kind: 'format',
      message: 'predicate.scanner.result.SchemaVersion is missing; only Trivy JSON SchemaVersion 2 is accepted',
    });
    const none = { ...PREDICATE, scanner: { uri: 'x' } };
    assert.equal(
      check(envelope(statement({ predicate: none }))).failure?.message,
      'predicate.scanner.result is missing; it must hold a Trivy JSON report',
    );
  });
  test('wrong statement _type, payloadType, or shape › format', () => {
    assert.equal(kind(check(envelope(statement({ _type: 'https://in-toto.io/Statement/v2' })))), 'format');
    assert.equal(
      check(envelope(statement(), scanner.privateKey, 'application/json')).failure?.message,
      `DSSE payloadType is not ${IN_TOTO}`,
    );
    assert.equal(kind(check(envelope(Buffer.from('not json')))), 'format');
    assert.equal(kind(check(envelope(statement({ subject: [] })))), 'format');
    assert.equal(
      verifyVulnAttestation({ envelope: Buffer.from('{'), source: 's' }, SUBJECT, KEYS, NOW).failure?.message,
      'DSSE envelope is not a JSON object',
    );
    assert.equal(kind(check({ ...envelope(), signatures: [] })), 'format');
  });
});
