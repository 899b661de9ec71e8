// The verdict key covers every input a decision reads (docs/integrity.md "Verdict keys"): any two
// pulls that get one key are judged alike. A change that makes evaluation read a field of the pull
// the key leaves out (the tag, the namespace, the client) fails this property.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decisionInput, judge } from '../../src/gate/decision-input.ts';
import type { PullContext } from '../../src/gate/types.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import type { Reference } from '../../src/oci/reference.ts';
import { compileTrust } from '../../src/trust/compile.ts';
import type { SignatureFinding } from '../../src/verify/types.ts';

const NAME = 'reg.example/team/app';
const DIGEST = `sha256:${'a'.repeat(64)}` as const;
const OTHER = `sha256:${'b'.repeat(64)}` as const;
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const trust = compileTrust({
  version: 3,
  entries: [{ id: 'k', kind: 'key', pem, scopes: ['reg.example/**'], purposes: ['sign'], origin: 'file' }],
  revocations: [],
});

const policyOf = (signedIdentity: string, mode: string) =>
  parsePolicy(
    `version: 1\nrules:\n  - { name: r, images: ["reg.example/**"], mode: ${mode}, signatures: { signedIdentity: ${signedIdentity} } }\n`,
    'policy.yaml',
    () => {},
  );

const reference: fc.Arbitrary<Reference> = fc.oneof(
  fc.constantFrom('v1', 'prod', 'latest').map((tag) => ({ kind: 'tag' as const, tag })),
  fc.constantFrom(DIGEST, OTHER).map((digest) => ({ kind: 'digest' as const, digest })),
);
const signedFor = fc.constantFrom(`${NAME}:v1`, `${NAME}:prod`, `${NAME}@${DIGEST}`, NAME, 'reg.example/team/other:v1', undefined);
const finding: fc.Arbitrary<SignatureFinding> = signedFor.map((signedReference) => ({
  scheme: 'cosign',
  source: 'sig',
  verifiedBy: ['k'],
  ...(signedReference === undefined ? {} : { signedReference }),
}));
const pull = fc.record({
  requested: reference,
  ns: fc.constantFrom(undefined, 'reg.example', 'docker.io'),
  client: fc.constantFrom(undefined, 'robot-a', 'robot-b'),
  mediaType: fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'),
});

function contextOf(p: { requested: Reference; ns: string | undefined; client: string | undefined; mediaType?: string }): PullContext {
  const bytes = Buffer.from('{}');
  return {
    canonicalName: NAME,
    repository: 'team/app',
    upstream: { name: 'up', registryHost: 'reg.example' } as PullContext['upstream'],
    requested: p.requested,
    ns: p.ns,
    manifest: {
      bytes,
      digest: DIGEST,
      mediaType: p.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      children: [],
      blobs: [],
      parsed: undefined as never,
      unsupported: undefined,
    },
    parentIndex: undefined,
    client: p.client === undefined ? undefined : { subject: p.client },
  };
}

describe('verdict keys', () => {
  it('two pulls with one key are judged alike, whatever else differs (tag, digest, namespace, client, Content-Type)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('any', 'repository', 'exact'),
        fc.constantFrom('enforce', 'warn', 'off'),
        pull,
        pull,
        fc.array(finding, { maxLength: 3 }),
        (identity, mode, a, b, findings) => {
          const policy = policyOf(identity, mode);
          const [ca, cb] = [contextOf(a), contextOf(b)];
          const [ia, ib] = [decisionInput(policy, trust, ca), decisionInput(policy, trust, cb)];
          if (ia.id !== ib.id) return;
          assert.deepEqual(judge(ca, ia, findings, 1_000), judge(cb, ib, findings, 1_000));
        },
      ),
      { numRuns: Number(process.env['FUZZ_RUNS'] ?? 500) * 4, seed: Number(process.env['FUZZ_SEED'] ?? 20240607) },
    );
  });

  it('signedIdentity exact › :v1 and :prod of one digest get different keys; any › one key', () => {
    const v1 = contextOf({ requested: { kind: 'tag', tag: 'v1' }, ns: undefined, client: undefined });
    const prod = contextOf({ requested: { kind: 'tag', tag: 'prod' }, ns: undefined, client: undefined });
    const exact = policyOf('exact', 'enforce');
    assert.notEqual(decisionInput(exact, trust, v1).id, decisionInput(exact, trust, prod).id);
    assert.equal(decisionInput(exact, trust, v1).key.identity, `${NAME}:v1`);
    const any = policyOf('any', 'enforce');
    assert.equal(decisionInput(any, trust, v1).id, decisionInput(any, trust, prod).id);
  });
});
