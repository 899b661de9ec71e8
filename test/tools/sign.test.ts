import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Digest } from '../../src/oci/reference.ts';
import { signImage } from '../../src/tools/sign-image.ts';
import { verifyCosignSignature } from '../../src/verify/cosign/index.ts';
import {
  buildImage,
  freePort,
  getManifest,
  inspect,
  makeTls,
  makeSimpleSigningPayload,
  push,
  startRegistry,
  startTokenIssuer,
  type BuiltImage,
  type RunningRegistry,
  type TokenIssuer,
  cosignSignImage,
} from '../kit/index.ts';
import { startProxy } from '../support/proxy-server.ts';
import { runCli } from './cli-run.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const work = mkdtempSync(join(tmpdir(), 'tg-sign-'));
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let registry: RunningRegistry;
let image: BuiltImage;
let keyFile: string;
let publicKey: KeyObject;

async function pushImage(reg: RunningRegistry, seed: string, repo: string, creds?: string): Promise<BuiltImage> {
  const built = await buildImage(join(work, seed), { seed });
  const res = await push(built.layoutDir, `docker://${reg.host}/${repo}:v1`, creds === undefined ? {} : { creds });
  assert.equal(res.code, 0, res.stderr);
  return built;
}

/** Every layer of `<repo>:sha256-<hex>.sig`, checked by the project's cosign verifier against `keys`. */
async function verifyStored(
  reg: RunningRegistry,
  repo: string,
  subject: BuiltImage,
  keys: Record<string, KeyObject>,
  headers: Record<string, string> = {},
) {
  const tag = `${subject.manifestDigest.replace(':', '-')}.sig`;
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { headers: { ...headers, accept: OCI_MANIFEST } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
  const manifest = JSON.parse(await res.text()) as {
    layers: Array<{ mediaType: string; digest: string; annotations: Record<string, string> }>;
  };
  const trust = { keys: Object.entries(keys).map(([id, key]) => ({ id, publicKey: key })), roots: [], sigstoreRoots: [], tsaRoots: [] };
  const findings = [];
  for (const [i, layer] of manifest.layers.entries()) {
    const payload = Buffer.from(await (await fetch(`${reg.url}/v2/${repo}/blobs/${layer.digest}`, { headers })).arrayBuffer());
    assert.equal(sha256(payload), layer.digest);
    const subjectBytes = {
      digest: subject.manifestDigest as Digest,
      size: subject.manifestBytes.length,
      mediaType: subject.mediaType,
      bytes: subject.manifestBytes,
    };
    findings.push(
      verifyCosignSignature(
        { scheme: 'cosign', source: `${tag}#${i}`, mediaType: layer.mediaType, payload, annotations: layer.annotations },
        subjectBytes,
        trust,
        Date.now(),
      ),
    );
  }
  return findings;
}

before(async () => {
  registry = await startRegistry();
  image = await pushImage(registry, 'app', 'team/app');
  const keygen = await runCli([
    'keygen',
    '--out',
    join(work, 'private'),
    '--keys',
    join(work, 'keys'),
    '--id',
    'dev',
    '--scope',
    `${registry.host}/team/**`,
  ]);
  assert.equal(keygen.code, 0, keygen.stderr);
  keyFile = join(work, 'private', 'dev.key');
  publicKey = createPublicKey(readFileSync(join(work, 'keys', 'dev.pub')));
});

after(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('trustgate sign', () => {
  it('by tag › the digest of the exact bytes, a cosign signature the verifier accepts, and a pull through trustgate', async () => {
    const run = await runCli(['sign', '--key', keyFile, '--registry', registry.url, 'team/app:v1']);
    assert.equal(run.code, 0, run.stderr);
    const tag = `${image.manifestDigest.replace(':', '-')}.sig`;
    assert.match(
      run.stdout,
      new RegExp(`^signed ${registry.host}/team/app@${image.manifestDigest} \\(docker-reference ${registry.host}/team/app\\)$`, 'm'),
    );
    assert.match(
      run.stdout,
      new RegExp(`^signature ${registry.host}/team/app:${tag} sha256:[0-9a-f]{64} \\(1 signature\\(s\\) under that tag\\)$`, 'm'),
    );
    const [finding, ...rest] = await verifyStored(registry, 'team/app', image, { dev: publicKey });
    assert.equal(rest.length, 0);
    assert.equal(finding?.failure, undefined, finding?.failure?.message);
    assert.deepEqual(finding?.verifiedBy, ['dev']);
    assert.equal(finding?.signedReference, `${registry.host}/team/app`);
    // Byte-for-byte the payload cosign (and the kit's independent signer) writes.
    const sig = JSON.parse((await getManifest(registry.url, 'team/app', tag, OCI_MANIFEST))!.toString()) as {
      layers: Array<{ digest: string }>;
    };
    assert.equal(sig.layers[0]!.digest, sha256(makeSimpleSigningPayload(image.manifestDigest, `${registry.host}/team/app`)));

    const proxy = await startProxy(
      `listen: { plainHttp: true }\nupstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }\n`,
      {
        policy: `version: 1\nrules:\n  - { name: team, images: ["${registry.host}/team/**"] }\n`,
        keys: [{ id: 'dev', pem: readFileSync(join(work, 'keys', 'dev.pub'), 'utf8'), scopes: [`${registry.host}/team/**`] }],
      },
    );
    try {
      const pulled = await inspect(`docker://${proxy.host}/team/app:v1`, { raw: true });
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(sha256(pulled.stdoutBytes), image.manifestDigest);
    } finally {
      await proxy.close();
    }
  });

  it('again with the same key › nothing written; with other keys (Ed25519, RSA) › appended, each verifies', async () => {
    const again = await runCli(['sign', '--key', keyFile, '--registry', registry.url, `team/app@${image.manifestDigest}`]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already held this signature; nothing written/);
    const ed = generateKeyPairSync('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const key of [ed, rsa]) {
      await signImage({
        url: registry.url,
        repository: 'team/app',
        reference: { digest: image.manifestDigest as Digest },
        privateKey: key.privateKey,
      });
    }
    const findings = await verifyStored(registry, 'team/app', image, { dev: publicKey, ed: ed.publicKey, rsa: rsa.publicKey });
    assert.deepEqual(
      findings.map((f) => [f.failure, f.verifiedBy]),
      [
        [undefined, ['dev']],
        [undefined, ['ed']],
        [undefined, ['rsa']],
      ],
    );
  });

  it('onto a .sig written by another signer › its layer kept, ours appended; --reference is what is signed', async () => {
    const other = await pushImage(registry, 'other', 'team/other');
    const foreign = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    await cosignSignImage(registry.url, 'team/other', other.manifestDigest, `${registry.host}/team/other`, foreign.privateKey);
    const run = await runCli([
      'sign',
      '--key',
      keyFile,
      '--registry',
      registry.url,
      '--reference',
      'registry.example/team/other:v1',
      `${registry.host}/team/other:v1`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\(2 signature\(s\) under that tag\)/);
    const findings = await verifyStored(registry, 'team/other', other, { dev: publicKey, foreign: foreign.publicKey });
    assert.deepEqual(
      findings.map((f) => [f.failure, f.verifiedBy, f.signedReference]),
      [
        [undefined, ['foreign'], `${registry.host}/team/other`],
        [undefined, ['dev'], 'registry.example/team/other:v1'],
      ],
    );
  });

  it('a digest the registry does not hold, or an unreachable registry › exit 1 saying so', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    const [gone, down] = await Promise.all([
      runCli(['sign', '--key', keyFile, '--registry', registry.url, `team/app@${missing}`]),
      runCli(['sign', '--key', keyFile, '--registry', `http://127.0.0.1:${await freePort()}`, 'team/app:v1']),
    ]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`^trustgate sign: ${registry.host}/team/app: no manifest ${missing} in the registry\\n$`));
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^trustgate sign: GET http:\/\/127\.0\.0\.1:\d+\/v2\/team\/app\/manifests\/v1: ECONNREFUSED\n$/);
  });

  it('an encrypted cosign key › refused, exit 1', async () => {
    const file = join(work, 'cosign.key');
    writeFileSync(file, '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n');
    const run = await runCli(['sign', '--key', file, '--registry', registry.url, 'team/app:v1']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /an encrypted key; trustgate sign reads only unencrypted PEM keys/);
  });
});

describe('trustgate sign against registries with a login or a self-signed certificate', () => {
  let basic: RunningRegistry;
  let issuer: TokenIssuer;
  let token: RunningRegistry;
  before(async () => {
    basic = await startRegistry({ auth: { type: 'htpasswd', username: 'bob', password: 'hunter2' } });
    issuer = await startTokenIssuer({ users: { alice: 's3cret' } });
    token = await startRegistry({ auth: { type: 'token', issuer } });
  });
  after(async () => {
    await basic?.stop();
    await token?.stop();
    await issuer?.stop();
  });

  it('Basic (htpasswd) › --username and --password-env', async () => {
    const built = await pushImage(basic, 'basic', 'team/app', 'bob:hunter2');
    const anonymous = await runCli(['sign', '--key', keyFile, '--registry', basic.url, 'team/app:v1']);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /the registry requires a login: pass --username and --password-env VAR/);
    const run = await runCli(
      ['sign', '--key', keyFile, '--registry', basic.url, '--username', 'bob', '--password-env', 'TG_PW', 'team/app:v1'],
      { TG_PW: 'hunter2' },
    );
    assert.equal(run.code, 0, run.stderr);
    const auth = { authorization: `Basic ${Buffer.from('bob:hunter2').toString('base64')}` };
    const [finding] = await verifyStored(basic, 'team/app', built, { dev: publicKey }, auth);
    assert.equal(finding?.failure, undefined);
  });

  it('HTTPS with a self-signed certificate › refused, unless --insecure-skip-tls', async () => {
    const tlsRegistry = await startRegistry({ tls: await makeTls(mkdtempSync(join(work, 'tls-'))) });
    try {
      await pushImage(tlsRegistry, 'tls', 'team/app');
      const strict = await runCli(['sign', '--key', keyFile, '--registry', tlsRegistry.url, 'team/app:v1']);
      assert.equal(strict.code, 1);
      assert.match(strict.stderr, /^trustgate sign: GET https:\/\/127\.0\.0\.1:\d+\/v2\/team\/app\/manifests\/v1: [A-Z_]+/);
      const insecure = await runCli(['sign', '--key', keyFile, '--registry', tlsRegistry.url, '--insecure-skip-tls', 'team/app:v1']);
      assert.equal(insecure.code, 0, insecure.stderr);
    } finally {
      await tlsRegistry.stop();
    }
  });

  it("the token flow › a pull,push token from the realm with the user's credentials", async () => {
    const built = await pushImage(token, 'token', 'team/app', 'alice:s3cret');
    const run = await runCli(
      ['sign', '--key', keyFile, '--registry', token.url, '--username', 'alice', '--password-env', 'TG_PW', 'team/app:v1'],
      { TG_PW: 's3cret' },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      issuer.calls.some((call) => call.user === 'alice' && call.scopes.includes('repository:team/app:pull,push')),
      JSON.stringify(issuer.calls),
    );
    const bearer = { authorization: `Bearer ${await issuer.mint([{ type: 'repository', name: 'team/app', actions: ['pull'] }])}` };
    const [finding] = await verifyStored(token, 'team/app', built, { dev: publicKey }, bearer);
    assert.equal(finding?.failure, undefined);
  });
});
