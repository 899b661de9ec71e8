import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildImage,
  makeNotationPki,
  NOTATION_EXTENSIONS,
  push,
  pushNotationSignature,
  signNotation,
  startRegistry,
  type RunningRegistry,
} from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { call } from '../support/pull-auth.ts';
import { startCanary, type Canary } from './canary.ts';

// Certificates name URLs too: a notation signing certificate whose AIA (OCSP responder, CA issuers)
// and CRL distribution points all point at the canary. trustgate verifies offline (revocation
// checking is off, config/README.md "The policy file"): the pull is allowed and the canary untouched.
const work = mkdtempSync(join(tmpdir(), 'tg-ssrf-pki-'));
let canary: Canary;
let registry: RunningRegistry;
let proxy: RunningProxy;
let digest = '';

before(async () => {
  canary = await startCanary();
  registry = await startRegistry();
  const urls = [
    `authorityInfoAccess = OCSP;URI:${canary.url}/ocsp,caIssuers;URI:${canary.url}/issuer.crt`,
    `crlDistributionPoints = URI:${canary.url}/leaf.crl`,
  ];
  const pki = await makeNotationPki(
    {
      root: {
        subject: '/C=US/ST=WA/O=Acme/CN=Acme Root',
        extensions: [...NOTATION_EXTENSIONS.root, `crlDistributionPoints = URI:${canary.url}/root.crl`],
      },
      leaf: { subject: '/C=US/ST=WA/O=Acme/CN=builder', extensions: [...NOTATION_EXTENSIONS.leaf, ...urls] },
    },
    join(work, 'pki'),
  );
  assert.ok(
    new X509Certificate(pki.leaf.certPem).infoAccess?.includes(`${canary.url}/ocsp`),
    'the leaf names the canary as its OCSP responder',
  );
  const image = await buildImage(join(work, 'image'), { seed: 'ssrf-pki' });
  const pushed = await push(image.layoutDir, `docker://${registry.host}/notary/app:v1`);
  assert.equal(pushed.code, 0, pushed.stderr);
  const subject = { digest: image.manifestDigest, size: image.manifestBytes.length, mediaType: image.mediaType };
  const envelope = signNotation({ leafKeyPem: pki.leaf.keyPem, chainPem: [pki.leaf.certPem, pki.root.certPem], alg: 'ES256', subject });
  await pushNotationSignature(registry.url, 'notary/app', subject, envelope);
  digest = image.manifestDigest;
  proxy = await startProxy(
    `listen: { plainHttp: true }\nupstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }\n`,
    {
      policy: `version: 1\nrules:\n  - { name: notary, images: ["${registry.host}/notary/**"], signatures: { notation: { trustedIdentities: ["x509.subject: C=US, ST=WA, O=Acme"] } } }\n`,
      keys: [{ id: 'acme-root', pem: pki.root.certPem, kind: 'crt', scopes: [`${registry.host}/notary/**`] }],
    },
  );
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  await canary?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('URLs inside signing certificates', () => {
  it('OCSP, CA-issuer and CRL URLs naming the canary › the notation-signed pull is verified offline and allowed; the canary is never contacted', async () => {
    const res = await call(`${proxy.url}/v2/notary/app/manifests/v1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['docker-content-digest'], digest);
    assert.equal(canary.connections(), 0, canary.requests.join(', '));
  });
});
