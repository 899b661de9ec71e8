// containerd pulling through trustgate, with the real containerd (Debian 12: 1.6.20) and `ctr`: the
// hosts.toml of README "Pointing clients at trustgate" sends every pull through trustgate exactly
// once and never to the origin; a malformed hosts.toml sends containerd straight to the origin.
//
// The image names point at the ORIGIN, as a pod spec does (`<origin>/app:signed`), and the hosts dir
// maps that host to trustgate, so a pull that goes around trustgate is seen. The origin registry has
// two entrances (TCP taps, each counting what it relays): the one named in the image references,
// which only a bypassing client would use, and the one trustgate is configured with.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startContainerd, writeHostsToml, type CtrResult, type RunningContainerd } from '../kit/containerd.ts';
import { buildImage, cosignSignImage, httpGet, makeTls, push, startRegistry, type RunningRegistry, type TlsFiles } from '../kit/index.ts';
import { recordingLogger } from '../support/helpers.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { startUpstreamTap, type UpstreamTap } from '../support/upstream-tap.ts';

const notRoot = process.getuid?.() !== 0 ? 'containerd needs root (as in CI)' : false;

let work: string;
const logger = recordingLogger();
let registry: RunningRegistry;
let clientEntrance: UpstreamTap; // the origin as image references name it
let trustgateEntrance: UpstreamTap; // the origin as trustgate's upstream URL names it
let tls: TlsFiles;
let proxy: RunningProxy;
let containerd: RunningContainerd;
let origin: string; // host:port of the client entrance
let hostsDir: string;
/** trustgate's clock: still within each case, a second on between cases, so denied-pull windows never span two. */
let clock = Date.now();
const digests: Record<string, string> = {};

/** The form README "Pointing clients at trustgate" gives for containerd 1.6 (and 1.7, 2.x). */
const exactlyOnce = (url: string, caFile: string): string => `server = "${url}"
capabilities = ["push"]

[host."${url}"]
  capabilities = ["pull", "resolve"]
  ca = "${caFile}"
`;

interface Seen {
  readonly requests: string[];
  readonly decisions: Array<{ method: string; outcome: string; rule: string; reasons: string[]; requestId: string; name: string }>;
  readonly originFromClients: string[];
  readonly originFromTrustgate: number;
}

/** Runs one ctr pull and collects what trustgate and both entrances of the origin saw meanwhile. */
async function pull(ref: string, options: { hostsDir?: string; debug?: boolean } = {}): Promise<{ ctr: CtrResult; seen: Seen }> {
  clock += 1000;
  logger.records.length = 0;
  clientEntrance.reset();
  trustgateEntrance.reset();
  const ctr = await containerd.pull(ref, { hostsDir: options.hostsDir ?? hostsDir, debug: options.debug ?? false });
  const records = logger.records.map((r) => r.record as Record<string, unknown>);
  return {
    ctr,
    seen: {
      requests: records
        .filter((r) => r['event'] === 'access')
        .map((r) => `${String(r['method'])} ${String(r['route'])} ${String(r['status'])}`),
      decisions: records.filter((r) => r['event'] === 'decision') as unknown as Seen['decisions'],
      originFromClients: clientEntrance.requests().map((r) => `${r.method} ${r.path}`),
      originFromTrustgate: trustgateEntrance.requests().length,
    },
  };
}

async function scrape(): Promise<Map<string, number>> {
  const res = await httpGet(`${proxy.url}/metrics`, { caFile: tls.caFile });
  assert.equal(res.status, 200);
  const values = new Map<string, number>();
  for (const line of res.body.toString().split('\n')) {
    const match = /^([a-z_:]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match !== null) values.set(match[1]!, Number(match[2]));
  }
  return values;
}
const delta = (before: Map<string, number>, after: Map<string, number>, series: string): number =>
  (after.get(series) ?? 0) - (before.get(series) ?? 0);

const UNSIGNED_DECISIONS = 'trustgate_decisions_total{outcome="deny",reason="unsigned",rule="signed",upstream="origin"}';
const UNSIGNED_DENIED_PULLS = 'trustgate_denied_pulls_total{reason="unsigned",upstream="origin"}';

describe('containerd (ctr) through trustgate', { skip: notRoot }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tg-containerd-e2e-'));
    registry = await startRegistry();
    const registryAddress = { host: '127.0.0.1', port: Number(new URL(registry.url).port) };
    clientEntrance = await startUpstreamTap(registryAddress);
    trustgateEntrance = await startUpstreamTap(registryAddress);
    origin = new URL(clientEntrance.url).host;
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (const tag of ['signed', 'unsigned', 'by-digest', 'twice', 'bypassed', 'server-only']) {
      const image = await buildImage(join(work, tag), { seed: `containerd-${tag}` });
      const pushed = await push(image.layoutDir, `docker://${registry.host}/app:${tag}`);
      assert.equal(pushed.code, 0, pushed.stderr);
      digests[tag] = image.manifestDigest;
    }
    // Signed for the name clients use: trustgate's canonical name is <origin>/app (registryHost).
    await cosignSignImage(registry.url, 'app', digests['signed']!, `${origin}/app`, key.privateKey);
    tls = await makeTls();
    proxy = await startProxy(
      `listen: { tls: { certFile: ${tls.certFile}, keyFile: ${tls.keyFile} } }
upstreams:
  - name: origin
    url: ${trustgateEntrance.url}
    registryHost: "${origin}"
    repositories: ["${origin}/**"]
`,
      {
        policy: `version: 1\nrules:\n  - { name: signed, images: ["${origin}/**"] }\n`,
        keys: [{ id: 'ci', pem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${origin}/**`] }],
        now: () => clock,
      },
      logger,
    );
    containerd = await startContainerd();
    hostsDir = join(work, 'certs.d');
    await writeHostsToml(hostsDir, origin, exactlyOnce(proxy.url, tls.caFile));
  });

  after(async () => {
    await containerd?.stop();
    await proxy?.close();
    await clientEntrance?.close();
    await trustgateEntrance?.close();
    await registry?.stop();
    if (tls !== undefined) rmSync(tls.dir, { recursive: true, force: true });
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('the signed image › pulled and unpacked, every request through trustgate once, none to the origin from the client', async () => {
    const ref = `${origin}/app:signed`;
    const { ctr, seen } = await pull(ref);
    assert.equal(ctr.code, 0, ctr.stderr);
    assert.match(ctr.stdout, new RegExp(`unpacking linux/amd64 ${digests['signed']}\\.\\.\\.\\s*done`));
    assert.deepEqual(seen.requests, [
      'HEAD /v2/<name>/manifests/<ref> 200', // resolve the tag
      'GET /v2/<name>/manifests/<ref> 200', // the manifest by digest
      'GET /v2/<name>/blobs/<digest> 200', // config and layer, in either order
      'GET /v2/<name>/blobs/<digest> 200',
    ]);
    assert.deepEqual(
      seen.decisions.map((d) => `${d.method} ${d.outcome} ${d.rule}`),
      ['HEAD allow signed', 'GET allow signed'],
    );
    assert.deepEqual(seen.originFromClients, []);
    assert.ok(seen.originFromTrustgate > 0, 'trustgate read the image from the origin');
    const listed = await containerd.ctr(['images', 'ls', '-q']);
    assert.deepEqual(listed.stdout.trim().split('\n'), [ref]);
  });

  it('the unsigned image › refused with 403 Forbidden from trustgate, asked once (one HEAD), counted once', async () => {
    const before = await scrape();
    const { ctr, seen } = await pull(`${origin}/app:unsigned`);
    const after = await scrape();
    assert.equal(ctr.code, 1);
    assert.equal(
      ctr.stderr.trim(),
      `ctr: failed to resolve reference "${origin}/app:unsigned": pulling from host ${proxy.host} failed with status code [manifests unsigned]: 403 Forbidden`,
    );
    assert.deepEqual(seen.requests, ['HEAD /v2/<name>/manifests/<ref> 403']);
    assert.deepEqual(
      seen.decisions.map((d) => `${d.method} ${d.outcome} ${d.rule} ${d.reasons.join(',')} ${d.name}`),
      [`HEAD deny signed unsigned ${origin}/app`],
    );
    assert.deepEqual(seen.originFromClients, []);
    assert.equal(delta(before, after, UNSIGNED_DECISIONS), 1);
    assert.equal(delta(before, after, UNSIGNED_DENIED_PULLS), 1);
  });

  it("by digest › the manifest HEAD and containerd's fallback HEAD of blobs/<digest> are both refused; one decision, one denied pull; ctr --debug shows the Warning", async () => {
    const before = await scrape();
    const { ctr, seen } = await pull(`${origin}/app@${digests['by-digest']}`, { debug: true });
    const after = await scrape();
    assert.equal(ctr.code, 1);
    assert.match(
      ctr.stderr,
      new RegExp(
        `ctr: failed to resolve reference "${origin}/app@${digests['by-digest']}": pulling from host ${proxy.host} failed with status code \\[manifests ${digests['by-digest']}\\]: 403 Forbidden\\n?$`,
      ),
    );
    assert.deepEqual(seen.requests, ['HEAD /v2/<name>/manifests/<ref> 403', 'HEAD /v2/<name>/blobs/<digest> 403']);
    assert.deepEqual(
      seen.decisions.map((d) => `${d.method} ${d.outcome} ${d.rule} ${d.reasons.join(',')}`),
      ['HEAD deny signed unsigned', 'HEAD deny blob-gate blob_not_referenced'],
    );
    // Where a containerd user finds the reason: the debug log of the answer, naming the request id
    // the decision log record carries.
    const warnings = [...ctr.stderr.matchAll(/response\.header\.warning="299 trustgate \\"([a-z_]+) request-id=([A-Za-z0-9._-]+)\\""/g)];
    assert.deepEqual(
      warnings.map((w) => [w[1], w[2]]),
      seen.decisions.map((d) => [d.reasons[0], d.requestId]),
    );
    assert.deepEqual(seen.originFromClients, []);
    assert.equal(delta(before, after, UNSIGNED_DECISIONS), 1); // manifest pulls only: the blob refusal is logged, not counted
    assert.equal(delta(before, after, UNSIGNED_DENIED_PULLS), 1);
  });

  it('the old README form (`server` and [host] the same trustgate) › every denial asked twice: two decisions, still one denied pull', async () => {
    const twice = join(work, 'certs.d-twice');
    await writeHostsToml(
      twice,
      origin,
      `server = "${proxy.url}"\nca = "${tls.caFile}"\n\n[host."${proxy.url}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${tls.caFile}"\n`,
    );
    const before = await scrape();
    const { ctr, seen } = await pull(`${origin}/app:twice`, { hostsDir: twice });
    const after = await scrape();
    assert.equal(ctr.code, 1);
    assert.deepEqual(seen.requests, ['HEAD /v2/<name>/manifests/<ref> 403', 'HEAD /v2/<name>/manifests/<ref> 403']);
    assert.equal(delta(before, after, UNSIGNED_DECISIONS), 2);
    assert.equal(delta(before, after, UNSIGNED_DENIED_PULLS), 1);
    assert.deepEqual(seen.originFromClients, []);
  });

  it('a malformed hosts.toml › containerd logs an error and pulls the unsigned image straight from the origin; trustgate never hears of it', async () => {
    const broken = join(work, 'certs.d-broken');
    // One missing quote: the kind of typo a config change can carry to every node.
    await writeHostsToml(broken, origin, exactlyOnce(proxy.url, tls.caFile).replace(`server = "${proxy.url}"`, `server = "${proxy.url}`));
    const { ctr, seen } = await pull(`${origin}/app:bypassed`, { hostsDir: broken, debug: true });
    assert.equal(ctr.code, 0, ctr.stderr); // the bypass: an unsigned image pulled
    assert.match(ctr.stderr, /level=error msg="failed to decode hosts\.toml" error="failed to parse TOML: /);
    assert.deepEqual(seen.requests, []);
    assert.deepEqual(seen.decisions, []);
    assert.deepEqual(seen.originFromClients.slice(0, 2), [
      'HEAD /v2/app/manifests/bypassed',
      `GET /v2/app/manifests/${digests['bypassed']}`,
    ]);
    assert.equal(seen.originFromClients.length, 4); // and its config and layer blobs
    // The operator's check: in `ctr --debug` (or containerd's debug log, for CRI) every answer names
    // the host it came from; trustgate's answers carry X-Request-Id, the origin's do not.
    const answers = [...ctr.stderr.matchAll(/msg="fetch response received".* url="([^"]+)"/g)].map((m) => new URL(m[1]!).host);
    assert.ok(answers.length >= 4);
    assert.ok(
      answers.every((host) => host === origin),
      answers.join(', '),
    );
    assert.doesNotMatch(ctr.stderr, /response\.header\.x-request-id/);
  });

  it('a hosts.toml with only `server` › containerd 1.6 rejects it ("invalid `host` tree") and goes to the origin; 1.7 and later use it', async () => {
    const version = (await containerd.ctr(['version'])).stdout;
    const minor = /Server:\s+Version:\s+v?(\d+)\.(\d+)/.exec(version);
    assert.ok(minor !== null, version);
    const is16 = Number(minor[1]) === 1 && Number(minor[2]) <= 6;
    const serverOnly = join(work, 'certs.d-server-only');
    await writeHostsToml(serverOnly, origin, `server = "${proxy.url}"\nca = "${tls.caFile}"\n`);
    const { ctr, seen } = await pull(`${origin}/app:server-only`, { hostsDir: serverOnly });
    if (is16) {
      assert.equal(ctr.code, 0, ctr.stderr); // the bypass again
      assert.match(ctr.stderr, /level=error msg="failed to decode hosts\.toml" error="invalid `host` tree"/);
      assert.deepEqual(seen.requests, []);
      assert.equal(seen.originFromClients.length, 4);
    } else {
      assert.equal(ctr.code, 1);
      assert.deepEqual(seen.requests, ['HEAD /v2/<name>/manifests/<ref> 403']);
      assert.deepEqual(seen.originFromClients, []);
    }
  });

  it('stop() › containerd and its whole process group are gone, and so is its directory', async () => {
    const { pid, dir } = containerd;
    await containerd.stop();
    assert.throws(() => process.kill(-pid, 0), { code: 'ESRCH' });
    assert.equal(existsSync(dir), false);
  });
});
