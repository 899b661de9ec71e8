import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { SignJWT, type CryptoKey, type KeyObject } from 'jose';
import { BOOTSTRAP_KEY_FILE, BOOTSTRAP_PUB_FILE, bootstrapKey } from '../../src/admin/bootstrap-key.ts';
import { createTokenVerifier } from '../../src/admin/tokens.ts';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import { recordingLogger } from '../support/helpers.ts';
import { adminTokens } from '../support/admin-tokens.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-bootstrap-'));
after(() => rmSync(work, { recursive: true, force: true }));

const BASE = 'listen: { plainHttp: true }\nupstreams:\n  - { name: up, url: "http://127.0.0.1:9", repositories: ["127.0.0.1:9/**"] }\n';
const admin = (fields: string) =>
  parseConfig(`${BASE}admin: { issuer: "https://issuer.test", audience: "trustgate", ${fields} }\n`, join(work, 'conf', 'trustgate.yaml'))
    .admin!;

function sign(key: CryptoKey | KeyObject, kid: string, roles: string[], alg = 'ES256'): Promise<string> {
  return new SignJWT({ roles })
    .setProtectedHeader({ alg, kid })
    .setSubject('alice')
    .setIssuer('https://issuer.test')
    .setAudience('trustgate')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

describe('admin.bootstrap', () => {
  it('config › jwks is optional with bootstrap; dataDir is relative to the config file, else .data/admin under the working directory', () => {
    assert.deepEqual(admin('bootstrap: { dataDir: "../state/admin" }').bootstrap, { dataDir: join(work, 'state', 'admin') });
    assert.deepEqual(admin('bootstrap: {}').bootstrap, { dataDir: resolve('.data/admin') });
    assert.equal(admin('bootstrap: {}').jwks, undefined);
    assert.throws(
      () => admin('rolesClaim: roles'),
      (e: unknown) => e instanceof ConfigError && e.field === 'admin.jwks' && /required unless admin.bootstrap is set/.test(e.message),
    );
    assert.throws(
      () => admin('bootstrap: { dataDir: "../keys/admin" }'),
      (e: unknown) =>
        e instanceof ConfigError && e.field === 'admin.bootstrap.dataDir' && /must be outside the trust store's keys.dir/.test(e.message),
    );
  });

  it("the verifier › makes the key (0600) when missing, warns with its fingerprint, accepts its tokens and the JWKS's", async () => {
    const dataDir = join(work, 'made-by-proxy');
    const jwks = await adminTokens(work);
    const logs = recordingLogger();
    const verify = createTokenVerifier(admin(`jwks: { file: "${join(work, 'jwks.json')}" }, bootstrap: { dataDir: "${dataDir}" }`), logs);
    assert.equal(statSync(join(dataDir, BOOTSTRAP_KEY_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    const key = bootstrapKey(dataDir, 'private');
    assert.equal(key.created, false);
    const warning = logs.records.find((r) => (r.record as { event?: string }).event === 'admin_bootstrap_tokens_accepted');
    assert.equal(warning?.level, 'warn');
    assert.deepEqual(
      { ...(warning?.record as object), created: undefined },
      { event: 'admin_bootstrap_tokens_accepted', dataDir, fingerprint: key.fingerprint, kid: key.kid, created: undefined },
    );
    assert.match(warning?.message ?? '', /trustgate token mint/);
    assert.deepEqual(await verify(`Bearer ${await sign(key.privateKey!, key.kid, ['admin'])}`), {
      subject: 'alice',
      roles: ['admin'],
      scopes: {},
    });
    assert.deepEqual(await verify(`Bearer ${await jwks.mint('carol', ['auditor'])}`), { subject: 'carol', roles: ['auditor'], scopes: {} });
  });

  it('the verifier › refuses another key under the bootstrap kid, and any kid it does not know', async () => {
    const dataDir = join(work, 'refusals');
    const verify = createTokenVerifier(admin(`bootstrap: { dataDir: "${dataDir}" }`));
    const mine = bootstrapKey(dataDir, 'private');
    const other = bootstrapKey(join(work, 'other'), 'private');
    await assert.rejects(
      verify(`Bearer ${await sign(other.privateKey!, mine.kid, ['admin'])}`),
      /the token was refused \(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)/,
    );
    await assert.rejects(
      verify(`Bearer ${await sign(other.privateKey!, other.kid, ['admin'])}`),
      /the token was refused \(ERR_JWKS_NO_MATCHING_KEY\)/,
    );
  });

  it('a data dir with only the public key › the proxy trusts it (the private half can live elsewhere)', async () => {
    const dataDir = join(work, 'public-only');
    const key = bootstrapKey(dataDir, 'private');
    const pem = readFileSync(join(dataDir, BOOTSTRAP_PUB_FILE), 'utf8');
    unlinkSync(join(dataDir, BOOTSTRAP_KEY_FILE));
    const verify = createTokenVerifier(admin(`bootstrap: { dataDir: "${dataDir}" }`));
    assert.deepEqual(await verify(`Bearer ${await sign(key.privateKey!, key.kid, ['auditor'])}`), {
      subject: 'alice',
      roles: ['auditor'],
      scopes: {},
    });
    assert.equal(readFileSync(join(dataDir, BOOTSTRAP_PUB_FILE), 'utf8'), pem);
    assert.throws(() => bootstrapKey(dataDir, 'private'), /holds the bootstrap public key \(bootstrap-admin.pub\) but not its private key/);
    assert.equal(readFileSync(join(dataDir, BOOTSTRAP_PUB_FILE), 'utf8'), pem, 'not replaced');
  });
});
