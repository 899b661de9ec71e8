// The bugs the fuzz properties found, pinned as plain cases so they stay fixed whatever the seed.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/input/config-error.ts';
import { parseConfig } from '../../src/config/parse.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { compilePattern } from '../../src/oci/pattern.ts';
import { ScanReportError } from '../../src/scan/errors.ts';
import { parseTrivyReport } from '../../src/scan/trivy-report.ts';
import { verifyCosignSignature } from '../../src/verify/cosign/simple-signing.ts';
import { verifyVulnAttestation } from '../../src/verify/cosign/vuln-attestation.ts';
import { dssePae } from '../kit/cosign-sign.ts';
import { nestedJsonText, sha256 } from './arbitraries.ts';

/** Past the ~4,100 levels where V8's recursive JSON.stringify throws a RangeError. */
const DEEP = nestedJsonText(6_000, 'array');
const DIGEST = sha256('manifest');
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keys = [{ id: 'k', publicKey: key.publicKey }];

describe('fuzz regressions: values nested past the stack', () => {
  it('a Trivy report with SchemaVersion nested 6,000 deep › ScanReportError (was a RangeError, a 500 from POST /admin/v1/scans)', () => {
    const report = Buffer.from(`{"SchemaVersion":${DEEP}}`);
    assert.throws(
      () =>
        parseTrivyReport(report, { digest: DIGEST, configDigest: undefined, canonicalName: 'r.test/a' }, Date.now(), {
          maxSkewMs: 0,
          maxBytes: 1e6,
        }),
      (e: unknown) => e instanceof ScanReportError && e.field === 'SchemaVersion',
    );
  });

  it('a signed vuln attestation whose scanFinishedOn is nested 6,000 deep › a format failure (was a RangeError out of the verifier)', () => {
    const statement = Buffer.from(
      `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://cosign.sigstore.dev/attestation/vuln/v1",` +
        `"subject":[{"digest":{"sha256":"${DIGEST.slice(7)}"}}],"predicate":{"metadata":{"scanFinishedOn":${DEEP}}}}`,
    );
    const type = 'application/vnd.in-toto+json';
    const envelope = Buffer.from(
      JSON.stringify({
        payloadType: type,
        payload: statement.toString('base64'),
        signatures: [{ sig: sign('sha256', dssePae(type, statement), key.privateKey).toString('base64') }],
      }),
    );
    const result = verifyVulnAttestation({ envelope, source: 'att' }, { digest: DIGEST }, keys, Date.now());
    assert.equal(result.failure?.kind, 'format');
    assert.match(result.failure.message, /scanFinishedOn an array is not an RFC 3339 date-time/);
    assert.deepEqual(result.verifiedBy, ['k']);
  });

  it('a signed cosign payload with "critical" and a case-folded "Critical" nested 6,000 deep › denied as ambiguous (was a RangeError)', () => {
    const payload = Buffer.from(
      `{"critical":{"identity":{"docker-reference":"r.test/a"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"Critical":${DEEP},"optional":null}`,
    );
    const artifact = {
      scheme: 'cosign' as const,
      source: 'sig',
      mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      payload,
      annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, key.privateKey).toString('base64') },
    };
    const finding = verifyCosignSignature(
      artifact,
      { digest: DIGEST, size: 8, mediaType: '', bytes: Buffer.from('manifest') },
      { keys, roots: [], sigstoreRoots: [], tsaRoots: [] },
      Date.now(),
    );
    assert.equal(finding.failure?.kind, 'format');
    assert.match(finding.failure.message, /no critical section/);
  });
});

describe('fuzz regressions: YAML the yaml library refuses only when converting', () => {
  const bomb = ['a0: &a0 [x, x]', ...Array.from({ length: 11 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}, *a${i}]`)].join('\n');
  for (const [what, text, message] of [
    ['an alias bomb', bomb, /Excessive alias count/],
    ['an alias without its anchor', 'version: 1\nrules: *nowhere\n', /Unresolved alias/],
  ] as const) {
    it(`${what} in a policy or config file › ConfigError (was a ReferenceError)`, () => {
      assert.throws(
        () => parsePolicy(text, 'policy.yaml', () => {}),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
      assert.throws(
        () => parseConfig(text, 'trustgate.yaml'),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }
});

describe('fuzz regressions: config', () => {
  it('listen.address with port 65536 › ConfigError naming listen.address (was accepted, then failed at listen)', () => {
    const yaml =
      'listen: { address: "127.0.0.1:65536", plainHttp: true }\nupstreams: [{ name: up, url: "http://127.0.0.1:5000", repositories: ["127.0.0.1:5000/**"] }]\n';
    assert.throws(
      () => parseConfig(yaml, 'trustgate.yaml'),
      (e: unknown) => e instanceof ConfigError && e.field === 'listen.address' && /0 to 65535/.test(e.message),
    );
    assert.equal(parseConfig(yaml.replace('65536', '65535'), 'trustgate.yaml').listen.port, 65_535);
  });
});

describe('fuzz regressions: image patterns', () => {
  it('a pattern of many ** against a 255-character client name › answers in linear time (the regex took 36 s for 5 × "**a" on 120 characters)', () => {
    const started = performance.now();
    assert.equal(compilePattern('**a**a**a**a**a**a**a**b').test('a'.repeat(255)), false);
    assert.equal(compilePattern('**a**a**a**a**a**a**a**b').test(`${'a'.repeat(254)}b`), true);
    assert.ok(performance.now() - started < 1_000);
  });
});
