// Keys and decisions for verdict cache tests.
import { policyRuleName, type Decision } from '../../src/decision/decision.ts';
import type { Digest } from '../../src/oci/reference.ts';
import type { VerdictKey } from '../../src/verdicts/types.ts';

export const T0 = Date.parse('2030-01-01T00:00:00Z');
export const HOUR = 3_600_000;
export const D1: Digest = `sha256:${'1'.repeat(64)}`;
export const D2: Digest = `sha256:${'2'.repeat(64)}`;

export const key = (overrides: Partial<VerdictKey> = {}): VerdictKey => ({
  canonicalName: 'docker.io/library/app',
  digest: D1,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  policyHash: 'policy-1',
  trustVersion: 7,
  identity: undefined,
  ...overrides,
});

export const allow = (overrides: Partial<Decision> = {}): Decision => ({
  outcome: 'allow',
  rule: policyRuleName('prod'),
  reasons: [],
  signers: ['release-key'],
  digest: D1,
  notAfter: undefined,
  ...overrides,
});

export const deny = (overrides: Partial<Decision> = {}): Decision => ({
  outcome: 'deny',
  rule: policyRuleName('prod'),
  reasons: [{ code: 'unsigned', message: 'no signature' }],
  signers: [],
  digest: D1,
  notAfter: undefined,
  ...overrides,
});
