import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildImage,
  inspect,
  push,
  pushVulnAttestation,
  startRegistry,
  trivyReport,
  type BuiltImage,
  type RunningRegistry,
  type Vulnerability,
  cosignSignImage,
} from '../kit/index.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const prefix = testPrefix('scan');
const work = mkdtempSync(join(tmpdir(), 'tg-scan-e2e-'));
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const scanner = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
const DAY = 86_400_000;

let registry: RunningRegistry;
let a: RunningProxy;
let b: RunningProxy;
let tokens: AdminTokens;
const images: Record<string, BuiltImage> = {};

const policy = (host: string, exemption = '') => `version: 1
rules:
  - name: scanned
    images: ["${host}/app/**"]
    scan:
      required: true
      maxSeverity: HIGH
      maxAge: 7d
      allow: [${exemption}]
`;

async function signedImage(repo: string): Promise<BuiltImage> {
  const image = await buildImage(join(work, repo.replace('/', '-')), { seed: repo });
  images[repo] = image;
  assert.equal((await push(image.layoutDir, `docker://${registry.host}/${repo}:v1`)).code, 0);
  await cosignSignImage(registry.url, repo, image.manifestDigest, `${registry.host}/${repo}`, signer.privateKey);
  return image;
}

async function postReport(proxy: RunningProxy, repo: string, vulnerabilities: Vulnerability[], createdAt = new Date()): Promise<Response> {
  const name = `${registry.host}/${repo}`;
  const digest = images[repo]!.manifestDigest;
  return fetch(`${proxy.url}/admin/v1/scans?image=${encodeURIComponent(`${name}@${digest}`)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await tokens.mint('ci-scanner', ['scanner'])}`, 'content-type': 'application/json' },
    body: trivyReport({ name, digest, createdAt, vulnerabilities }),
  });
}

const pull = (proxy: RunningProxy, repo: string) => inspect(`docker://${proxy.host}/${repo}:v1`, { raw: true });

async function replica(): Promise<RunningProxy> {
  const host = registry.host;
  return startProxy(
    `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}", prefix: "${prefix}" }\n${tokens.configYaml}upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${host}/**"] }\n`,
    {
      policy: policy(host),
      keys: [
        { id: 'release', pem: pem(signer.publicKey), scopes: [`${host}/**`] },
        { id: 'scanner', pem: pem(scanner.publicKey), scopes: [`${host}/**`], purposes: ['scan'] },
      ],
    },
  );
}

before(async () => {
  registry = await startRegistry();
  tokens = await adminTokens(work);
  for (const repo of ['app/unscanned', 'app/critical', 'app/stale', 'app/attested', 'app/flip']) await signedImage(repo);
  await pushVulnAttestation(registry.url, 'app/attested', images['app/attested']!.manifestDigest, scanner.privateKey, {
    finishedAt: new Date(),
    vulnerabilities: [{ id: 'CVE-2024-0001', severity: 'LOW' }],
  });
  a = await replica();
  b = await replica();
});

after(async () => {
  await a?.close();
  await b?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('scan gating through skopeo', () => {
  it('signed but unscanned › denied: unscanned, and queued for scanners', async () => {
    const res = await pull(a, 'app/unscanned');
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no vulnerability scan on record/);
    const queue = await fetch(`${a.url}/admin/v1/scans/queue`, {
      headers: { authorization: `Bearer ${await tokens.mint('ci-scanner', ['scanner'])}` },
    });
    assert.equal(queue.status, 200);
    const { pending } = (await queue.json()) as { pending: Array<{ digest: string }> };
    assert.ok(pending.some((p) => p.digest === images['app/unscanned']!.manifestDigest));
  });

  it('after a clean report is posted › pulled', async () => {
    const posted = await postReport(a, 'app/unscanned', [{ id: 'CVE-2024-1111', severity: 'LOW' }]);
    assert.equal(posted.status, 201, await posted.clone().text());
    const res = await pull(a, 'app/unscanned');
    assert.equal(res.code, 0, res.stderr);
  });

  it('a CRITICAL finding › denied: vulnerable, naming the CVE; an exemption lets it through; an expired one blocks again', async () => {
    assert.equal((await postReport(a, 'app/critical', [{ id: 'CVE-2024-9999', severity: 'CRITICAL' }])).status, 201);
    const denied = await pull(a, 'app/critical');
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /1 CRITICAL.*CVE-2024-9999/);
    a.files.writePolicy(
      policy(registry.host, `{ id: CVE-2024-9999, expires: "${new Date(Date.now() + DAY).toISOString()}", reason: "fix ships tomorrow" }`),
    );
    assert.ok(a.runtime.policy.reload());
    assert.equal((await pull(a, 'app/critical')).code, 0);
    a.files.writePolicy(policy(registry.host, `{ id: CVE-2024-9999, expires: "${new Date(Date.now() - 1000).toISOString()}" }`));
    assert.ok(a.runtime.policy.reload());
    const expired = await pull(a, 'app/critical');
    assert.notEqual(expired.code, 0);
    assert.match(expired.stderr, /CVE-2024-9999/);
  });

  it('a scan older than maxAge › denied: stale', async () => {
    assert.equal((await postReport(a, 'app/stale', [], new Date(Date.now() - 9 * DAY))).status, 201);
    const res = await pull(a, 'app/stale');
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /scan is 9d old/);
  });

  it('a valid vuln attestation signed by a scanner key › pulled with no report posted', async () => {
    const res = await pull(b, 'app/attested');
    assert.equal(res.code, 0, res.stderr);
  });

  it('a failing scan posted on one replica › the other stops serving its cached allow', async () => {
    assert.equal((await postReport(a, 'app/flip', [{ id: 'CVE-2024-2222', severity: 'LOW' }], new Date(Date.now() - 60_000))).status, 201);
    assert.equal((await pull(b, 'app/flip')).code, 0);
    assert.equal((await pull(b, 'app/flip')).code, 0, 'served from the verdict cache');
    assert.equal((await postReport(a, 'app/flip', [{ id: 'CVE-2024-3333', severity: 'CRITICAL' }])).status, 201);
    let code = 0;
    for (let i = 0; i < 20 && code === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      code = (await pull(b, 'app/flip')).code;
    }
    assert.notEqual(code, 0);
  });
});

describe('the scans admin API', () => {
  it('refuses a report for another digest with a precise 400, storing nothing', async () => {
    const name = `${registry.host}/app/stale`;
    const res = await fetch(`${a.url}/admin/v1/scans?image=${encodeURIComponent(`${name}@${images['app/stale']!.manifestDigest}`)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokens.mint('ci-scanner', ['scanner'])}` },
      body: trivyReport({ name, digest: images['app/flip']!.manifestDigest, createdAt: new Date(), vulnerabilities: [] }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { errors: Array<{ message: string }> }).errors[0]!.message, /report refused/);
  });
  it('no token › 401 with a Bearer challenge; the wrong role › 403', async () => {
    const none = await fetch(`${a.url}/admin/v1/scans/queue`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    const auditorPost = await fetch(`${a.url}/admin/v1/scans?image=x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokens.mint('someone', ['auditor'])}` },
      body: '{}',
    });
    assert.equal(auditorPost.status, 403);
  });
});
