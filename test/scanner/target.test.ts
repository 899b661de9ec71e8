import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigText } from '../../src/config/index.ts';
import type { Digest } from '../../src/oci/reference.ts';
import type { ScanRequest } from '../../src/scan-store/types.ts';
import { scanTarget } from '../../src/scanner/target.ts';
import { trivyArgs } from '../../src/scanner/trivy.ts';

const DIGEST: Digest = `sha256:${'a'.repeat(64)}`;
const { upstreams } = loadConfigText(
  `listen: { plainHttp: true }
upstreams:
  - { name: hub, url: "https://registry-1.docker.io", registryHost: docker.io, repositories: ["docker.io/**"] }
  - { name: local, url: "http://127.0.0.1:5000", repositories: ["127.0.0.1:5000/**"] }
  - { name: plain, url: "http://registry", repositories: ["registry/**"] }
  - { name: nested, url: "https://mirror.example/v2-root", repositories: ["mirror.example/**"] }
`,
  'scanner-target.yaml',
);
const request = (upstream: string, canonicalName: string): ScanRequest => ({ digest: DIGEST, canonicalName, upstream, requestedAt: 0 });

describe('scanTarget: the queued name mapped to the image on its upstream', () => {
  it('a registryHost that is not the URL host › scanned at the URL host, filed under the canonical name', () => {
    const result = scanTarget(request('hub', 'docker.io/library/nginx'), upstreams);
    assert.deepEqual(result, {
      ok: true,
      target: { reference: `registry-1.docker.io/library/nginx@${DIGEST}`, insecure: false, image: `docker.io/library/nginx@${DIGEST}` },
    });
    assert.deepEqual(trivyArgs(result.ok ? result.target : assert.fail()), [
      'image',
      '--format',
      'json',
      '--quiet',
      `registry-1.docker.io/library/nginx@${DIGEST}`,
    ]);
  });

  it('an http:// upstream › --insecure', () => {
    const result = scanTarget(request('local', '127.0.0.1:5000/team/app'), upstreams);
    assert.ok(result.ok);
    assert.deepEqual(trivyArgs(result.target), ['image', '--format', 'json', '--quiet', '--insecure', `127.0.0.1:5000/team/app@${DIGEST}`]);
  });

  it('a one-label host with no port › the port spelled out (else it would read as a Docker Hub namespace)', () => {
    const result = scanTarget(request('plain', 'registry/team/app'), upstreams);
    assert.ok(result.ok);
    assert.equal(result.target.reference, `registry:80/team/app@${DIGEST}`);
  });

  it('what this worker cannot map › a problem, no target', () => {
    const cases: Array<[ScanRequest, RegExp]> = [
      [request('gone', 'docker.io/library/nginx'), /upstream "gone" is not in this worker's config/],
      [request('hub', 'ghcr.io/library/nginx'), /not a repository of upstream "hub"/],
      [request('hub', 'docker.io/'), /not a repository of upstream "hub"/],
      [request('nested', 'mirror.example/team/app'), /served under a path \(\/v2-root\)/],
    ];
    for (const [req, problem] of cases) {
      const result = scanTarget(req, upstreams);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.problem, problem);
    }
  });
});
