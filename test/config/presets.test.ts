import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import { PRESET_NAMES } from '../../src/config/presets.ts';
import type { ParsedUpstream } from '../../src/config/upstreams.ts';

/** One upstream from `preset` with the YAML lines given (indented under the upstream). */
function upstream(preset: string, lines: string): ParsedUpstream {
  const config = parseConfig(`listen: { plainHttp: true }\nupstreams:\n  - name: up\n    preset: ${preset}\n${lines}`, 'test.yaml');
  return config.upstreams[0]!;
}

function problem(text: string): ConfigError {
  try {
    parseConfig(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('parsed');
}

const FIXED_URL = {
  dockerhub: 'https://registry-1.docker.io',
  ghcr: 'https://ghcr.io',
  quay: 'https://quay.io',
  gcr: 'https://gcr.io',
  'registry-k8s': 'https://registry.k8s.io',
} as const;

describe('registry presets', () => {
  it('dockerhub › Hub URL, docker.io names, the auth.docker.io realm (exact), Cloudflare storage', () => {
    const u = upstream('dockerhub', '    repositories: ["docker.io/library/*"]');
    assert.equal(u.url, 'https://registry-1.docker.io');
    assert.equal(u.registryHost, 'docker.io');
    assert.deepEqual(u.namespaces, ['docker.io', 'index.docker.io', 'registry-1.docker.io']);
    assert.deepEqual(u.tokenRealms, ['https://auth.docker.io/token']);
    assert.deepEqual(u.blobRedirects.allowedHosts, [
      'production.cloudflare.docker.com',
      'docker-images-prod.6aa30f8b08e16409b46e0173d6de2f56.r2.cloudflarestorage.com',
    ]);
    assert.deepEqual(u.apiRedirects.allowedHosts, []);
    assert.equal(u.blobRedirects.mode, 'pass');
    assert.equal(u.preset, 'dockerhub');
  });

  it('every fixed-URL preset › its URL and host; token realms are exact URLs, never wildcards', () => {
    for (const [preset, url] of Object.entries(FIXED_URL)) {
      const host = preset === 'dockerhub' ? 'docker.io' : new URL(url).host;
      const u = upstream(preset, `    repositories: ["${host}/x/*"]`);
      assert.equal(u.url, url, preset);
      for (const realm of u.tokenRealms) {
        assert.ok(!realm.includes('*'), `${preset}: ${realm}`);
        assert.equal(new URL(realm).protocol, 'https:', preset);
      }
    }
  });

  it('registry-k8s › anonymous mirrors: API and blob redirects to *-docker.pkg.dev, blobs also to the S3 buckets', () => {
    const u = upstream('registry-k8s', '    repositories: ["registry.k8s.io/pause"]');
    assert.deepEqual(u.apiRedirects.allowedHosts, ['*-docker.pkg.dev']);
    assert.deepEqual(u.blobRedirects.allowedHosts, ['*-docker.pkg.dev', 'prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com']);
    assert.deepEqual(u.tokenRealms, []);
  });

  it('ecr, acr, artifact-registry › derive storage hosts and realms from the URL the config gives', () => {
    const ecr = upstream(
      'ecr',
      '    url: https://123456789012.dkr.ecr.eu-west-1.amazonaws.com\n    repositories: ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"]',
    );
    assert.equal(ecr.registryHost, '123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    assert.deepEqual(ecr.blobRedirects.allowedHosts, [
      'prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com',
      'prod-eu-west-1-starport-layer-bucket.s3.amazonaws.com',
    ]);
    assert.deepEqual(ecr.tokenRealms, []);
    const acr = upstream('acr', '    url: https://contoso.azurecr.io\n    repositories: ["contoso.azurecr.io/app"]');
    assert.deepEqual(acr.tokenRealms, ['https://contoso.azurecr.io/oauth2/token']);
    assert.deepEqual(acr.blobRedirects.allowedHosts, ['contoso.*.data.azurecr.io', '*.blob.core.windows.net']);
    const ar = upstream(
      'artifact-registry',
      '    url: https://europe-west1-docker.pkg.dev\n    repositories: ["europe-west1-docker.pkg.dev/p/r/*"]',
    );
    assert.deepEqual(ar.tokenRealms, ['https://europe-west1-docker.pkg.dev/v2/token']);
    assert.deepEqual(ar.blobRedirects.allowedHosts, ['storage.googleapis.com']);
  });

  it('a per-account preset without a URL, or with a URL of another registry › a ConfigError on url', () => {
    for (const preset of ['ecr', 'acr', 'artifact-registry']) {
      const error = problem(`listen: { plainHttp: true }\nupstreams:\n  - name: up\n    preset: ${preset}\n    repositories: ["x.io/a"]`);
      assert.equal(error.field, 'upstreams[0].url', preset);
      assert.match(error.message, /needs the registry's URL, such as https:\/\//);
    }
    const wrong = problem(
      'listen: { plainHttp: true }\nupstreams:\n  - name: up\n    preset: ecr\n    url: https://evil.example\n    repositories: ["evil.example/a"]',
    );
    assert.equal(wrong.field, 'upstreams[0].url');
    assert.match(
      wrong.message,
      /preset "ecr" is for 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com; "evil\.example" is not that registry/,
    );
  });

  it('a preset never fills repositories: an upstream without them is refused', () => {
    for (const preset of PRESET_NAMES) {
      const url = preset in FIXED_URL ? '' : '\n    url: https://123456789012.dkr.ecr.us-east-1.amazonaws.com';
      const error = problem(`listen: { plainHttp: true }\nupstreams:\n  - name: up\n    preset: ${preset}${preset === 'ecr' ? url : ''}`);
      assert.equal(error.field, 'upstreams[0].repositories', preset);
    }
  });

  it('an explicit field replaces the preset’s value, even with an empty list', () => {
    const u = upstream(
      'ghcr',
      [
        '    repositories: ["ghcr.io/acme/*"]',
        '    tokenRealms: ["https://ghcr.io/token2"]',
        '    blobRedirects: { mode: follow, allowedHosts: [] }',
        '    aliases: ["ghcr.example"]',
      ].join('\n'),
    );
    assert.deepEqual(u.tokenRealms, ['https://ghcr.io/token2']);
    assert.deepEqual(u.blobRedirects.allowedHosts, []);
    assert.equal(u.blobRedirects.mode, 'follow');
    assert.deepEqual(u.namespaces, ['ghcr.io', 'ghcr.example']);
  });

  it('host patterns: a wildcard may cover part of a label, never the registrable domain; networks must be CIDRs', () => {
    for (const bad of ['*.com', '*.*', 'example.*', '*', 'cdn**.example.com']) {
      const error = problem(
        `listen: { plainHttp: true }\nupstreams:\n  - name: up\n    preset: ghcr\n    repositories: ["ghcr.io/a"]\n    blobRedirects: { allowedHosts: ["${bad}"] }`,
      );
      assert.equal(error.field, 'upstreams[0].blobRedirects.allowedHosts[0]', bad);
    }
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'not-an-ip', '10.0.0.0/8/1', '::ffff:10.0.0.1/200']) {
      const error = problem(
        `listen: { plainHttp: true }\nupstreams:\n  - name: up\n    preset: ghcr\n    repositories: ["ghcr.io/a"]\n    blobRedirects: { allowedNetworks: ["${bad}"] }`,
      );
      assert.equal(error.field, 'upstreams[0].blobRedirects.allowedNetworks[0]', bad);
    }
    const ok = upstream(
      'ghcr',
      '    repositories: ["ghcr.io/a"]\n    blobRedirects: { allowedNetworks: ["10.1.0.0/16", "fd00::/8", "192.0.2.7"], maxHops: 5 }',
    );
    assert.deepEqual(ok.blobRedirects.allowedNetworks, ['10.1.0.0/16', 'fd00::/8', '192.0.2.7']);
    assert.equal(ok.blobRedirects.maxHops, 5);
  });

  it('an unknown preset is named with the choices', () => {
    const error = problem(
      'listen: { plainHttp: true }\nupstreams:\n  - name: up\n    preset: dockerhubb\n    repositories: ["docker.io/a"]',
    );
    assert.equal(error.field, 'upstreams[0].preset');
    assert.match(error.message, /dockerhub/);
  });

  it('without a preset, url is still required', () => {
    const error = problem('listen: { plainHttp: true }\nupstreams:\n  - name: up\n    repositories: ["x.io/a"]');
    assert.equal(error.field, 'upstreams[0].url');
  });
});
