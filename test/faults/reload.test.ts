import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpGet, makeTls, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { records } from '../support/child-proxy.ts';
import { runtimeFiles, type RuntimeFiles } from '../support/runtime-files.ts';
import { spawnProxy, type ChildProxy } from '../support/child-proxy.ts';
import { metricValue } from './support/child.ts';
import { enforcingPolicy, pushImage, sign, signingKey, trustedKey } from './support/images.ts';
import { assertDenied, assertServed, pullManifest } from './support/pull.ts';

// Fault matrix, row 4: a bad policy or keys file at reload (the file watcher or SIGHUP, in the real
// process). The old policy and trust store stay in force, even where the bad file would have
// opened things up; the refusal is logged as an error and counted in
// trustgate_reload_failures_total{kind}; fixing the file and reloading again works.

const work = mkdtempSync(join(tmpdir(), 'tg-faults-reload-'));
const ci = signingKey();
const late = signingKey();
let registry: RunningRegistry;
let files: RuntimeFiles;
let tg: ChildProxy;
let url: string;
let signed: BuiltImage;
let lateSigned: BuiltImage;

before(async () => {
  registry = await startRegistry();
  signed = await pushImage(registry.url, work, 'faults/app', 'v1', 'signed');
  await sign(registry.url, 'faults/app', signed, ci);
  await pushImage(registry.url, work, 'faults/unsigned', 'v1', 'unsigned');
  lateSigned = await pushImage(registry.url, work, 'faults/late', 'v1', 'late');
  await sign(registry.url, 'faults/late', lateSigned, late);
  files = runtimeFiles(enforcingPolicy(registry.host), [trustedKey('ci', ci, registry.host)]);
  tg = spawnProxy(
    `listen: { address: "127.0.0.1:0", plainHttp: true }
upstreams:
  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }`,
    {},
    files,
  );
  url = await tg.ready();
  assertServed(await pullManifest(url, 'faults/app', 'v1'), signed.manifestDigest);
  assertDenied(await pullManifest(url, 'faults/unsigned', 'v1'));
  assertDenied(await pullManifest(url, 'faults/late', 'v1'), /does not verify/);
});

after(async () => {
  await tg?.kill();
  files?.remove();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function metrics(): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

const failures = async (kind: string): Promise<number | undefined> =>
  metricValue(await metrics(), `trustgate_reload_failures_total{kind="${kind}"}`);
const policyHash = async (): Promise<string> => /trustgate_policy_info\{hash="([^"]+)"\} 1/.exec(await metrics())![1]!;

describe('fault matrix: a bad policy or keys file at reload', () => {
  it('a policy file that would open everything but does not compile › refused as a whole, old policy still denies, logged as an error and counted once per reload', async () => {
    assert.equal(await failures('policy'), 0, 'the counter is there from the start');
    const hash = await policyHash();
    files.writePolicy(`version: 1
rules:
  - { name: open, images: ["**"], mode: off }
  - { name: broken, images: ["**"], mode: sometimes }
`);
    await tg.waitFor(/"event":"policy_reload_failed"/, 10_000); // the file watcher's reload
    const [logged] = records(tg.out(), 'policy_reload_failed');
    assert.equal(logged?.['level'], 50, 'logged at error level');
    assert.match(String(logged?.['problem']), /rules\[1\]\.mode/);
    assert.equal(logged?.['keeping'], hash);
    assert.equal(await failures('policy'), 1);
    assertDenied(await pullManifest(url, 'faults/unsigned', 'v1'));
    assertServed(await pullManifest(url, 'faults/app', 'v1'), signed.manifestDigest);
    assert.equal(await policyHash(), hash);

    tg.child.kill('SIGHUP');
    await tg.waitFor(/"event":"policy_reload_failed"/, 5_000, 2);
    assert.equal(await failures('policy'), 2, 'SIGHUP is one more refused reload');
    assertDenied(await pullManifest(url, 'faults/unsigned', 'v1'));
    assert.equal(await failures('keys'), 0);

    files.writePolicy(enforcingPolicy(registry.host)); // the same policy again: nothing changes, nothing fails
    await tg.waitFor(/"event":"reload","why":"policy file changed"/, 10_000, 2);
    tg.child.kill('SIGHUP');
    await tg.waitFor(/"event":"reload","why":"SIGHUP"/, 5_000, 2);
    assert.equal(await failures('policy'), 2);
    assert.equal(records(tg.out(), 'policy_reload_failed').length, 2);
  });

  it('keys/ with a new trusted key next to a broken file › refused as a whole: the new key is not trusted, the old keys are, logged and counted; fixed, it loads', async () => {
    const version = metricValue(await metrics(), 'trustgate_trust_store_version');
    files.writeKey(trustedKey('late', late, registry.host));
    writeFileSync(join(files.dir, 'keys', 'broken.pub'), '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n');
    writeFileSync(join(files.dir, 'keys', 'broken.yaml'), `scopes: ["${registry.host}/**"]\n`);
    tg.child.kill('SIGHUP');
    await tg.waitFor(/"event":"keys_reload_failed"/, 5_000);
    const [logged] = records(tg.out(), 'keys_reload_failed');
    assert.equal(logged?.['level'], 50);
    assert.match(String(logged?.['problem']), /broken\.pub.*not a PEM public key/);
    assert.equal(await failures('keys'), 1);
    assert.equal(metricValue(await metrics(), 'trustgate_trust_store_version'), version, 'the trust store did not change');
    assertDenied(await pullManifest(url, 'faults/late', 'v1'), /does not verify/);
    assertServed(await pullManifest(url, 'faults/app', 'v1'), signed.manifestDigest);
    assertDenied(await pullManifest(url, 'faults/unsigned', 'v1'));

    unlinkSync(join(files.dir, 'keys', 'broken.pub'));
    unlinkSync(join(files.dir, 'keys', 'broken.yaml'));
    tg.child.kill('SIGHUP');
    await tg.waitFor(/"event":"reload","why":"SIGHUP"/, 5_000, 4);
    // The reload is asynchronous: the new key shows as a new trust version.
    for (let i = 0; metricValue(await metrics(), 'trustgate_trust_store_version') === version; i++) {
      assert.ok(i < 100, 'the fixed keys/ was loaded');
      await new Promise((r) => setTimeout(r, 50));
    }
    assertServed(await pullManifest(url, 'faults/late', 'v1'), lateSigned.manifestDigest, 'signed by the key the fixed reload added');
    assert.equal(await failures('keys'), 1);
    assert.equal(tg.child.exitCode, null, 'still running');
  });
});

describe('fault matrix: a bad certificate at reload', () => {
  it('the listener certificate replaced by garbage › the old one keeps serving, logged as an error and counted', async () => {
    const tls = await makeTls(mkdtempSync(join(work, 'tls-')));
    const tlsFiles = runtimeFiles(enforcingPolicy(registry.host), [trustedKey('ci', ci, registry.host)]);
    const secure = spawnProxy(
      `listen: { address: "127.0.0.1:0", tls: { certFile: "${tls.certFile}", keyFile: "${tls.keyFile}" } }
upstreams:
  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }`,
      {},
      tlsFiles,
    );
    try {
      const base = await secure.ready();
      const scrape = async (): Promise<string> => {
        const res = await httpGet(`${base}/metrics`, { caFile: tls.caFile });
        assert.equal(res.status, 200);
        return res.body.toString();
      };
      assert.equal(metricValue(await scrape(), 'trustgate_reload_failures_total{kind="tls"}'), 0);
      writeFileSync(tls.certFile, 'not a certificate\n');
      await secure.waitFor(/"event":"tls_reload_failed"/, 10_000);
      assert.equal(records(secure.out(), 'tls_reload_failed')[0]?.['level'], 50);
      assert.equal(
        metricValue(await scrape(), 'trustgate_reload_failures_total{kind="tls"}'),
        1,
        'served with the previous certificate, and counted',
      );
      const pull = await httpGet(`${base}/v2/faults/unsigned/manifests/v1`, { caFile: tls.caFile });
      assert.equal(pull.status, 403);
    } finally {
      await secure.kill();
      tlsFiles.remove();
    }
  });
});
