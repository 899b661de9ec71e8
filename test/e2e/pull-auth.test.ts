import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, inspect, push, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { adminTokens } from '../support/admin-tokens.ts';
import { call, capturingLogger, startLoggedProxy, writeSigningKey } from '../support/pull-auth.ts';
import type { RunningProxy } from '../support/proxy-server.ts';

// skopeo through trustgate with pullAuth on, against a real registry: the Docker token flow end to
// end. The policy is open (mode: off), so these tests are about access only. No Redis: robots live
// in the proxy's memory.
const work = mkdtempSync(join(tmpdir(), 'tg-pullauth-e2e-'));
const logs = capturingLogger();
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let registry: RunningRegistry;
let proxy: RunningProxy;
let image: BuiltImage;
let secret = '';

before(async () => {
  registry = await startRegistry();
  image = await buildImage(join(work, 'img'), { seed: 'pull-auth' });
  for (const repo of ['team/app', 'other/app']) assert.equal((await push(image.layoutDir, `docker://${registry.host}/${repo}:v1`)).code, 0);
  const admin = await adminTokens(work);
  proxy = await startLoggedProxy(
    `listen: { plainHttp: true }
upstreams:
  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }
pullAuth:
  signingKey: { file: "${writeSigningKey(work)}" }
  rateLimit: { maxFailures: 5, windowMs: 60000 }
${admin.configYaml}`,
    logs,
  );
  const created = await call(`${proxy.url}/admin/v1/robots`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await admin.mint('alice', ['key-manager'])}` },
    body: JSON.stringify({ name: 'deployer', repositories: [`${registry.host}/team/**`] }),
  });
  assert.equal(created.status, 201, created.text);
  secret = created.json<{ secret: string }>().secret;
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('pull access through skopeo (Docker token flow)', () => {
  it('a robot pulls a repository in its scope › served, same digest', async () => {
    const res = await inspect(`docker://${proxy.host}/team/app:v1`, { raw: true, creds: `deployer:${secret}` });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(sha256(res.stdoutBytes), image.manifestDigest);
  });
  it('the decision log carries the subject', () => {
    const decision = logs.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r['event'] === 'decision' && r['outcome'] === 'allow');
    assert.equal(decision?.['subject'], 'robot:deployer');
  });
  it('a repository outside its scope › denied, reason not_authorized, said plainly', async () => {
    const res = await inspect(`docker://${proxy.host}/other/app:v1`, { creds: `deployer:${secret}` });
    assert.notEqual(res.code, 0);
    assert.match(
      res.stderr,
      /denied: trustgate denied [^ ]+\/other\/app \(rule \\?"pull-access\\?"\): \\?"robot:deployer\\?" may not pull this repository/,
    );
  });
  it('a wrong secret › refused at the token endpoint', async () => {
    const res = await inspect(`docker://${proxy.host}/team/app:v1`, { creds: `deployer:${secret.slice(1)}` });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /unable to retrieve auth token: invalid username\/password: unauthorized: invalid credentials/);
  });
  it('no credentials › refused: authentication required', async () => {
    const res = await inspect(`docker://${proxy.host}/team/app:v1`);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /unauthorized: credentials are required: a robot name and secret, or an OIDC token as the password/);
  });
  it('the secret appears in no log line', () => {
    assert.ok(!logs.lines.some((l) => l.includes(secret)));
  });
});
