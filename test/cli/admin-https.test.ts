import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTls, type TlsFiles } from '../kit/index.ts';
import { adminTokens } from '../support/admin-tokens.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { runCli } from '../tools/cli-run.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-cli-https-'));
let tls: TlsFiles;
let proxy: RunningProxy;
let token: string;

before(async () => {
  tls = await makeTls();
  const jwks = await adminTokens(work);
  token = await jwks.mint('alice', ['auditor']);
  proxy = await startProxy(`listen: { tls: { certFile: "${tls.certFile}", keyFile: "${tls.keyFile}" } }
upstreams:
  - { name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }
${jwks.configYaml}`);
});
after(async () => {
  await proxy?.close();
  rmSync(work, { recursive: true, force: true });
  if (tls !== undefined) rmSync(tls.dir, { recursive: true, force: true });
});

describe('admin commands over HTTPS', () => {
  it('--ca-file › verified; --insecure-skip-tls › unverified; neither › exit 3 naming the certificate problem', async () => {
    const env = { TRUSTGATE_API: proxy.url, TRUSTGATE_TOKEN: token };
    assert.match(proxy.url, /^https:/);
    const [withCa, insecure, untrusted] = await Promise.all([
      runCli(['keys', 'list', '--ca-file', tls.caFile], env),
      runCli(['keys', 'list', '--insecure-skip-tls', '--json'], env),
      runCli(['keys', 'list'], env),
    ]);
    assert.equal(withCa.code, 0, withCa.stderr);
    assert.match(withCa.stdout, /^trust store version \d+ \(in memory: changes are refused without Redis\), 0 entries$/m);
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.deepEqual(JSON.parse(insecure.stdout).keys, []);
    assert.equal(untrusted.code, 3);
    assert.match(
      untrusted.stderr,
      /^trustgate keys list: cannot reach the admin API at https:\/\/127\.0\.0\.1:\d+: \w+ \(a private CA: --ca-file <pem>\)\n$/,
    );
  });
});
