// Explain for keyless signatures: GET /admin/v1/explain and `trustgate explain` against a real registry,
// images signed by the offline sigstore (test/kit/sigstore-services.ts) whose trusted_root.json is in the
// proxy's keys/. Allowed: the identity, the log entry and its integrated time, "counts (<signer>)". Refused
// for another identity: "verified, but the rule does not count it:" and identity_mismatch.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import {
  blobPath,
  buildImage,
  makeSimpleSigningPayload,
  pushCosignSignature,
  putBlob,
  putManifest,
  startRegistry,
  type BuiltImage,
  type RunningRegistry,
} from '../kit/index.ts';
import { pushBundleReferrer } from '../kit/sigstore-push.ts';
import { createLocalSigstore, type BundleJson, type CosignSignature } from '../kit/sigstore-services.ts';
import { startAdminProxy, type AdminProxy } from '../cli/admin-proxy.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const OTHER_WORKFLOW = 'https://github.com/org/other/.github/workflows/release.yml@refs/heads/main';
/** The signing time: whole seconds, a minute ago (the leaf is valid 10 minutes from it); logged a second later. */
const SIGNED = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const LOGGED = new Date(SIGNED.getTime() + 1000).toISOString();

const work = mkdtempSync(join(tmpdir(), 'tg-keyless-explain-'));
const sigstore = createLocalSigstore();
let registry: RunningRegistry;
let image: BuiltImage;
let tg: AdminProxy;
let token: string;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const name = (repo: string): string => `${registry.host}/${repo}`;

async function pushImage(repo: string): Promise<void> {
  const manifest = JSON.parse(image.manifestBytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    await putBlob(registry.url, repo, readFileSync(blobPath(image.layoutDir, digest)));
  }
  await putManifest(registry.url, repo, 'v1', image.manifestBytes, image.mediaType);
}

async function pushSig(repo: string, signature: CosignSignature): Promise<void> {
  await pushImage(repo);
  await pushCosignSignature(registry.url, repo, { digest: image.manifestDigest }, [signature]);
}

/** A sigstore bundle v0.3 as an OCI 1.1 referrer, listed in the referrers fallback index (no referrers API here). */
async function pushBundle(repo: string, bundle: BundleJson): Promise<void> {
  await pushImage(repo);
  await pushBundleReferrer(
    registry.url,
    repo,
    { mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifestBytes.length },
    bundle,
  );
}

const payloadFor = (repo: string): Buffer => makeSimpleSigningPayload(image.manifestDigest, name(repo));

interface CertificateView {
  root: string;
  identity: { emails: string[]; uris: string[]; dnsNames: string[]; issuer?: string };
  signingTime: { source: string; at: string | null };
  certificateNotAfter: string | null;
}
interface LogEntryView {
  root: string;
  logIndex: string;
  integratedTime: string | null;
  kind: string;
  promise: boolean;
  proof: boolean;
}
interface Explained {
  outcome: string;
  rule: string;
  reasons: { code: string; message: string }[];
  signers: string[];
  findings: {
    source: string;
    scheme: string;
    verifiedBy: string[];
    failure?: unknown;
    certificates?: CertificateView[];
    logEntries?: LogEntryView[];
    countsFor?: string[];
    refusals?: { code: string; message: string }[];
  }[];
}

const explain = async (repo: string): Promise<Explained> =>
  (
    await request(tg.proxy.url)
      .get('/admin/v1/explain')
      .query({ image: `${name(repo)}:v1` })
      .set('authorization', `Bearer ${token}`)
      .expect(200)
  ).body as Explained;

before(async () => {
  registry = await startRegistry();
  image = await buildImage(join(work, 'image'), { seed: 'keyless-explain' });
  await Promise.all([
    pushSig(
      'keyless/sig',
      sigstore.cosignKeylessSignature(payloadFor('keyless/sig'), { time: SIGNED, leaf: { uri: WORKFLOW, issuer: GITHUB } }),
    ),
    pushBundle(
      'keyless/bundle',
      sigstore.keylessMessageBundle(image.manifestBytes, { time: SIGNED, leaf: { uri: WORKFLOW, issuer: GITHUB } }),
    ),
    pushSig(
      'keyless/wrong-subject',
      sigstore.cosignKeylessSignature(payloadFor('keyless/wrong-subject'), { time: SIGNED, leaf: { uri: OTHER_WORKFLOW, issuer: GITHUB } }),
    ),
  ]);
  tg = await startAdminProxy('keyless-explain', {
    upstreams: `upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }\n`,
    policy: `version: 1
rules:
  - name: keyless
    images: ["${registry.host}/keyless/**"]
    signatures:
      keyless:
        - root: local
          transparencyLog: required
          identities:
            - { name: release, issuer: "${GITHUB}", subjectRegExp: "^https://github.com/org/repo/.+$" }
`,
  });
  // keys/local.json (the local sigstore's trusted_root.json) with keys/local.yaml, then a reload of keys/.
  const keys = join(tg.proxy.files.dir, 'keys');
  writeFileSync(join(keys, 'local.json'), JSON.stringify(sigstore.trustedRoot(), null, 2));
  writeFileSync(join(keys, 'local.yaml'), 'scopes: ["**"]\n');
  await tg.proxy.runtime.reloadKeys();
  token = await tg.mint('alice', 'auditor');
});

after(async () => {
  await tg?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('GET /admin/v1/explain › keyless', () => {
  it('allowed (.sig): the certificate (root, identity, signing time from the log) and the log entry (index, integrated time)', async () => {
    const body = await explain('keyless/sig');
    assert.deepEqual([body.outcome, body.rule, body.reasons, body.signers], ['allow', 'keyless', [], ['local/release']]);
    assert.equal(body.findings.length, 1);
    const [finding] = body.findings;
    assert.equal(finding!.failure, undefined);
    assert.deepEqual(finding!.verifiedBy, ['local']);
    assert.deepEqual(finding!.countsFor, ['local/release']);
    assert.equal(finding!.refusals, undefined);
    const [certificate] = finding!.certificates!;
    assert.equal(certificate!.root, 'local');
    assert.deepEqual(certificate!.identity, { emails: [], uris: [WORKFLOW], dnsNames: [], issuer: GITHUB });
    assert.deepEqual(certificate!.signingTime, { source: 'tlog', at: LOGGED });
    assert.equal(certificate!.certificateNotAfter, new Date(SIGNED.getTime() + 10 * 60_000).toISOString());
    const [entry] = finding!.logEntries!;
    assert.equal(entry!.root, 'local');
    assert.match(entry!.logIndex, /^\d+$/);
    assert.equal(entry!.integratedTime, LOGGED);
    assert.deepEqual([entry!.kind, entry!.promise], ['hashedrekord/0.0.1', true]);
  });

  it('allowed (bundle v0.3): the log entry has both an inclusion promise and a proof', async () => {
    const body = await explain('keyless/bundle');
    assert.equal(body.outcome, 'allow');
    const [entry] = body.findings[0]!.logEntries!;
    assert.deepEqual(
      { ...entry, logIndex: undefined },
      { root: 'local', logIndex: undefined, integratedTime: LOGGED, kind: 'hashedrekord/0.0.1', promise: true, proof: true },
    );
  });

  it('another identity › deny identity_mismatch; the finding verified (certificate and log entry shown), the rule refused it', async () => {
    const body = await explain('keyless/wrong-subject');
    assert.deepEqual([body.outcome, body.rule, body.signers], ['deny', 'keyless', []]);
    assert.deepEqual(
      body.reasons.map((r) => r.code),
      ['identity_mismatch'],
    );
    assert.match(
      body.reasons[0]!.message,
      new RegExp(
        `certificate for "${escape(OTHER_WORKFLOW)}" \\(issuer ${escape(GITHUB)}\\) is not an identity rule "keyless" accepts from "local"`,
      ),
    );
    const [finding] = body.findings;
    assert.equal(finding!.failure, undefined);
    assert.deepEqual(finding!.countsFor, []);
    assert.deepEqual(
      finding!.refusals!.map((r) => r.code),
      ['identity_mismatch'],
    );
    assert.deepEqual(finding!.certificates![0]!.identity.uris, [OTHER_WORKFLOW]);
    assert.equal(finding!.logEntries![0]!.integratedTime, LOGGED);
  });
});

describe('trustgate explain › keyless', () => {
  it('allowed › "counts (local/release)", the identity and issuer, the signing time, the log entry with its index and integrated time', async () => {
    const run = await tg.cli(['explain', `${name('keyless/sig')}:v1`], token);
    assert.equal(run.code, 0, run.stderr);
    const { logIndex } = (await explain('keyless/sig')).findings[0]!.logEntries![0]!;
    assert.match(run.stdout, /^allowed by rule "keyless"$/m);
    assert.match(run.stdout, /^ {2}signers: local\/release$/m);
    assert.match(run.stdout, /^ {2}cosign cosign signature 1: counts \(local\/release\)$/m);
    assert.match(
      run.stdout,
      new RegExp(
        `^ {6}certificate from "local": ${escape(WORKFLOW)} issuer ${escape(GITHUB)}; checked at ${escape(LOGGED)} \\(tlog\\)$`,
        'm',
      ),
    );
    assert.match(
      run.stdout,
      new RegExp(`^ {6}log entry ${logIndex} in "local" at ${escape(LOGGED)} \\(hashedrekord/0\\.0\\.1, promise\\)$`, 'm'),
    );
  });

  it('allowed (bundle) › the log entry line says promise and proof', async () => {
    const run = await tg.cli(['explain', `${name('keyless/bundle')}:v1`], token);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ {2}sigstore-bundle sigstore bundle [0-9a-f]{12}: counts \(local\/release\)$/m);
    assert.match(
      run.stdout,
      new RegExp(`^ {6}log entry \\d+ in "local" at ${escape(LOGGED)} \\(hashedrekord/0\\.0\\.1, promise, proof\\)$`, 'm'),
    );
  });

  it('another identity › denied, "verified, but the rule does not count it:" with identity_mismatch and the reason', async () => {
    const run = await tg.cli(['explain', `${name('keyless/wrong-subject')}:v1`], token);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^denied by rule "keyless"$/m);
    assert.match(
      run.stdout,
      /^ {2}identity_mismatch: no valid signature from a trusted key \(1 checked: cosign signature 1: certificate for /m,
    );
    assert.match(run.stdout, /^ {2}cosign cosign signature 1: verified, but the rule does not count it:$/m);
    assert.match(
      run.stdout,
      new RegExp(
        `^ {6}identity_mismatch: certificate for "${escape(OTHER_WORKFLOW)}" \\(issuer ${escape(GITHUB)}\\) is not an identity rule "keyless" accepts from "local"$`,
        'm',
      ),
    );
    assert.match(
      run.stdout,
      new RegExp(
        `^ {6}certificate from "local": ${escape(OTHER_WORKFLOW)} issuer ${escape(GITHUB)}; checked at ${escape(LOGGED)} \\(tlog\\)$`,
        'm',
      ),
    );
    assert.doesNotMatch(run.stdout, /counts \(/);
  });
});
