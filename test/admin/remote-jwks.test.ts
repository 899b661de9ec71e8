import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createTokenVerifier } from '../../src/admin/tokens.ts';
import type { AdminConfig } from '../../src/config/types.ts';

// An OIDC issuer's jwks_uri, served by a real HTTP server: tokens verify against it, the key set
// is fetched once and cached, and an unknown kid does not turn into a fetch per request.
let server: Server;
let fetches = 0;
let privateKey: CryptoKey;
let config: AdminConfig;

before(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey as CryptoKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'oidc-1', alg: 'ES256', use: 'sig' }] });
  server = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  config = {
    jwks: { url: `http://127.0.0.1:${port}/jwks.json` },
    issuer: 'https://oidc.test',
    audience: 'trustgate',
    rolesClaim: 'groups',
    maxBodyBytes: 1024,
    maxClockSkewMs: 0,
  } as AdminConfig;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const token = (kid: string, groups: string[]) =>
  new SignJWT({ groups })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setSubject('oidc-user')
    .setIssuer('https://oidc.test')
    .setAudience('trustgate')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

describe('admin tokens from a remote OIDC jwks_uri', () => {
  it('verifies tokens, reads roles from the configured claim, and caches the key set', async () => {
    const verify = createTokenVerifier(config);
    const first = await verify(`Bearer ${await token('oidc-1', ['auditor'])}`);
    assert.deepEqual({ subject: first.subject, roles: first.roles }, { subject: 'oidc-user', roles: ['auditor'] });
    await verify(`Bearer ${await token('oidc-1', ['scanner'])}`);
    assert.equal(fetches, 1);
  });

  it('an unknown kid is refused, and repeated unknown kids stay within the cooldown', async () => {
    const verify = createTokenVerifier(config);
    const before = fetches;
    for (let i = 0; i < 5; i += 1) await assert.rejects(verify(`Bearer ${await token('rotated-away', ['admin'])}`), /refused/);
    assert.ok(fetches - before <= 2, `fetched ${fetches - before} times for 5 unknown-kid tokens`);
  });
});
