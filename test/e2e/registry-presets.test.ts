// Each registry preset (src/config/presets.ts) against a local front that behaves like that registry
// (test/kit/registry-front.ts): its token realm (on another origin for Docker Hub), Basic auth (ECR),
// blobs redirected to its storage host with a signed query, registry.k8s.io's redirect of every API
// request to an Artifact Registry mirror, and 429 with Retry-After. Signed images are pulled through
// trustgate with skopeo; the config uses the preset as an operator would, plus the test CA and the
// loopback network (see `upstreamYaml`).
// Run: node --import tsx --test test/e2e/registry-presets.test.ts
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectToResolver, type AddressResolver } from '../../src/upstream/egress.ts';
import {
  blobPath,
  buildImage,
  copy,
  cosignSignImage,
  httpGet,
  inspect,
  putBlob,
  putManifest,
  startRegistry,
  type BuiltImage,
  type HttpGetResult,
  type RunningRegistry,
} from '../kit/index.ts';
import {
  makeFrontTls,
  startRegistryFront,
  UNLISTED_STORAGE_HOST,
  type Credentials,
  type FrontPreset,
  type FrontRequest,
  type FrontTls,
  type RegistryFront,
} from '../kit/registry-front.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const hexOf = (digest: string): string => digest.slice(digest.indexOf(':') + 1);
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

const work = mkdtempSync(join(tmpdir(), 'tg-presets-'));
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signerPem = signer.publicKey.export({ type: 'spki', format: 'pem' }).toString();
let backing: RunningRegistry;
let tls: FrontTls;

before(async () => {
  backing = await startRegistry();
  mkdirSync(join(work, 'tls'));
  tls = await makeFrontTls(join(work, 'tls'));
});

after(async () => {
  await backing?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface PresetCase {
  readonly preset: FrontPreset;
  /** The repositories' namespace on the registry. */
  readonly namespace: string;
  /** For registries per account or region: the URL an operator writes. */
  readonly url?: string;
  /** What the front requires (token endpoint or Basic); absent: anonymous. */
  readonly credentials?: Credentials;
  /** The upstream's `auth` lines, as an operator writes them. */
  readonly auth?: (dir: string) => string;
  readonly env?: Readonly<Record<string, string>>;
}

const ECR_TOKENS = ['eyJwYXlsb2FkIjoiZWNyLXRva2VuLTEifQ', 'eyJwYXlsb2FkIjoiZWNyLXRva2VuLTIifQ'] as const;
const basicAuth = (username: string, password: string): string =>
  `    auth: { type: basic, username: ${JSON.stringify(username)}, password: ${password} }\n    allowAnonymousPulls: true\n`;

const CASES: readonly PresetCase[] = [
  {
    preset: 'dockerhub',
    namespace: 'acme',
    credentials: { username: 'acmebot', password: 'dckr_pat_front-test' },
    auth: () => basicAuth('acmebot', '{ env: DOCKERHUB_TOKEN }'),
    env: { DOCKERHUB_TOKEN: 'dckr_pat_front-test' },
  },
  { preset: 'ghcr', namespace: 'acme' },
  {
    preset: 'quay',
    namespace: 'acme',
    credentials: { username: 'acme+puller', password: 'QUAYROBOTTOKEN0123' },
    auth: () => basicAuth('acme+puller', '{ env: QUAY_ROBOT_TOKEN }'),
    env: { QUAY_ROBOT_TOKEN: 'QUAYROBOTTOKEN0123' },
  },
  { preset: 'gcr', namespace: 'acme-project' },
  { preset: 'registry-k8s', namespace: 'e2e-test-images' },
  {
    preset: 'ecr',
    namespace: 'team',
    url: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
    credentials: { username: 'AWS', password: ECR_TOKENS[0] },
    // `aws ecr get-login-password > ecr-password`, refreshed by a timer: the password is a file.
    auth: (dir) => basicAuth('AWS', `{ file: ${join(dir, 'ecr-password')} }`),
  },
  {
    preset: 'acr',
    namespace: 'team',
    url: 'https://myregistry.azurecr.io',
    credentials: { username: 'myregistry', password: 'acr-admin-password' },
    auth: () => basicAuth('myregistry', '{ env: ACR_PASSWORD }'),
    env: { ACR_PASSWORD: 'acr-admin-password' },
  },
  {
    preset: 'artifact-registry',
    namespace: 'my-project/my-repo',
    url: 'https://europe-west1-docker.pkg.dev',
    credentials: { username: 'oauth2accesstoken', password: 'ya29.front-test-token' },
    auth: () => basicAuth('oauth2accesstoken', '{ env: GCP_ACCESS_TOKEN }'),
    env: { GCP_ACCESS_TOKEN: 'ya29.front-test-token' },
  },
];

/** The upstream as an operator configures it with a preset, plus what the local fronts need. */
function upstreamYaml(c: PresetCase, front: RegistryFront, dir: string, mode: 'follow' | 'pass', loopback = true): string {
  return `listen: { plainHttp: true }
upstreams:
  - name: ${c.preset}
    preset: ${c.preset}
${c.url === undefined ? '' : `    url: ${c.url}\n`}    default: true
    repositories: ["${front.spec.registryHost}/${c.namespace}/**"]
    # The fronts' certificates come from a test CA.
    tls: { caFile: ${JSON.stringify(tls.caFile)} }
    # The fronts listen on 127.0.0.1, and a redirect hop to a loopback (or private, link-local, ...)
    # address is refused unless a network lists it: that is the design (upstream/egress.ts), so a
    # registry cannot point trustgate at its own host's services. Real storage hosts are public.
    blobRedirects: { mode: ${mode}${loopback ? ', allowedNetworks: ["127.0.0.1/32"]' : ''} }
${c.auth?.(dir) ?? ''}`;
}

/** Every host of the front mapped to its port; any other name fails, so nothing leaves the machine. */
function resolverFor(front: RegistryFront): AddressResolver {
  return connectToResolver(front.connectTo, async (hostname) => {
    throw new Error(`${hostname} is not a host of the test front`);
  });
}

interface OciErrorEntry {
  readonly code: string;
  readonly message: string;
  readonly detail?: unknown;
}
function ociError(res: HttpGetResult): OciErrorEntry {
  assert.equal(res.headers['content-type'], 'application/json');
  const body = JSON.parse(res.body.toString()) as { errors: OciErrorEntry[] };
  assert.equal(body.errors.length, 1);
  return body.errors[0]!;
}

const refusedMessage = (c: PresetCase, host: string): string =>
  `upstream_redirect_refused: upstream "${c.preset}" redirected to ${host}, which is not an allowed storage host (preset ${c.preset}); ` +
  'to allow it, change upstreams[0].blobRedirects.allowedHosts';

// The presets run side by side (each has its own front and trustgates); each preset's tests run in order.
describe('registry presets', { concurrency: true }, () => {
  for (const c of CASES) {
    describe(`preset ${c.preset}`, { concurrency: 1 }, () => {
      const dir = join(work, c.preset);
      let front: RegistryFront;
      let follow: RunningProxy;
      let pass: RunningProxy;
      const images: Record<string, BuiltImage> = {};
      /** The cosign signature's payload blob, per signed image. */
      const signatureBlob: Record<string, string> = {};
      /** The log of the first pull, by the follow-mode trustgate. */
      let firstPull: FrontRequest[] = [];
      const name = (image: string): string => `${c.namespace}/${image}`;
      const canonical = (image: string): string => `${front.spec.registryHost}/${name(image)}`;
      /** What the registry API sees on every request where auth applies. */
      const expectedAuth = (): FrontRequest['authorization'] =>
        front.spec.auth.kind === 'token' ? 'bearer' : front.spec.auth.kind === 'basic' ? 'basic' : 'none';

      /** An image pushed as `<name>:v1` to the backing registry, where the front serves it from. */
      async function pushImage(image: string): Promise<BuiltImage> {
        const built = await buildImage(join(dir, image), { seed: `${c.preset}/${image}`, layers: 2 });
        const repository = front.backingRepository(name(image));
        const child = built.children[0]!;
        for (const digest of [child.configDigest, ...child.layers])
          await putBlob(backing.url, repository, readFileSync(blobPath(built.layoutDir, digest)));
        await putManifest(backing.url, repository, 'v1', built.manifestBytes, built.mediaType);
        images[image] = built;
        return built;
      }
      async function sign(image: string): Promise<void> {
        const digest = images[image]!.manifestDigest;
        const pushed = await cosignSignImage(
          backing.url,
          front.backingRepository(name(image)),
          digest,
          canonical(image),
          signer.privateKey,
        );
        const layers = (JSON.parse(pushed.manifestBytes.toString()) as { layers: Array<{ digest: string }> }).layers;
        signatureBlob[image] = layers[0]!.digest;
      }
      const options = () => ({
        policy: `version: 1\nrules:\n  - { name: signed, images: ["${front.spec.registryHost}/${c.namespace}/**"] }\n`,
        keys: [{ id: 'release', pem: signerPem, scopes: [`${front.spec.registryHost}/**`] }],
        env: { ...c.env },
        resolver: resolverFor(front),
      });
      const manifestGet = (proxy: RunningProxy, image: string, reference = 'v1'): Promise<HttpGetResult> =>
        httpGet(`${proxy.url}/v2/${name(image)}/manifests/${reference}`, { headers: { accept: ACCEPT } });

      before(async () => {
        mkdirSync(dir);
        writeFileSync(join(dir, 'ecr-password'), `${ECR_TOKENS[0]}\n`);
        front = await startRegistryFront(c.preset, { backingUrl: backing.url, tls, credentials: c.credentials });
        for (const image of ['app', 'unsigned', 'limited', 'moved']) await pushImage(image);
        for (const image of ['app', 'limited', 'moved']) await sign(image);
        follow = await startProxy(upstreamYaml(c, front, dir, 'follow'), options());
        pass = await startProxy(upstreamYaml(c, front, dir, 'pass'), options());
      });
      after(async () => {
        await follow?.close();
        await pass?.close();
        await front?.stop();
      });

      it('a signed image › skopeo pulls it through trustgate (blobRedirects follow): the pushed digest and layers', async () => {
        const mark = front.mark();
        const out = join(dir, 'pulled-app');
        const res = await copy(`docker://${follow.host}/${name('app')}:v1`, out);
        assert.equal(res.code, 0, res.stderr);
        firstPull = front.since(mark);
        assert.equal(sha256(readFileSync(join(out, 'manifest.json'))), images['app']!.manifestDigest);
        for (const layer of images['app']!.layerDigests) assert.equal(sha256(readFileSync(join(out, hexOf(layer)))), layer);
      });

      it('the signature blob came through the storage redirect: Authorization on the registry origin only, none on storage', () => {
        const sigBlob = signatureBlob['app']!;
        const storageHost = front.spec.storageHosts[0]!;
        // The registry API answered the signature blob GET with a 307 to storage, with the signed query.
        const redirected = firstPull.filter((e) => e.role === 'api' && e.kind === 'blobs' && e.reference === sigBlob);
        assert.deepEqual(
          redirected.map((e) => [e.host, e.status, e.authorization]),
          [[front.spec.mirror?.host ?? front.spec.apiHost, 307, expectedAuth()]],
        );
        const location = new URL(redirected[0]!.location!);
        assert.equal(location.hostname, storageHost);
        assert.notEqual(location.search, '');
        // The storage host served it (it checked the signed query), and saw no Authorization.
        const stored = firstPull.filter((e) => e.role === 'storage' && e.digest === sigBlob);
        assert.deepEqual(
          stored.map((e) => [e.host, e.method, e.status, e.authorization]),
          [[storageHost, 'GET', 200, 'none']],
        );
        // Layers too, in follow mode.
        for (const layer of images['app']!.layerDigests) {
          assert.ok(
            firstPull.some((e) => e.role === 'storage' && e.digest === layer && e.status === 200),
            `layer ${layer} from storage`,
          );
        }
        if (front.spec.mirror !== undefined) {
          // registry.k8s.io sent the signature blob GET (and every API request) on to the mirror.
          const hop = firstPull.find((e) => e.role === 'redirect' && e.kind === 'blobs' && e.reference === sigBlob);
          assert.equal(hop?.status, 307);
          assert.equal(hop.location, `https://${front.spec.mirror.host}/v2/${front.spec.mirror.prefix}${name('app')}/blobs/${sigBlob}`);
          const manifests = firstPull.filter((e) => e.role === 'redirect' && e.kind === 'manifests');
          assert.ok(manifests.length > 0 && manifests.every((e) => e.status === 307));
        }
        // Where the API is served, every request carried trustgate's credentials (where auth applies).
        const apiHost = front.spec.mirror?.host ?? front.spec.apiHost;
        const onApi = firstPull.filter((e) => e.host === apiHost && e.role === 'api' && e.path !== '/v2/' && e.status !== 401);
        assert.ok(onApi.length > 0);
        for (const e of onApi) assert.equal(e.authorization, expectedAuth(), `${e.method} ${e.path}`);
        // Authorization never crossed origins: no host but the API's saw any, except Basic at the token realm.
        for (const e of firstPull) {
          if (e.role === 'token') assert.notEqual(e.authorization, 'bearer', `${e.host}${e.path}`);
          else if (e.host !== front.spec.apiHost) assert.equal(e.authorization, 'none', `${e.role} ${e.host}${e.path}`);
        }
      });

      if (c.preset === 'ecr' || c.preset === 'registry-k8s') {
        it(`no token realm (${c.preset === 'ecr' ? 'Basic auth' : 'anonymous'}): no token endpoint was called`, () => {
          assert.deepEqual(
            firstPull.filter((e) => e.role === 'token'),
            [],
          );
          if (c.preset === 'registry-k8s') {
            assert.deepEqual(
              firstPull.filter((e) => e.authorization !== 'none'),
              [],
            );
          } else {
            // ECR: the first request learns the Basic challenge; every later one carries the credentials.
            const challenged = firstPull.filter((e) => e.status === 401);
            assert.ok(challenged.length > 0);
            assert.ok(challenged.every((e) => e.authorization === 'none'));
          }
        });
      } else {
        it('the token came from the realm origin, with the configured credentials', () => {
          const auth = front.spec.auth;
          assert.equal(auth.kind, 'token');
          if (auth.kind !== 'token') return;
          const calls = firstPull.filter((e) => e.role === 'token');
          assert.ok(calls.length > 0, 'a token was fetched');
          for (const call of calls) {
            // token.md "Requesting a Token": GET <realm>?service=<service>&scope=repository:<name>:pull.
            assert.equal(`https://${call.host}${call.path}`, auth.realm);
            assert.equal(call.token?.service, auth.service);
            assert.equal(call.authorization, c.credentials === undefined ? 'none' : 'basic');
            assert.equal(call.status, 200);
          }
          assert.ok(calls.some((call) => call.token?.scopes.includes(`repository:${name('app')}:pull`)));
        });
      }

      it('an unsigned image › 403 DENIED, no signature found (HTTP and skopeo)', async () => {
        const res = await manifestGet(follow, 'unsigned');
        assert.equal(res.status, 403);
        const error = ociError(res);
        assert.equal(error.code, 'DENIED');
        assert.equal(error.message, `trustgate denied ${canonical('unsigned')} (rule "signed"): no signature found`);
        assert.deepEqual(error.detail, {
          name: canonical('unsigned'),
          digest: images['unsigned']!.manifestDigest,
          rule: 'signed',
          reasons: ['unsigned'],
        });
        const viaSkopeo = await inspect(`docker://${follow.host}/${name('unsigned')}:v1`, { raw: true });
        assert.notEqual(viaSkopeo.code, 0);
        assert.match(viaSkopeo.stderr, /denied: trustgate denied .*\(rule \\?"signed\\?"\): no signature found/);
      });

      it("blobRedirects pass › the client's 307 Location is exactly the front's signed storage URL, and it works as handed over", async () => {
        const mark = front.mark();
        const manifest = await manifestGet(pass, 'app');
        assert.equal(manifest.status, 200, manifest.body.toString());
        assert.equal(sha256(manifest.body), images['app']!.manifestDigest);
        const layer = images['app']!.layerDigests[0]!;
        const blob = await httpGet(`${pass.url}/v2/${name('app')}/blobs/${layer}`);
        assert.equal(blob.status, 307);
        const log = front.since(mark);
        // What the registry's API host answered for that blob: trustgate handed it on unchanged.
        const issued = log.filter((e) => e.host === front.spec.apiHost && e.kind === 'blobs' && e.reference === layer);
        assert.equal(issued.length, 1);
        assert.equal(blob.headers.location, issued[0]!.location);
        const handed = new URL(blob.headers.location!);
        assert.equal(handed.hostname, front.spec.mirror?.host ?? front.spec.storageHosts[0]);
        // Followed as a client would (for registry.k8s.io: the mirror, then S3): the bytes of the blob.
        let answer = await front.request(handed.href);
        for (let hop = 0; answer.status === 307 && hop < 3; hop++) answer = await front.request(String(answer.headers.location));
        assert.equal(answer.status, 200);
        assert.equal(sha256(answer.body), layer);
        // trustgate still reads signature blobs itself, through storage, without Authorization.
        const sig = log.filter((e) => e.role === 'storage' && e.digest === signatureBlob['app']);
        assert.deepEqual(
          sig.map((e) => [e.status, e.authorization]),
          [[200, 'none']],
        );
      });

      it('429 with Retry-After: 7 on a manifest › 429 TOOMANYREQUESTS, Retry-After: 7, no retries, nothing cached; then the pull succeeds', async () => {
        const limited = name('limited');
        const sigTag = `${images['limited']!.manifestDigest.replace(':', '-')}.sig`;
        const apiHits = (log: FrontRequest[], reference: string) =>
          log.filter((e) => e.role === 'api' && e.repository === limited && e.reference === reference);

        // The image manifest itself.
        front.rateLimit({ count: 1, retryAfterSeconds: 7, repository: limited, reference: 'v1' });
        let mark = front.mark();
        let res = await manifestGet(follow, 'limited');
        assert.equal(res.status, 429);
        assert.equal(res.headers['retry-after'], '7');
        assert.equal(ociError(res).code, 'TOOMANYREQUESTS');
        let hits = apiHits(front.since(mark), 'v1').filter((e) => e.status !== 401);
        assert.deepEqual(
          hits.map((e) => e.status),
          [429],
          'one request, no retry',
        );

        // The signature's manifest, during discovery: a rate limit is not a bad signature.
        front.rateLimit({ count: 1, retryAfterSeconds: 7, repository: limited, reference: sigTag });
        mark = front.mark();
        res = await manifestGet(follow, 'limited');
        assert.equal(res.status, 429, res.body.toString());
        assert.equal(res.headers['retry-after'], '7');
        assert.equal(ociError(res).code, 'TOOMANYREQUESTS');
        hits = apiHits(front.since(mark), sigTag).filter((e) => e.status !== 401);
        assert.deepEqual(
          hits.map((e) => e.status),
          [429],
          'one request, no retry',
        );

        // Switched off: the same pull succeeds at once (no deny was cached).
        front.clearRateLimit();
        mark = front.mark();
        const pulled = await inspect(`docker://${follow.host}/${limited}:v1`, { raw: true });
        assert.equal(pulled.code, 0, pulled.stderr);
        assert.equal(sha256(pulled.stdoutBytes), images['limited']!.manifestDigest);
        const log = front.since(mark);
        assert.ok(apiHits(log, sigTag).some((e) => e.status === 200));
        assert.equal(log.filter((e) => e.status === 429).length, 0);
      });

      it('a storage redirect to a host outside the preset › 403 DENIED upstream_redirect_refused naming blobRedirects.allowedHosts', async () => {
        front.redirectBlobsTo(UNLISTED_STORAGE_HOST);
        try {
          const mark = front.mark();
          // A signed image whose signature blob is redirected there: refused, never a bad signature.
          const res = await manifestGet(follow, 'moved');
          assert.equal(res.status, 403, res.body.toString());
          const error = ociError(res);
          assert.equal(error.code, 'DENIED');
          assert.equal(error.message, refusedMessage(c, UNLISTED_STORAGE_HOST));
          assert.deepEqual(error.detail, {
            reason: 'upstream_redirect_refused',
            host: UNLISTED_STORAGE_HOST,
            setting: 'upstreams[0].blobRedirects.allowedHosts',
          });
          assert.doesNotMatch(res.body.toString(), /signature_invalid|no valid signature/);
          // A layer of an allowed image: the same, whoever would follow the redirect.
          for (const proxy of [follow, pass]) {
            const blob = await httpGet(`${proxy.url}/v2/${name('app')}/blobs/${images['app']!.layerDigests[0]}`);
            if (proxy === pass && front.spec.mirror !== undefined) {
              // registry.k8s.io: in pass mode trustgate checks the hop it hands over (the mirror, an
              // allowed host); the client follows the mirror's redirect itself and checks the digest.
              assert.equal(blob.status, 307);
              assert.equal(new URL(String(blob.headers.location)).hostname, front.spec.mirror.host);
              continue;
            }
            assert.equal(blob.status, 403, `${proxy === follow ? 'follow' : 'pass'}: ${blob.body.toString()}`);
            assert.equal(ociError(blob).message, refusedMessage(c, UNLISTED_STORAGE_HOST));
            assert.equal(blob.headers.location, undefined);
          }
          // skopeo prints the reason for a manifest (for a blob, containers/image prints only the status).
          const inspected = await inspect(`docker://${follow.host}/${name('moved')}:v1`, { raw: true });
          assert.notEqual(inspected.code, 0);
          assert.match(
            inspected.stderr,
            /denied: upstream_redirect_refused: upstream \\?"[a-z0-9-]+\\?" redirected to blobs\.unlisted-cdn\.example\.net/,
          );
          // trustgate refused before connecting: the unlisted host saw nothing.
          assert.deepEqual(
            front.since(mark).filter((e) => e.host === UNLISTED_STORAGE_HOST),
            [],
          );
        } finally {
          front.redirectBlobsTo(front.spec.storageHosts[0]!);
        }
        // The refusal was not a verdict: with the redirect back, the same image pulls.
        const pulled = await inspect(`docker://${follow.host}/${name('moved')}:v1`, { raw: true });
        assert.equal(pulled.code, 0, pulled.stderr);
        assert.equal(sha256(pulled.stdoutBytes), images['moved']!.manifestDigest);
      });

      if (c.preset === 'ecr') {
        it('ECR › the password file is rewritten with a new token while trustgate runs: the next pull uses it', async () => {
          // The registry rotates: only the new token is accepted now; trustgate still has the old one.
          front.setCredentials({ username: 'AWS', password: ECR_TOKENS[1] });
          let mark = front.mark();
          const stale = await manifestGet(follow, 'app');
          assert.equal(stale.status, 404, stale.body.toString());
          assert.equal(ociError(stale).code, 'NAME_UNKNOWN');
          assert.ok(front.since(mark).some((e) => e.status === 401));
          // What a credential helper does: write the new token beside the file, then rename it over.
          const file = join(dir, 'ecr-password');
          writeFileSync(`${file}.new`, `${ECR_TOKENS[1]}\n`);
          renameSync(`${file}.new`, file);
          // config/secret.ts looks at a secret file again at most once a second (RECHECK_MS).
          await sleep(1_100);
          mark = front.mark();
          const out = join(dir, 'pulled-after-rotation');
          const res = await copy(`docker://${follow.host}/${name('app')}:v1`, out);
          assert.equal(res.code, 0, res.stderr);
          assert.equal(sha256(readFileSync(join(out, 'manifest.json'))), images['app']!.manifestDigest);
          const log = front.since(mark);
          assert.deepEqual(
            log.filter((e) => e.status === 401),
            [],
            'every request carried the new token',
          );
          assert.ok(log.some((e) => e.role === 'api' && e.kind === 'manifests' && e.authorization === 'basic' && e.status === 200));
        });
      }

      if (c.preset === 'acr') {
        it('ACR › blobs redirected to Azure Storage (*.blob.core.windows.net) pull too', async () => {
          front.redirectBlobsTo('myregistrystore.blob.core.windows.net');
          try {
            const mark = front.mark();
            const res = await copy(`docker://${follow.host}/${name('app')}:v1`, join(dir, 'pulled-from-blob-storage'));
            assert.equal(res.code, 0, res.stderr);
            const stored = front.since(mark).filter((e) => e.role === 'storage');
            assert.ok(stored.length >= 2);
            assert.ok(
              stored.every((e) => e.host === 'myregistrystore.blob.core.windows.net' && e.status === 200 && e.authorization === 'none'),
            );
          } finally {
            front.redirectBlobsTo(front.spec.storageHosts[0]!);
          }
        });
      }

      if (c.preset === 'ghcr') {
        it('without blobRedirects.allowedNetworks › the loopback storage address is refused, naming that setting', async () => {
          const strict = await startProxy(upstreamYaml(c, front, dir, 'follow', false), options());
          try {
            const mark = front.mark();
            const res = await manifestGet(strict, 'app');
            assert.equal(res.status, 403, res.body.toString());
            const error = ociError(res);
            assert.equal(error.code, 'DENIED');
            assert.equal(
              error.message,
              `upstream_redirect_refused: upstream "ghcr" redirected to ${front.spec.storageHosts[0]}, it resolves to a loopback address; ` +
                'to allow it, change upstreams[0].blobRedirects.allowedNetworks',
            );
            assert.deepEqual(
              front.since(mark).filter((e) => e.role === 'storage'),
              [],
            );
          } finally {
            await strict.close();
          }
        });
      }
    });
  }
});
