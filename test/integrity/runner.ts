// One graph's run through trustgate: each step is a client request (or an admin action), and every
// answer is judged at once against the expected answer for the state before it (expected.ts).
import { Agent, request as httpRequest } from 'node:http';
import type { Harness } from '../support/app-harness.ts';
import { blobLegit, classifyBlob, classifyManifest, manifestLegit, mustServe, type OracleState } from './expected.ts';
import { candidates, type Step } from './graph.ts';
import { unbuilt, type Asked, type GraphUpstream } from './graph-upstream.ts';
import { ACCEPT, refText, sha256, type Graph, type Node, type Ref, type ViolationClass } from './model.ts';
import { smuggle } from './smuggle.ts';

export interface Session {
  readonly harness: Harness;
  readonly upstream: GraphUpstream;
  readonly url: string;
  readonly agent: Agent;
  readonly bearer: string;
}
export interface Violation {
  readonly cls: ViolationClass;
  readonly what: string;
}
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

const short = (text: string): string => text.replace(/sha256([:-])([0-9a-f]{8})[0-9a-f]{56}/g, 'sha256$1$2…');

/** One request to the listener; a transport failure is status 0 (never a 200). */
export function call(session: Session, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const failed = (): void => resolve({ status: 0, headers: {}, body: Buffer.alloc(0) });
    const req = httpRequest(`${session.url}${path}`, { method, headers, agent: session.agent, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', failed);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', failed);
    req.end(body);
  });
}

export class GraphRunner {
  readonly violations: Violation[] = [];
  readonly log: string[] = [];
  private readonly state = { revoked: false, bg: new Set<string>(), everBg: new Set<string>() };
  private readonly asked: Asked = { refs: new Set(), blobs: new Set() };
  private readonly pool: ReturnType<typeof candidates>;
  private breakGlassId: string | undefined;
  private checked = 0;

  constructor(
    private readonly session: Session,
    private readonly g: Graph,
    private readonly keyId: string,
  ) {
    this.pool = candidates(g);
  }

  async step(step: Step): Promise<void> {
    if (step.kind === 'manifest') await this.pullManifest(this.pool.refs[step.pick % this.pool.refs.length]!, step.head, step.walk);
    else if (step.kind === 'blob') await this.pullBlob(this.pool.blobs[step.pick % this.pool.blobs.length]!, step.head);
    else if (step.kind === 'bg-open') await this.openBreakGlass();
    else if (step.kind === 'bg-end') await this.endBreakGlass();
    else if (step.kind === 'smuggle') await this.smuggle(step);
    else await this.revoke();
  }

  /** Requests the upstream received that no client pull explains (checked after each smuggle, and at the end). */
  checkUpstream(): void {
    const records = this.session.upstream.records();
    for (; this.checked < records.length; this.checked++) {
      const record = records[this.checked]!;
      const why = unbuilt(this.g, this.asked, record);
      if (why !== undefined) this.flag('smuggling', `the upstream received ${record.method} ${record.url}: ${why}`);
    }
  }

  private flag(cls: ViolationClass, what: string): void {
    this.violations.push({ cls, what: short(`${what} (request ${this.log.length})`) });
  }

  /** The state a request is judged by: as it was when the request was sent. */
  private snapshot(): OracleState {
    return { revoked: this.state.revoked, bg: new Set(this.state.bg), everBg: new Set(this.state.everBg) };
  }

  private async pullBlob(digest: string, head: boolean): Promise<number> {
    this.asked.blobs.add(digest);
    const before = this.snapshot();
    const res = await call(this.session, head ? 'HEAD' : 'GET', `/v2/${this.g.repo}/blobs/${digest}`);
    this.log.push(short(`${head ? 'HEAD' : 'GET'} blobs/${digest} → ${res.status}`));
    if ((res.status === 200 || res.status === 206) && !blobLegit(this.g, before, digest)) {
      this.flag(classifyBlob(this.g, before, digest), `blob ${digest} served (${res.status}) but no legitimate manifest names it`);
    }
    return res.status;
  }

  private async pullManifest(ref: Ref, head: boolean, walk = false): Promise<void> {
    this.asked.refs.add(refText(ref));
    const before = this.snapshot();
    const res = await call(this.session, head ? 'HEAD' : 'GET', `/v2/${this.g.repo}/manifests/${refText(ref)}`, { accept: ACCEPT });
    this.log.push(short(`${head ? 'HEAD' : 'GET'} manifests/${refText(ref)} → ${res.status}`));
    const served = res.status === 200 ? this.checkManifest(ref, head, res, before) : undefined;
    if (await this.checkLiveness(ref, res.status, before)) return; // its blobs were just pulled
    if (!walk || served === undefined) return;
    const child = served.isIndex ? served.children[0] : undefined;
    if (child !== undefined) await this.pullManifest({ kind: 'digest', digest: child }, false, true);
    for (const digest of served.blobs) await this.pullBlob(digest, false);
  }

  /** The served manifest's node, after judging it. */
  private checkManifest(ref: Ref, head: boolean, res: Answer, before: OracleState): Node | undefined {
    const header = String(res.headers['docker-content-digest'] ?? '');
    const digest = head ? header : sha256(res.body);
    if (!head && header !== digest) this.flag('other', `${refText(ref)}: Docker-Content-Digest ${header} for bytes ${digest}`);
    if (ref.kind === 'digest' && digest !== ref.digest) this.flag('other', `${ref.digest} answered with ${digest}`);
    const node = this.g.nodes.get(digest);
    if (node === undefined) return void this.flag('other', `${refText(ref)} served ${digest}, which is in no graph`);
    if (!manifestLegit(this.g, before, node, ref))
      this.flag(classifyManifest(this.g, before, node, ref), `manifest ${refText(ref)} (${node.kind} ${digest}) served but not legitimate`);
    return node;
  }

  /** A deny-everything gate must not pass: an image K signed for this tag is served, then its blobs. True when it applied. */
  private async checkLiveness(ref: Ref, status: number, before: OracleState): Promise<boolean> {
    const node = ref.kind === 'tag' ? this.g.nodes.get(this.g.tags.get(ref.tag) ?? '') : undefined;
    if (ref.kind !== 'tag' || node === undefined || !mustServe(this.g, before, node, ref.tag)) return false;
    if (status !== 200) {
      this.flag('liveness', `${ref.tag}, signed by K for that tag, answered ${status}`);
      return true;
    }
    for (const digest of node.blobs) {
      const blob = await this.pullBlob(digest, false);
      if (blob !== 200) this.flag('liveness', `blob ${digest} of ${ref.tag}, fetched right after it was served, answered ${blob}`);
    }
    return true;
  }

  private async smuggle(step: Extract<Step, { kind: 'smuggle' }>): Promise<void> {
    // Through a blob trustgate would stream (a K-signed image's layer, pulled first), so a proxy that pipes bodies would pipe this one.
    const signed = [...this.g.tags]
      .map(([tag, d]) => ({ tag, node: this.g.nodes.get(d)! }))
      .find(({ tag, node }) => mustServe(this.g, this.state, node, tag));
    if (signed !== undefined) await this.pullManifest({ kind: 'tag', tag: signed.tag }, false);
    const layer = signed?.node.blobs[1] ?? this.pool.blobs[0]!;
    const inner = step.catalog || this.g.deniedLayer === undefined ? '/v2/_catalog' : `/v2/${this.g.repo}/blobs/${this.g.deniedLayer}`;
    const method = step.head ? 'HEAD' : 'GET';
    const status = await smuggle(new URL(this.session.url).host, { method, path: `/v2/${this.g.repo}/blobs/${layer}`, inner });
    this.log.push(short(`${method} blobs/${layer} with Transfer-Encoding: chunked, body "GET ${inner}" → ${status}`));
    if (status !== 400) this.flag('smuggling', `a blob ${method} with a chunked body answered ${status}, not 400`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // let a smuggled request reach the upstream
    this.checkUpstream();
  }

  private async openBreakGlass(): Promise<void> {
    const target = this.g.breakGlass;
    if (target === undefined || this.breakGlassId !== undefined) return;
    const body = JSON.stringify({
      image: `${this.g.name}@${target}`,
      reason: 'integrity oracle',
      expires: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const res = await call(
      this.session,
      'POST',
      '/admin/v1/breakglass',
      { authorization: this.session.bearer, 'content-type': 'application/json' },
      body,
    );
    if (res.status !== 201) throw new Error(`break glass refused: ${res.status} ${res.body.toString()}`);
    this.breakGlassId = (JSON.parse(res.body.toString()) as { id: string }).id;
    this.state.bg.add(target);
    this.state.everBg.add(target);
    this.log.push(short(`break glass opened for @${target}`));
  }

  private async endBreakGlass(): Promise<void> {
    if (this.breakGlassId === undefined) return;
    const res = await call(this.session, 'DELETE', `/admin/v1/breakglass/${this.breakGlassId}`, { authorization: this.session.bearer });
    if (res.status !== 200) throw new Error(`break glass end refused: ${res.status}`);
    this.breakGlassId = undefined;
    this.state.bg.clear();
    this.log.push('break glass ended');
  }

  /** K revoked through the runtime's trust store: nothing that relies only on K may be served after. */
  private async revoke(): Promise<void> {
    if (this.state.revoked) return;
    await this.session.harness.runtime.trust.revoke(this.keyId, 'integrity oracle', Date.now());
    this.state.revoked = true;
    this.log.push('K revoked');
  }
}
