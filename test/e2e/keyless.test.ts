// Keyless (Fulcio + Rekor) signatures end to end, offline: a local sigstore (test/kit/sigstore-services.ts)
// keyed at test time, its trusted_root.json in the proxy's keys/ as `<id>.json` + `<id>.yaml`, images in a
// real distribution registry signed as cosign `.sig` layers (keyless annotations) and as sigstore bundle
// v0.3 referrers (through the referrers fallback tag), pulled through trustgate with skopeo.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigText } from '../../src/config/index.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { buildRuntime } from '../../src/runtime/runtime.ts';
import {
  blobPath,
  buildImage,
  copy,
  inspect,
  makeSimpleSigningPayload,
  pushCosignSignature,
  putBlob,
  putManifest,
  startRegistry,
  type BuiltImage,
  type RunningRegistry,
} from '../kit/index.ts';
import { createLocalSigstore, type BundleJson, type CosignSignature, type KeylessOptions } from '../kit/sigstore-services.ts';
import { pushBundleReferrer } from '../kit/sigstore-push.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { runtimeFiles, type KeyFile } from '../support/runtime-files.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MINUTE = 60_000;

const work = mkdtempSync(join(tmpdir(), 'tg-keyless-e2e-'));
const sigstore = createLocalSigstore();
/**
 * Another sigstore: the root of rule "other-root", which the test certificates do not chain to. Its
 * id sorts after "local" and "stale-log", so a certificate no root anchors is still reported under those.
 */
const unrelated = createLocalSigstore();
const ci = generateKeyPairSync('ec', { namedCurve: 'P-256' });
/** The right identity: a GitHub Actions workflow of org/repo. */
const RELEASE: KeylessOptions['leaf'] = { uri: WORKFLOW, issuer: GITHUB };

let registry: RunningRegistry;
let proxy: RunningProxy;
/** The same local sigstore, but its trusted root dates the Rekor key to 2020 only. */
let staleProxy: RunningProxy;
let image: BuiltImage;

const upstreamYaml = (): string => `listen: { plainHttp: true }
upstreams:
  - name: local
    url: ${registry.url}
    default: true
    repositories: ["${registry.host}/**"]
`;

const policy = (root: string, subjectRegExp = '^https://github.com/org/repo/.+$'): string => `version: 1
rules:
  - name: keyless
    images: ["${registry.host}/keyless/**"]
    signatures:
      keyless:
        - root: ${root}
          transparencyLog: required
          identities:
            - { name: release, issuer: "${GITHUB}", subjectRegExp: "${subjectRegExp}" }
  - name: other-root
    images: ["${registry.host}/other-root/**"]
    signatures:
      keyless:
        - { root: unrelated, identities: [{ issuer: "${GITHUB}", subjectRegExp: "${subjectRegExp}" }] }
  - name: rekor
    images: ["${registry.host}/rekor/**"]
    signatures: { trust: [ci], rekor: { root: ${root} } }
`;

/** keys/<id>.json (a sigstore trusted_root.json) with keys/<id>.yaml beside it: every root the policy names is there at start. */
const rootFile = (id: string, trustedRoot: object): KeyFile => ({
  id,
  kind: 'json',
  pem: JSON.stringify(trustedRoot, null, 2),
  scopes: ['**'],
});

/** The one test image, pushed to `repo:v1` through the distribution API (same bytes, same digest everywhere). */
async function pushImage(repo: string): Promise<void> {
  const manifest = JSON.parse(image.manifestBytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    await putBlob(registry.url, repo, readFileSync(blobPath(image.layoutDir, digest)));
  }
  await putManifest(registry.url, repo, 'v1', image.manifestBytes, image.mediaType);
}

/** What cosign signs in a `.sig` layer for this image in `repo`. */
const payloadFor = (repo: string): Buffer => makeSimpleSigningPayload(image.manifestDigest, `${registry.host}/${repo}`);

async function pushSig(repo: string, signature: CosignSignature): Promise<void> {
  await pushImage(repo);
  await pushCosignSignature(registry.url, repo, { digest: image.manifestDigest }, [signature]);
}

/**
 * A sigstore bundle as cosign v3 stores it: an OCI 1.1 referrer (artifactType = the bundle media type,
 * empty config, the bundle as its one layer), listed in the referrers fallback index `sha256-<hex>`
 * because this registry has no referrers API.
 */
async function pushBundle(repo: string, bundle: BundleJson): Promise<void> {
  await pushImage(repo);
  await pushBundleReferrer(
    registry.url,
    repo,
    { mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifestBytes.length },
    bundle,
  );
}

/** An in-toto v1 statement for the image, as `cosign sign` (v3, bundle format) signs it. */
const statementFor = (repo: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `${registry.host}/${repo}`, digest: { sha256: image.manifestDigest.slice(7) } }],
      predicateType: COSIGN_SIGN,
      predicate: {},
    }),
  );

interface Pull {
  code: number;
  stderr: string;
  digest: string;
}

async function pull(repo: string, through = proxy): Promise<Pull> {
  const res = await inspect(`docker://${through.host}/${repo}:v1`, { raw: true });
  const digest = res.code === 0 ? `sha256:${createHash('sha256').update(res.stdoutBytes).digest('hex')}` : '';
  return { code: res.code, stderr: res.stderr, digest };
}

async function allowed(repo: string, through = proxy): Promise<void> {
  const res = await pull(repo, through);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.digest, image.manifestDigest);
}

/**
 * A refusal as skopeo sees it (exit code, the DENIED message it prints) and as the OCI error says
 * it (code DENIED, the reason codes in its detail, which skopeo does not print).
 */
async function denied(repo: string, through = proxy): Promise<{ stderr: string; reasons: string[] }> {
  const res = await pull(repo, through);
  assert.notEqual(res.code, 0, `${repo} was served`);
  assert.match(
    res.stderr,
    new RegExp(`denied: trustgate denied ${registry.host}/${repo} \\(rule \\\\?"(keyless|other-root|rekor)\\\\?"\\): `),
  );
  const http = await fetch(`${through.url}/v2/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
  assert.equal(http.status, 403);
  const body = (await http.json()) as { errors: { code: string; detail: { reasons: string[] } }[] };
  assert.equal(body.errors[0]!.code, 'DENIED');
  return { stderr: res.stderr, reasons: body.errors[0]!.detail.reasons };
}

/** The signature bytes of another artifact, signed by a key of the same identity. */
const otherSignature = (): Buffer =>
  Buffer.from(sigstore.cosignKeylessSignature(Buffer.from('another artifact'), { leaf: RELEASE, tlog: false }).signature, 'base64');

before(async () => {
  registry = await startRegistry();
  image = await buildImage(join(work, 'image'), { seed: 'keyless-e2e' });
  const now = new Date();
  const hourAgo = new Date(now.getTime() - 60 * MINUTE);
  await Promise.all([
    // Allowed.
    pushSig('keyless/sig', sigstore.cosignKeylessSignature(payloadFor('keyless/sig'), { leaf: RELEASE })),
    pushBundle('keyless/bundle', sigstore.keylessMessageBundle(image.manifestBytes, { leaf: RELEASE })),
    pushBundle('keyless/dsse', sigstore.keylessDsseBundle(statementFor('keyless/dsse'), { leaf: RELEASE })),
    // Identity.
    pushSig(
      'keyless/wrong-subject',
      sigstore.cosignKeylessSignature(payloadFor('keyless/wrong-subject'), {
        leaf: { uri: 'https://github.com/org/other/.github/workflows/release.yml@refs/heads/main', issuer: GITHUB },
      }),
    ),
    pushBundle(
      'keyless/wrong-issuer',
      sigstore.keylessMessageBundle(image.manifestBytes, { leaf: { uri: WORKFLOW, issuer: 'https://gitlab.com' } }),
    ),
    // Transparency log.
    pushBundle('keyless/no-tlog', sigstore.keylessMessageBundle(image.manifestBytes, { leaf: RELEASE, tlog: false })),
    pushBundle('keyless/tsa-only', sigstore.keylessMessageBundle(image.manifestBytes, { leaf: RELEASE, tlog: false, tsa: true })),
    pushSig(
      'keyless/other-signature',
      sigstore.cosignKeylessSignature(payloadFor('keyless/other-signature'), {
        leaf: RELEASE,
        tlog: { loggedSignature: otherSignature() },
      }),
    ),
    pushBundle(
      'keyless/other-signature-bundle',
      sigstore.keylessMessageBundle(image.manifestBytes, { leaf: RELEASE, tlog: { loggedSignature: otherSignature() } }),
    ),
    pushBundle(
      'keyless/other-kind',
      sigstore.keylessMessageBundle(image.manifestBytes, { leaf: RELEASE, tlog: { kindVersion: { kind: 'intoto', version: '0.0.2' } } }),
    ),
    // A genuine intoto entry (its body binds this signature and digest) cannot bind a message signature.
    pushBundle('keyless/intoto-entry', sigstore.keylessMessageBundle(image.manifestBytes, { leaf: RELEASE, tlog: { kind: 'intoto' } })),
    // Certificate.
    pushSig(
      'keyless/expired-cert',
      // A 10-minute certificate from an hour ago, logged 30 minutes ago: expired at the signing time.
      sigstore.cosignKeylessSignature(payloadFor('keyless/expired-cert'), {
        leaf: RELEASE,
        time: hourAgo,
        tlog: { integratedTime: new Date(now.getTime() - 30 * MINUTE) },
      }),
    ),
    pushBundle(
      'keyless/untrusted-ca',
      sigstore.keylessMessageBundle(image.manifestBytes, { leaf: RELEASE, fulcio: sigstore.untrusted.fulcio }),
    ),
    pushSig(
      'keyless/issuer-disagree',
      sigstore.cosignKeylessSignature(payloadFor('keyless/issuer-disagree'), {
        leaf: { uri: WORKFLOW, issuerExtensions: { v1: GITHUB, v2: 'https://issuer.evil.example' } },
      }),
    ),
    pushSig('other-root/sig', sigstore.cosignKeylessSignature(payloadFor('other-root/sig'), { leaf: RELEASE })),
    // Key-based cosign signatures under `rekor: { root }`.
    pushSig('rekor/with-set', sigstore.cosignKeySignature(payloadFor('rekor/with-set'), ci.privateKey)),
    pushSig('rekor/no-set', sigstore.cosignKeySignature(payloadFor('rekor/no-set'), ci.privateKey, { tlog: false })),
  ]);

  const ciKey = { id: 'ci', pem: ci.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${registry.host}/**`] };
  const otherRoot = rootFile('unrelated', unrelated.trustedRoot());
  proxy = await startProxy(upstreamYaml(), {
    policy: policy('local'),
    keys: [ciKey, rootFile('local', sigstore.trustedRoot()), otherRoot],
  });
  // The Rekor key valid only in 2020: every entry logged now is outside its window.
  const staleRoot = sigstore.trustedRoot({
    tlog: { validFor: { start: new Date('2020-01-01T00:00:00Z'), end: new Date('2021-01-01T00:00:00Z') } },
  });
  staleProxy = await startProxy(upstreamYaml(), {
    policy: policy('stale-log'),
    keys: [ciKey, rootFile('stale-log', staleRoot), otherRoot],
  });
});

after(async () => {
  await proxy?.close();
  await staleProxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('keyless signatures with the right identity › pulled', () => {
  it('cosign .sig layer: certificate, chain and Rekor SET annotations', async () => {
    await allowed('keyless/sig');
  });
  it('sigstore bundle v0.3 referrer, message signature over the manifest (also copied whole)', async () => {
    await allowed('keyless/bundle');
    const copied = await copy(`docker://${proxy.host}/keyless/bundle:v1`, `oci:${join(work, 'copy')}`);
    assert.equal(copied.code, 0, copied.stderr);
  });
  it('sigstore bundle v0.3 referrer, DSSE over the cosign in-toto statement', async () => {
    await allowed('keyless/dsse');
  });
});

describe('identity', () => {
  it('another subject (org/other) › identity_mismatch', async () => {
    const res = await denied('keyless/wrong-subject');
    assert.deepEqual(res.reasons, ['identity_mismatch']);
    assert.match(
      res.stderr,
      /certificate for \\?"https:\/\/github.com\/org\/other\/.+\\?" \(issuer https:\/\/token.actions.githubusercontent.com\) is not an identity rule \\?"keyless\\?" accepts from \\?"local\\?"/,
    );
  });
  it('another issuer (gitlab.com) › identity_mismatch', async () => {
    const res = await denied('keyless/wrong-issuer');
    assert.deepEqual(res.reasons, ['identity_mismatch']);
    assert.match(res.stderr, /\(issuer https:\/\/gitlab.com\) is not an identity rule/);
  });
  it('an unanchored subjectRegExp › the policy is refused at load, naming the field', async () => {
    const files = runtimeFiles(policy('local', 'https://github.com/org/repo/.+'));
    try {
      const config = loadConfigText(`${upstreamYaml()}\n${files.configLines}`, 'test.yaml', { env: {} });
      await assert.rejects(buildRuntime(config, noopLogger), (error: Error) => {
        assert.equal(error.name, 'ConfigError');
        assert.match(error.message, /policy\.yaml: rules\[0\]\.signatures\.keyless\[0\]\.identities\[0\]\.subjectRegExp: unanchored/);
        return true;
      });
    } finally {
      files.remove();
    }
  });
});

describe('transparency log (transparencyLog: required)', () => {
  it('no log entry and no timestamp › tlog_missing: no trusted signing time', async () => {
    const res = await denied('keyless/no-tlog');
    assert.deepEqual(res.reasons, ['tlog_missing']);
    assert.match(res.stderr, /no trusted signing time: no verified log inclusion promise and no RFC 3161 timestamp/);
  });
  it('no log entry, an RFC 3161 timestamp only › tlog_missing: no verified entry', async () => {
    const res = await denied('keyless/tsa-only');
    assert.deepEqual(res.reasons, ['tlog_missing']);
    assert.match(res.stderr, /no verified transparency-log entry from \\?"local\\?"/);
  });
  it('a log entry for another signature (.sig and bundle) › tlog_invalid', async () => {
    for (const repo of ['keyless/other-signature', 'keyless/other-signature-bundle']) {
      const res = await denied(repo);
      assert.deepEqual(res.reasons, ['tlog_invalid'], repo);
      assert.match(res.stderr, /under \\?"local\\?": signature mismatch/, repo);
    }
  });
  it('a log entry of another kind (intoto for a message signature) › tlog_invalid', async () => {
    const res = await denied('keyless/other-kind');
    assert.deepEqual(res.reasons, ['tlog_invalid']);
    assert.match(res.stderr, /under \\?"local\\?": kind\/version mismatch - expected: intoto\/0.0.2, received: hashedrekord\/0.0.1/);
  });
  it('a genuine intoto entry for a message signature › tlog_invalid (only hashedrekord binds a message signature)', async () => {
    const res = await denied('keyless/intoto-entry');
    assert.deepEqual(res.reasons, ['tlog_invalid']);
    assert.match(res.stderr, /a log entry of kind intoto does not bind a message signature \(hashedrekord does\)/);
  });
  it('the refusals are counted by reason in /metrics', async () => {
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    for (const reason of ['tlog_missing', 'tlog_invalid', 'identity_mismatch']) {
      const line = metrics.split('\n').find((l) => l.startsWith('trustgate_decisions_total{') && l.includes(`reason="${reason}"`));
      assert.ok(line !== undefined && Number(line.split(' ').pop()) >= 1, `${reason}: ${line}`);
    }
  });
  it('a Rekor key outside its validity window in the trusted root › tlog_invalid (the same signature passes under a root dating the key from 2020 on)', async () => {
    const res = await denied('keyless/sig', staleProxy);
    assert.deepEqual(res.reasons, ['tlog_invalid']);
    assert.match(res.stderr, /under \\?"stale-log\\?": inclusion promise could not be verified/);
  });
});

describe('certificate', () => {
  it('outside its validity at the signing time (logged 20 minutes after it expired) › certificate_untrusted', async () => {
    const res = await denied('keyless/expired-cert');
    assert.deepEqual(res.reasons, ['certificate_untrusted']);
    assert.match(
      res.stderr,
      /under \\?"local\\?": Failed to verify certificate chain: certificate is not valid or expired at the specified date/,
    );
  });
  it('issued by a CA the trusted root does not list › certificate_untrusted', async () => {
    const res = await denied('keyless/untrusted-ca');
    assert.deepEqual(res.reasons, ['certificate_untrusted']);
    assert.match(res.stderr, /under \\?"local\\?": Failed to verify certificate chain: no valid certificate path found/);
  });
  it('issuer extensions v1 and v2 that disagree › certificate_untrusted', async () => {
    const res = await denied('keyless/issuer-disagree');
    assert.deepEqual(res.reasons, ['certificate_untrusted']);
    assert.match(
      res.stderr,
      /the Fulcio issuer extensions disagree: v1 \\?"https:\/\/token.actions.githubusercontent.com\\?", v2 \\?"https:\/\/issuer.evil.example\\?"/,
    );
  });
});

describe('root', () => {
  it('a valid certificate from a root no keyless authority of the rule names › untrusted_signer', async () => {
    const res = await denied('other-root/sig');
    assert.deepEqual(res.reasons, ['untrusted_signer']);
    assert.match(res.stderr, /sigstore root \\?"local\\?" is not a keyless authority of rule \\?"other-root\\?"/);
  });
});

describe('key-based cosign signatures under rekor: { root }', () => {
  it('with a valid Rekor SET from the root’s log › pulled', async () => {
    await allowed('rekor/with-set');
  });
  it('without a SET › tlog_missing', async () => {
    const res = await denied('rekor/no-set');
    assert.deepEqual(res.reasons, ['tlog_missing']);
    assert.match(res.stderr, /signed by \\?"ci\\?", with no verified entry in the transparency log of \\?"local\\?"/);
  });
});

describe('revocation (last: it changes the trust store)', () => {
  it('the sigstore root revoked at run time › key_revoked for the signature pulled before', async () => {
    await allowed('keyless/sig');
    await proxy.runtime.trust.revoke('local', 'root compromised', Date.now());
    const res = await denied('keyless/sig');
    assert.deepEqual(res.reasons, ['key_revoked']);
    assert.match(res.stderr, /signed by \\?"local\\?", revoked at \d{4}-/);
  });
});
