// Admin API bodies and queries (src/admin: json-body, key-input, scans, policy, break glass,
// robots, explain, audit) sent to the real admin app over Redis (a prefix of its own): every
// answer is a 2xx or a 4xx with a JSON error body, never a 500; a body holding a private key is
// always refused.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { stringify } from 'yaml';
import { MediaType } from '../../../src/oci/media-types.ts';
import { adminApp, type AdminApp } from '../../support/admin-app.ts';
import { singleUpstream } from '../../support/app-harness.ts';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../../support/redis-keys.ts';
import { anyDigest, anyText, hostileBody, hostileYamlFragment, jsonish, jsonText, sha256, shallowJsonish } from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';
import { plant, planted } from './scan.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Call {
  readonly method: Method;
  readonly path: string;
  readonly body?: Buffer;
  readonly type?: string;
}

const keyPem = (type: 'ec' | 'rsa-1024' | 'ed25519'): string => {
  const pair =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 1024 });
  return pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
};
const PRIVATE = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A value that is right for the field, or one of the ways it can be wrong. */
const mixed = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 10, arbitrary: good }, { weight: 1, arbitrary: jsonish });
const time = fc.oneof(
  fc.integer({ min: -86_400_000, max: 10 * 86_400_000 }).map((d) => new Date(Date.now() + d).toISOString()),
  fc.constantFrom('2030-02-30T00:00:00Z', 'tomorrow', '2030-01-01T00:00:00+25:00'),
);
const keyId = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/) },
  { weight: 1, arbitrary: fc.constantFrom('ci', 'Bad Id', '../x', '') },
);

export const adminTarget: FuzzTarget = {
  name: 'admin-api',
  async open() {
    const prefix = testPrefix('fuzz-admin');
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('config'), size: 2 },
        layers: [],
      }),
    );
    const digest = sha256(manifest);
    const upstream: FakeUpstream = await startFakeUpstream();
    upstream.on(`/v2/allowed/app/manifests/${digest}`, (req, res) => {
      res
        .writeHead(200, { 'content-type': MediaType.ociManifest, 'content-length': manifest.length, 'docker-content-digest': digest })
        .end(req.method === 'HEAD' ? undefined : manifest);
    });
    const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    let admin: AdminApp;
    try {
      admin = await adminApp(
        singleUpstream(upstream.url, `redis: { url: "${REDIS_URL}" }\npullAuth: { signingKey: { env: FUZZ_PULL_KEY } }\n`),
        {
          redisPrefix: prefix,
          env: { FUZZ_PULL_KEY: signingKey },
          keys: [{ id: 'ci', pem: keyPem('ec'), scopes: [`${upstream.host}/**`] }],
        },
      );
    } catch (error) {
      await upstream.close();
      throw error;
    }
    // Admin tokens live 5 minutes and a long run takes longer: mint a fresh one every minute.
    let bearer = await admin.bearer('fuzzer', ['admin']);
    let mintedAt = Date.now();
    const currentBearer = async (): Promise<string> => {
      if (Date.now() - mintedAt > 60_000) {
        bearer = await admin.bearer('fuzzer', ['admin']);
        mintedAt = Date.now();
      }
      return bearer;
    };
    // One listening server for every call (supertest would start and stop one per request).
    const server = createServer(admin.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const host = upstream.host;
    const image = fc.oneof(
      fc.constantFrom(
        `${host}/allowed/app@${digest}`,
        `${host}/allowed/app:v1`,
        `${host}/allowed/**`,
        `${host}/other/app@${digest}`,
        `nowhere.test/app@${digest}`,
      ),
      anyDigest.map((d) => `${host}/allowed/app@${d}`),
      anyText,
    );
    const pems = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(keyPem('ec'), keyPem('ed25519')) },
      { weight: 1, arbitrary: fc.constantFrom(keyPem('rsa-1024'), PRIVATE, `${keyPem('ec')}\n${keyPem('ec')}`) },
      { weight: 1, arbitrary: anyText },
    );
    const json = (value: unknown): Buffer => Buffer.from(jsonText(value));

    const bodies = {
      addKey: fc
        .record(
          {
            id: mixed(keyId),
            pem: mixed(pems),
            kind: mixed(fc.constantFrom('key', 'key', 'notation-root')),
            scopes: mixed(fc.array(fc.constantFrom(`${host}/**`, '**', '[bad'), { minLength: 1, maxLength: 2 })),
            purposes: mixed(fc.subarray(['sign', 'scan'], { minLength: 1 })),
            notBefore: mixed(time),
            notAfter: mixed(time),
          },
          { requiredKeys: ['id', 'pem', 'scopes'] },
        )
        .map(json),
      patchKey: fc
        .record(
          {
            scopes: mixed(fc.array(fc.constantFrom(`${host}/**`, '**'), { maxLength: 2 })),
            purposes: mixed(fc.subarray(['sign', 'scan'])),
            notBefore: mixed(fc.option(time)),
            notAfter: mixed(fc.option(time)),
          },
          { requiredKeys: [] },
        )
        .map(json),
      revoke: fc.record({ reason: mixed(anyText) }, { requiredKeys: [] }).map(json),
      rotate: fc.record({ newId: mixed(keyId), pem: mixed(pems), keepOldUntil: mixed(time) }, { requiredKeys: ['newId', 'pem'] }).map(json),
      breakGlass: fc
        .record({ image: mixed(image), reason: mixed(anyText), expires: mixed(time) }, { requiredKeys: ['image', 'reason'] })
        .map(json),
      robot: fc
        .record(
          {
            name: mixed(fc.stringMatching(/^[a-z0-9]{1,8}([._-][a-z0-9]{1,4})?$/)),
            repositories: mixed(fc.array(fc.constantFrom(`${host}/allowed/**`, '[x', '**'), { maxLength: 2 })),
          },
          { requiredKeys: ['name'] },
        )
        .map(json),
      policy: fc
        .oneof(
          {
            weight: 1,
            arbitrary: fc.array(hostileYamlFragment, { minLength: 1, maxLength: 2 }).map((parts) => `version: 1\n${parts.join('\n')}`),
          },
          {
            weight: 3,
            arbitrary: fc
              .array(
                fc.record({
                  images: fc.array(fc.constantFrom('**', `${host}/**`, '[bad'), { minLength: 1, maxLength: 2 }),
                  mode: fc.constantFrom('enforce', 'warn', 'off', 'enforce', 'maybe'),
                }),
                { maxLength: 3 },
              )
              .map((rules) => stringify({ version: 1, rules: rules.map((r, i) => ({ name: `r${i}`, ...r })) })),
          },
          { weight: 1, arbitrary: shallowJsonish.map((v) => stringify(v) ?? '') },
        )
        .map((t) => Buffer.from(t)),
      report: fc.oneof(
        hostileBody,
        fc
          .record(
            {
              SchemaVersion: mixed(fc.constant(2)),
              CreatedAt: mixed(fc.constant(new Date(Date.now() - 60_000).toISOString())),
              ArtifactType: mixed(fc.constant('container_image')),
              Metadata: mixed(fc.constant({ RepoDigests: [`${host}/allowed/app@${digest}`] })),
              Results: mixed(fc.constant([{ Target: 't', Vulnerabilities: [{ VulnerabilityID: 'CVE-2024-0001', Severity: 'HIGH' }] }])),
            },
            { requiredKeys: [] },
          )
          .map(json),
      ),
    };
    const raw = fc.oneof(hostileBody, fc.constant(Buffer.from(PRIVATE)));
    const body = (good: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> =>
      fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: raw });
    const q = (value: string): string => encodeURIComponent(value);
    const id = keyId.map(q);
    const call: fc.Arbitrary<Call> = fc.oneof(
      body(bodies.addKey).map((b) => ({ method: 'post' as const, path: '/admin/v1/keys', body: b })),
      fc.tuple(id, body(bodies.patchKey)).map(([i, b]) => ({ method: 'patch' as const, path: `/admin/v1/keys/${i}`, body: b })),
      fc.tuple(id, body(bodies.revoke)).map(([i, b]) => ({ method: 'post' as const, path: `/admin/v1/keys/${i}/revoke`, body: b })),
      fc.tuple(id, body(bodies.rotate)).map(([i, b]) => ({ method: 'post' as const, path: `/admin/v1/keys/${i}/rotate`, body: b })),
      id.map((i) => ({ method: 'get' as const, path: `/admin/v1/keys/${i}` })),
      body(bodies.breakGlass).map((b) => ({ method: 'post' as const, path: '/admin/v1/breakglass', body: b })),
      fc
        .oneof(anyText, fc.stringMatching(/^bg-[0-9a-f]{12}$/))
        .map((i) => ({ method: 'delete' as const, path: `/admin/v1/breakglass/${q(i)}` })),
      body(bodies.robot).map((b) => ({ method: 'post' as const, path: '/admin/v1/robots', body: b })),
      anyText.map((n) => ({ method: 'delete' as const, path: `/admin/v1/robots/${q(n)}` })),
      fc
        .tuple(
          fc.constantFrom('put' as const, 'post' as const),
          body(bodies.policy),
          fc.constantFrom('application/yaml', 'text/plain', 'application/json'),
        )
        .map(([m, b, type]) => ({ method: m, path: m === 'put' ? '/admin/v1/policy' : '/admin/v1/policy/validate', body: b, type })),
      fc.constant({ method: 'post' as const, path: '/admin/v1/policy/rollback' }),
      fc
        .tuple(
          fc.oneof({ weight: 4, arbitrary: fc.constant(`${host}/allowed/app@${digest}`) }, { weight: 1, arbitrary: image }),
          body(bodies.report),
        )
        .map(([i, b]) => ({ method: 'post' as const, path: `/admin/v1/scans?image=${q(i)}`, body: b })),
      fc.oneof(anyText, anyDigest).map((d) => ({ method: 'get' as const, path: `/admin/v1/scans/${q(d)}` })),
      fc.oneof(anyText, fc.integer().map(String)).map((l) => ({ method: 'get' as const, path: `/admin/v1/scans/queue?limit=${q(l)}` })),
      image.map((i) => ({ method: 'get' as const, path: `/admin/v1/explain?image=${q(i)}` })),
      fc
        .tuple(fc.oneof(anyText, anyDigest), fc.oneof(anyText, fc.integer().map(String)))
        .map(([d, l]) => ({ method: 'get' as const, path: `/admin/v1/decisions?digest=${q(d)}&limit=${q(l)}` })),
      fc.record({ limit: anyText, after: anyText, actor: anyText, action: anyText }, { requiredKeys: [] }).map((params) => ({
        method: 'get' as const,
        path: `/admin/v1/audit?${Object.entries(params)
          .map(([k, v]) => `${k}=${q(v)}`)
          .join('&')}`,
      })),
    );
    const contentType = fc.option(
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/octet-stream',
        'application/json; charset=latin1',
        'multipart/form-data; boundary=x',
      ),
      { nil: undefined },
    );

    const send = async (c: Call, type: string | undefined): Promise<request.Response> => {
      let req = request(server)
        [c.method](c.path)
        .set('authorization', await currentBearer());
      const ct = c.type ?? type;
      if (ct !== undefined) req = req.set('content-type', ct);
      // superagent would JSON.stringify a Buffer sent as JSON; the bytes go as they are.
      return c.body === undefined ? req : req.serialize((data: unknown) => data as string).send(c.body);
    };
    const report = {
      SchemaVersion: 2,
      CreatedAt: new Date(Date.now() - 60_000).toISOString(),
      ArtifactType: 'container_image',
      Metadata: { ImageID: sha256('config'), RepoDigests: [`${host}/allowed/app@${digest}`] },
      Results: [{ Target: 't', Vulnerabilities: [{ VulnerabilityID: 'CVE-2024-0001', Severity: 'HIGH' }] }],
    };
    return {
      properties: [
        {
          name: 'POST /scans: a Trivy report with one hostile field (deeply nested, wrong type) is stored (201) or refused (400), never a 500',
          weight: 0.25,
          property: fc.asyncProperty(fc.option(planted, { nil: undefined }), async (p) => {
            const res = await send(
              {
                method: 'post',
                path: `/admin/v1/scans?image=${q(`${host}/allowed/app@${digest}`)}`,
                body: json(p === undefined ? report : plant(report, p.field, p.value)),
              },
              'application/json',
            );
            assert.ok(res.status === 201 || res.status === 400, `${res.status} ${res.text.slice(0, 300)}`);
            if (p === undefined) assert.equal(res.status, 201, res.text);
          }),
        },
        {
          name: 'every admin route answers a hostile or near-valid body with a 2xx or a JSON 4xx, never a 500',
          property: fc.asyncProperty(call, contentType, async (c, type) => {
            const res = await send(c, type);
            const what = `${c.method.toUpperCase()} ${c.path.slice(0, 120)} → ${res.status} ${res.text.slice(0, 300)}`;
            assert.ok((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 500), what);
            const parsed = JSON.parse(res.text) as { errors?: { code?: unknown; message?: unknown }[]; ok?: unknown; state?: unknown };
            // GET /scans/<digest> answers an unknown digest with its state (404), not an error.
            const noScan =
              res.status === 404 &&
              c.method === 'get' &&
              c.path.startsWith('/admin/v1/scans/') &&
              (parsed.state === 'unscanned' || parsed.state === 'pending');
            if (res.status >= 400 && !noScan) {
              const errors = parsed.errors;
              assert.ok(Array.isArray(errors) && errors.length > 0, what);
              const first = errors[0]!;
              assert.ok((typeof first.code === 'string' || parsed.ok === false) && typeof first.message === 'string', what);
            }
            // A private key in a JSON body is refused whole (json-body.ts): never stored, never a 2xx.
            if (
              c.body !== undefined &&
              c.body.includes('PRIVATE KEY') &&
              !c.path.startsWith('/admin/v1/policy') &&
              !c.path.startsWith('/admin/v1/scans')
            ) {
              assert.ok(res.status >= 400, `a body holding a private key got ${what}`);
            }
          }),
        },
      ],
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await admin.close();
        await upstream.close();
        await deleteRedisKeys(prefix);
      },
    };
  },
};
