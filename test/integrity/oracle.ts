// The integrity oracle (docs/integrity.md "The invariant"): runs one generated graph through the
// real app (appFor, the real listener, real crypto) and returns every violation: a 200 the graph
// alone says is not legitimate at that moment, a request at the upstream no client pull explains,
// a smuggling request not refused with 400, or a signed image not served (liveness).
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { noopLogger } from '../../src/log/logger.ts';
import { createFront } from '../../src/server/front.ts';
import { listen } from '../../src/server/listen.ts';
import { adminTokens } from '../support/admin-tokens.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { buildGraph, graphCase, type GraphCase } from './graph.ts';
import { startGraphUpstream, type GraphUpstream } from './graph-upstream.ts';
import type { Graph, ViolationClass } from './model.ts';
import { GraphRunner, type Session, type Violation } from './runner.ts';
import { keyIdOf, newKeys, trustGraph } from './setup.ts';

export type { Violation } from './runner.ts';
export interface GraphRun {
  readonly graph: Graph;
  readonly violations: readonly Violation[];
  readonly log: readonly string[];
}
export interface Oracle {
  run(c: GraphCase): Promise<GraphRun>;
  close(): Promise<void>;
}

/**
 * Every graph adds a key to the trust store, which trustgate compiles whole on each change: the app
 * is opened afresh every RECYCLE graphs so long runs stay linear. The upstream stays up throughout.
 */
const RECYCLE = 100;

export async function openOracle(): Promise<Oracle> {
  const upstream = await startGraphUpstream();
  let app: (Session & { close(): Promise<void> }) | undefined;
  let graphs = 0;
  try {
    app = await openApp(upstream);
  } catch (error) {
    await upstream.close();
    throw error;
  }
  return {
    async run(c) {
      graphs += 1;
      if (graphs % RECYCLE === 0) {
        await app?.close();
        app = undefined; // a failed reopen fails this graph, and the next one tries again
      }
      app ??= await openApp(upstream);
      return runGraph(app, c, graphs);
    },
    async close() {
      await app?.close();
      await upstream.close();
    },
  };
}

/** The real app with the admin API (break glass), behind the real listener on a free port. */
async function openApp(upstream: GraphUpstream): Promise<Session & { close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-integrity-'));
  let harness: Harness | undefined;
  try {
    const tokens = await adminTokens(dir);
    harness = await appFor(`${singleUpstream(upstream.url)}\n${tokens.configYaml}`, { policy: 'version: 1\nrules: []\n' });
    const front = createFront(noopLogger);
    front.ready(harness.app, harness.runtime.health);
    const listening = await listen(front.handler, { ...harness.config.listen, host: '127.0.0.1', port: 0 }, noopLogger);
    const bearer = `Bearer ${await tokens.mint('integrity-oracle', ['key-manager'], { expiresIn: '24h' })}`;
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const h = harness;
    return {
      harness: h,
      upstream,
      url: listening.url,
      agent,
      bearer,
      async close() {
        agent.destroy();
        await listening.close();
        await h.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A fresh trusted key K and untrusted U, the graph built with them, trusted and served. */
async function prepare(session: Session, c: GraphCase, id: number): Promise<{ graph: Graph; keyId: string }> {
  const repo = `allowed/g${id}`;
  const { k, u } = newKeys();
  const graph = buildGraph(c.spec, { id, repo, name: `${session.upstream.host}/${repo}`, k, u });
  await trustGraph(session.harness, graph, k);
  session.upstream.serve(graph);
  return { graph, keyId: keyIdOf(graph) };
}

async function runGraph(session: Session, c: GraphCase, id: number): Promise<GraphRun> {
  const { graph, keyId } = await prepare(session, c, id);
  const runner = new GraphRunner(session, graph, keyId);
  for (const step of c.steps) await runner.step(step);
  runner.checkUpstream();
  return { graph, violations: runner.violations, log: runner.log };
}

/** The property: no violation (of class `only`, and whose text contains `match`, when given) in any graph. */
export function integrityProperty(oracle: Oracle, only?: ViolationClass, match?: string): fc.IAsyncPropertyWithHooks<[GraphCase]> {
  return fc.asyncProperty(graphCase(), async (c) => {
    const run = await oracle.run(c);
    const found = run.violations.filter((v) => (only === undefined || v.cls === only) && (match === undefined || v.what.includes(match)));
    if (found.length === 0) return;
    const classes = [...new Set(found.map((v) => v.cls))].join(', ');
    const g = run.graph;
    throw new Error(
      `integrity violated (${classes}) in ${g.name} [multiArch ${g.multiArch}, signedIdentity ${g.identity}]\n` +
        `${found
          .slice(0, 6)
          .map((v) => `  ${v.cls}: ${v.what}`)
          .join('\n')}\nrequests:\n${run.log.map((line, i) => `  ${i + 1}. ${line}`).join('\n')}`,
    );
  });
}
