// The integrity invariant end to end (docs/integrity.md "How it is tested"): generated graphs
// (test/integrity/graph.ts) pushed into a real distribution registry and pulled through trustgate
// on a port with skopeo. Whatever skopeo copied or inspected must be legitimate by the answer
// computed from the graph alone (test/integrity/expected.ts); a tag whose resolution leads to
// content that is not must fail; a tag K signed must copy (liveness). Every graph carries the
// index-as-signature or the fake-signature-blob attack (no break glass, revocation or smuggling here:
// the fuzz target test/fuzz/targets/integrity.ts covers those).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { copy, inspect, putBlob, putManifest, startRegistry, type RunningRegistry, type SkopeoResult } from '../kit/index.ts';
import { CI_SEED } from '../fuzz/harness.ts';
import { blobLegit, classifyBlob, classifyManifest, manifestLegit, mustServe, type OracleState } from '../integrity/expected.ts';
import { buildGraph, graphSpec, type GraphSpec } from '../integrity/graph.ts';
import { refText, sha256, type Graph, type Node, type Ref, type ViolationClass } from '../integrity/model.ts';
import { newKeys, trustGraph } from '../integrity/setup.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const GRAPHS = Number(process.env['INTEGRITY_E2E_GRAPHS'] ?? 50);
/** Pulls per graph besides the attack's own (skopeo runs are what this test spends its time on). */
const EXTRA_PULLS = 2;
const STATE: OracleState = { revoked: false, bg: new Set(), everBg: new Set() };
const work = mkdtempSync(join(tmpdir(), 'tg-integrity-e2e-'));

interface E2eCase {
  readonly spec: GraphSpec;
  readonly order: readonly number[];
}
interface Pull {
  readonly ref: Ref;
  readonly op: 'copy' | 'inspect';
  readonly attack: boolean;
}

/** Even graphs carry the dressed index (attack 1), odd ones the fake signature (attack 2); no break glass. */
const cases: E2eCase[] = fc
  .sample(fc.record({ spec: graphSpec, order: fc.array(fc.nat(), { minLength: 32, maxLength: 32 }) }), { numRuns: GRAPHS, seed: CI_SEED })
  .map(({ spec, order }, i) => ({
    order,
    spec: {
      ...spec,
      breakGlass: undefined,
      dressed: i % 2 === 0 || spec.dressed,
      fake: i % 2 === 1 ? (spec.fake ?? { cosignShaped: i % 4 === 1, atSig: false }) : spec.fake,
    },
  }));

let registry: RunningRegistry;
let proxy: RunningProxy;

before(async () => {
  registry = await startRegistry();
  proxy = await startProxy(
    `listen: { plainHttp: true }\nupstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/allowed/**"] }\n`,
    { policy: 'version: 1\nrules: []\n' },
  );
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Blobs, then manifests by digest (images before the indexes that list them), then tags. */
async function pushGraph(g: Graph): Promise<void> {
  for (const blob of g.blobs.values()) await putBlob(registry.url, g.repo, blob.bytes);
  const nodes = [...g.nodes.values()].sort((a, b) => Number(a.isIndex) - Number(b.isIndex));
  for (const node of nodes) await putManifest(registry.url, g.repo, node.digest, node.bytes, node.mediaType);
  for (const [tag, digest] of g.tags)
    await putManifest(registry.url, g.repo, tag, g.nodes.get(digest)!.bytes, g.nodes.get(digest)!.mediaType);
}

/** Every attack reference, and a few others, in the case's random order: plain tags are copied, the rest inspected. */
function pullsOf(g: Graph, order: readonly number[]): Pull[] {
  const pulls: Pull[] = [];
  for (const [tag, digest] of g.tags) {
    const node = g.nodes.get(digest)!;
    const derived = tag.startsWith('sha256-');
    pulls.push({
      ref: { kind: 'tag', tag },
      op: derived || (node.children.length === 0 && node.isIndex) ? 'inspect' : 'copy',
      attack: node.attack !== undefined || tag === 'v1' || tag === 'prod',
    });
  }
  for (const node of g.nodes.values())
    if (node.attack !== undefined || node.sigs.some((s) => s.reference.endsWith(':v1')))
      pulls.push({ ref: { kind: 'digest', digest: node.digest }, op: 'inspect', attack: true });
  const shuffled = pulls
    .map((p, i) => ({ p, key: order[i % order.length]! + i / 1000 }))
    .sort((a, b) => a.key - b.key)
    .map(({ p }) => p);
  const extra = shuffled.filter((p) => !p.attack).slice(0, EXTRA_PULLS);
  return shuffled.filter((p) => p.attack || extra.includes(p));
}

const target = (g: Graph, ref: Ref): Node | undefined => g.nodes.get(ref.kind === 'tag' ? (g.tags.get(ref.tag) ?? '') : ref.digest);

/** What skopeo got must be legitimate; a tag K signed must copy. Returns the violations, by class. */
function judge(g: Graph, pull: Pull, res: SkopeoResult, dir: string): Array<{ cls: ViolationClass; what: string }> {
  const found: Array<{ cls: ViolationClass; what: string }> = [];
  const node = target(g, pull.ref)!;
  const what = `${pull.op} ${refText(pull.ref)}`;
  if (res.code !== 0) {
    if (pull.op === 'copy' && pull.ref.kind === 'tag' && mustServe(g, STATE, node, pull.ref.tag))
      found.push({ cls: 'liveness', what: `${what} (signed by K for that tag) failed: ${res.stderr.trim().slice(-300)}` });
    return found;
  }
  const served = pull.op === 'inspect' ? g.nodes.get(sha256(res.stdoutBytes)) : node;
  if (served === undefined) return [{ cls: 'other', what: `${what} returned a manifest in no graph` }];
  if (!manifestLegit(g, STATE, served, pull.ref))
    found.push({ cls: classifyManifest(g, STATE, served, pull.ref), what: `${what} got ${served.kind} ${served.digest}, not legitimate` });
  if (pull.op === 'inspect') return found;
  // Without --all skopeo copies the linux/amd64 instance of an index: the first child, fetched by digest.
  const child = served.isIndex ? g.nodes.get(served.children[0] ?? '') : undefined;
  const childRef: Ref | undefined = child === undefined ? undefined : { kind: 'digest', digest: child.digest };
  if (child !== undefined && !manifestLegit(g, STATE, child, childRef!))
    found.push({ cls: classifyManifest(g, STATE, child, childRef!), what: `${what} copied child ${child.digest}, not legitimate` });
  const blobsDir = join(dir, 'blobs', 'sha256');
  for (const file of existsSync(blobsDir) ? readdirSync(blobsDir) : []) {
    const digest = `sha256:${file}`;
    if (g.blobs.has(digest) && !blobLegit(g, STATE, digest))
      found.push({ cls: classifyBlob(g, STATE, digest), what: `${what} copied blob ${digest}, not legitimate` });
  }
  return found;
}

describe('integrity through skopeo: graphs in a distribution registry, pulled through trustgate', () => {
  cases.forEach((c, i) => {
    it(`graph ${i + 1} (${c.spec.multiArch}, ${c.spec.identity}${c.spec.dressed ? ', dressed index' : ''}${c.spec.fake ? `, fake signature${c.spec.fake.cosignShaped ? ' with a cosign-shaped config' : ''}` : ''})`, async (t) => {
      const id = 10_000 + i;
      const repo = `allowed/g${id}`;
      const { k, u } = newKeys();
      const g = buildGraph(c.spec, { id, repo, name: `${registry.host}/${repo}`, k, u });
      await pushGraph(g);
      await trustGraph(proxy, g, k); // the canonical name is the registry's: `<registry host>/allowed/g<n>`
      const log: string[] = [];
      const violations: Array<{ cls: ViolationClass; what: string }> = [];
      for (const pull of pullsOf(g, c.order)) {
        const dir = join(work, `g${id}-${log.length}`);
        const ref = `docker://${proxy.host}/${repo}${pull.ref.kind === 'tag' ? `:${pull.ref.tag}` : `@${pull.ref.digest}`}`;
        const res = pull.op === 'copy' ? await copy(ref, `oci:${dir}`) : await inspect(ref, { raw: true });
        log.push(`skopeo ${pull.op} ${refText(pull.ref).slice(0, 24)} → exit ${res.code}`);
        violations.push(...judge(g, pull, res, dir));
      }
      t.diagnostic(log.join('; '));
      if (violations.length > 0) {
        assert.fail(
          `integrity violated in ${g.name} (${[...new Set(violations.map((v) => v.cls))].join(', ')}):\n${violations.map((v) => `  ${v.cls}: ${v.what}`).join('\n')}\nskopeo runs:\n  ${log.join('\n  ')}`,
        );
      }
    });
  });
});
