// The one decision function (src/gate/judge-pull.ts), reached without HTTP: `/v2` and explain run
// the same code and differ only in the effects passed. Property: for any pull, explain's decision is
// the one a pull would get, and explain leaves every store as it found it; decide writes each
// effect its decision calls for (the verdict cache, allowances with their source, scan requests,
// the break-glass audit).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createMemoryAuditLog } from '../../src/audit/memory-audit-log.ts';
import { createMemoryBreakGlassStore } from '../../src/breakglass/entries.ts';
import { createGate } from '../../src/gate/create-gate.ts';
import { decisionInput } from '../../src/gate/decision-input.ts';
import { createPullEffects } from '../../src/gate/effects.ts';
import type { PullContext } from '../../src/gate/types.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { createMemoryScanStore } from '../../src/scan-store/memory-scan-store.ts';
import { compileTrust } from '../../src/trust/compile.ts';
import type { UpstreamClient } from '../../src/upstream/types.ts';
import { createMemoryAllowSets } from '../../src/verdicts/memory-allow-sets.ts';
import { createVerdictCache } from '../../src/verdicts/verdict-cache.ts';

const NAME = 'reg.example/team/app';
const DIGEST = `sha256:${'a'.repeat(64)}` as const;
const LAYER = `sha256:${'c'.repeat(64)}` as const;
const T0 = 1_800_000_000_000;
const trust = compileTrust({ version: 1, entries: [], revocations: [] });
const IMAGE = 'application/vnd.oci.image.manifest.v1+json';

/** An upstream with no signatures and no referrers: every discovery request answers 404, as a registry would. */
const emptyUpstream = (config: PullContext['upstream']): UpstreamClient => ({
  config,
  request: async () => ({ status: 404, headers: {}, body: Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}') }),
  authorization: async () => undefined,
  invalidate: () => {},
  close: async () => {},
  redirects: {
    follow: () => Promise.reject(new Error('no redirects here')),
    forClient: () => Promise.reject(new Error('no redirects here')),
    close: async () => {},
  },
});

interface Pull {
  readonly mode: 'enforce' | 'warn' | 'off';
  readonly scanRequired: boolean;
  readonly breakGlass: boolean;
}

function policyOf(p: Pull) {
  const scan = p.scanRequired ? ', scan: { required: true, maxAge: 7d }' : '';
  return parsePolicy(`version: 1\nrules:\n  - { name: r, images: ["reg.example/**"], mode: ${p.mode}${scan} }\n`, 'policy.yaml', () => {});
}

function contextOf(): PullContext {
  const config = { digest: `sha256:${'b'.repeat(64)}` as const, mediaType: 'application/vnd.oci.image.config.v1+json', size: 2 };
  const layer = { digest: LAYER, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10 };
  return {
    canonicalName: NAME,
    repository: 'team/app',
    upstream: { name: 'up', registryHost: 'reg.example' } as PullContext['upstream'],
    requested: { kind: 'tag', tag: 'v1' },
    ns: undefined,
    manifest: {
      bytes: Buffer.from('{"schemaVersion":2}'),
      digest: DIGEST,
      mediaType: IMAGE,
      children: [],
      blobs: [config.digest, LAYER],
      parsed: {
        mediaType: IMAGE,
        children: [],
        blobs: [config.digest, LAYER],
        subject: undefined,
        artifactType: undefined,
        configMediaType: config.mediaType,
        layerMediaTypes: [layer.mediaType],
        childArtifactTypes: [],
        manifests: [],
        config,
        layers: [layer],
      },
      unsupported: undefined,
    },
    parentIndex: undefined,
    client: undefined,
  };
}

/** A gate over fresh in-memory stores, and what a test can read back from them. */
async function world(p: Pull) {
  const policy = policyOf(p);
  const verdicts = createVerdictCache({ allowTtlMs: 60_000, denyTtlMs: 10_000, memoryEntries: 100 });
  const allowSets = createMemoryAllowSets({ now: () => T0 });
  const scans = createMemoryScanStore({ now: () => T0 });
  const breakGlass = createMemoryBreakGlassStore();
  const audit = createMemoryAuditLog({ maxEntries: 100, now: () => T0 });
  if (p.breakGlass)
    await breakGlass.add({
      id: 'bg1',
      image: 'reg.example/team/**',
      reason: 'INC-1',
      expires: T0 + 3_600_000,
      actor: 'kim',
      createdAt: T0,
    });
  const deps = {
    policy: () => policy,
    trust: () => trust,
    verdicts,
    allowSets,
    scans,
    breakGlass,
    clientFor: () => emptyUpstream(contextOf().upstream),
    limits: { maxSignatures: 10, maxBlobBytes: 1_048_576, maxRequests: 20 },
    allowTtlMs: 60_000,
    blobGate: true,
    now: () => T0,
    logger: noopLogger,
  };
  const gate = createGate(deps, createPullEffects({ verdicts, allowSets, scans, audit, now: () => T0, logger: noopLogger }));
  const generation = `${policy.hash}:${trust.version}`;
  const key = decisionInput(policy, trust, contextOf()).key;
  return {
    gate,
    breakGlass,
    /** Everything the effects could have written. */
    async written() {
      return {
        verdict: (await verdicts.get(key, T0))?.outcome,
        layer: (await allowSets.blobAllowance(generation, NAME, LAYER, async () => true))?.source.split(':')[0],
        queued: (await scans.pending(10)).map((r) => r.digest),
        audited: (await audit.page({ limit: 10 })).entries.map((e) => e.action),
      };
    },
  };
}

const NOTHING = { verdict: undefined, layer: undefined, queued: [], audited: [] };

describe('judgePull: one decision for /v2 and explain', () => {
  it('explain decides as a pull would, and writes nothing; decide writes what its decision calls for', async () => {
    const pulls = fc.record({
      mode: fc.constantFrom<Pull['mode']>('enforce', 'warn', 'off'),
      scanRequired: fc.boolean(),
      breakGlass: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(pulls, async (p) => {
        const explaining = await world(p);
        const explained = await explaining.gate.explain(contextOf());
        assert.deepEqual(await explaining.written(), NOTHING, 'explain writes nothing');

        const pulling = await world(p);
        const decided = await pulling.gate.decide(contextOf());
        assert.deepEqual(explained.decision, decided, 'explain shows the decision a pull gets');
        const written = await pulling.written();
        const overridden = decided.rule === 'break-glass';
        // The gate's own verdict is cached even when break glass overrides it; the override never is.
        assert.equal(written.verdict, overridden ? 'deny' : decided.outcome);
        assert.equal(written.layer, decided.outcome === 'deny' ? undefined : overridden ? 'breakglass' : 'verdict');
        // What the blob gate says lets the layer stream: fail static serves from the cache only under a verdict.
        const access = await pulling.gate.blobAccess(NAME, LAYER);
        assert.deepEqual(
          access,
          decided.outcome === 'deny' ? { kind: 'deny' } : { kind: 'stream', from: overridden ? 'break-glass' : 'verdict' },
        );
        const unscanned = p.scanRequired && decided.reasons.some((r) => r.code === 'unscanned');
        assert.deepEqual(written.queued, unscanned ? [DIGEST] : []);
        assert.deepEqual(written.audited, overridden ? ['breakglass.use'] : []);
        if (overridden) assert.equal(explained.overridden?.outcome, 'deny');
      }),
      { numRuns: 40, seed: 12 },
    );
  });

  it('an unsigned image: denied, unsigned, with the verdict cached and nothing granted', async () => {
    const w = await world({ mode: 'enforce', scanRequired: false, breakGlass: false });
    const decision = await w.gate.decide(contextOf());
    assert.equal(decision.outcome, 'deny');
    assert.equal(decision.rule, 'r');
    assert.deepEqual(
      decision.reasons.map((r) => r.code),
      ['unsigned'],
    );
    assert.deepEqual(await w.written(), { ...NOTHING, verdict: 'deny' });
    assert.deepEqual(await w.gate.blobAccess(NAME, LAYER), { kind: 'deny' });
  });

  it('mode off allows without signatures or a scan; an unsigned image is denied before its scan is asked for', async () => {
    const w = await world({ mode: 'off', scanRequired: true, breakGlass: false });
    const decision = await w.gate.decide(contextOf());
    assert.equal(decision.outcome, 'allow', 'mode off skips signatures and the scan alike');
    const enforced = await world({ mode: 'enforce', scanRequired: true, breakGlass: true });
    const overridden = await enforced.gate.decide(contextOf());
    assert.equal(overridden.rule, 'break-glass');
    assert.deepEqual((await enforced.written()).queued, [], 'an unsigned image is denied before its scan is asked for');
  });

  it('break glass: the override is explained with the denial it replaced, and its grant ends with the entry', async () => {
    const w = await world({ mode: 'enforce', scanRequired: false, breakGlass: true });
    const explained = await w.gate.explain(contextOf());
    assert.equal(explained.decision.rule, 'break-glass');
    assert.deepEqual(
      explained.overridden?.reasons.map((r) => r.code),
      ['unsigned'],
    );
    assert.deepEqual(await w.gate.blobAccess(NAME, LAYER), { kind: 'deny' }, 'explaining granted nothing');
    await w.gate.decide(contextOf());
    assert.deepEqual(await w.gate.blobAccess(NAME, LAYER), { kind: 'stream', from: 'break-glass' });
    assert.equal(await w.breakGlass.end('bg1'), true);
    assert.deepEqual(await w.gate.blobAccess(NAME, LAYER), { kind: 'deny' }, 'the entry ended, so its grant did');
    assert.equal((await w.gate.decide(contextOf())).rule, 'r', 'and the pull is judged by its rule again');
  });
});
