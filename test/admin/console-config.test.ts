import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { loadConfigText } from '../../src/config/index.ts';
import { registerConsoleConfigRoute } from '../../src/admin/console-config-routes.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { configProblem } from '../support/config-problem.ts';

// admin.console: validation naming the field, and GET /admin/v1/console/config (no token; public values only).
const BASE =
  'listen: { plainHttp: true }\nupstreams:\n  - { name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }\n';
const adminYaml = (issuer: string, console: string) =>
  `${BASE}admin: { bootstrap: { dataDir: "/tmp/tg-console-test" }, issuer: "${issuer}", audience: "trustgate", console: ${console} }\n`;
const OIDC = (extra = '') => `{ oidc: { clientId: "trustgate-console", redirectUri: "https://tg.example/admin/ui/callback"${extra} } }`;

/** An express app with only the console route, over the admin config parsed from `yaml`. */
function routeApp(yaml: string): express.Express {
  const config = loadConfigText(yaml, 'test.yaml', { env: {} });
  const app = express();
  const router = express.Router();
  registerConsoleConfigRoute(router, { admin: config.admin, logger: noopLogger, now: Date.now });
  app.use('/admin/v1', router);
  return app;
}

describe('admin.console config', () => {
  it('defaults to enabled without OIDC', () => {
    const config = loadConfigText(adminYaml('https://issuer.test', '{}'), 'test.yaml', { env: {} });
    assert.deepEqual(config.admin?.console, { enabled: true });
  });

  it('refuses a redirect URI or endpoint that is not https (or http on loopback), naming the field', () => {
    const cases: [string, string][] = [
      [OIDC().replace('https://tg.example', 'http://tg.example'), 'admin.console.oidc.redirectUri'],
      [OIDC().replace('callback', 'callback#frag'), 'admin.console.oidc.redirectUri'],
      [OIDC().replace('https://tg.example/admin/ui/callback', 'not a url'), 'admin.console.oidc.redirectUri'],
      [OIDC(', authorizationEndpoint: "http://idp.example/auth"'), 'admin.console.oidc.authorizationEndpoint'],
      [OIDC(', scopes: ["openid profile"]'), 'admin.console.oidc.scopes[0]'],
      [OIDC(', clientSecret: "x"'), 'admin.console.oidc'],
      ['{ oidc: { redirectUri: "https://tg.example/cb" } }', 'admin.console.oidc.clientId'],
    ];
    for (const [console, field] of cases) {
      const problem = configProblem(adminYaml('https://issuer.test', console));
      assert.equal(problem.field, field, `${console}: ${problem.message}`);
    }
  });

  it('takes http on loopback, kept exactly as written', () => {
    const redirect = 'http://127.0.0.1:8080/admin/ui/callback?x=1';
    const config = loadConfigText(adminYaml('https://issuer.test', `{ oidc: { clientId: c, redirectUri: "${redirect}" } }`), 'test.yaml', {
      env: {},
    });
    assert.equal(config.admin?.console.oidc?.redirectUri, redirect);
  });
});

describe('GET /admin/v1/console/config', () => {
  let app: AdminApp;
  let idp: Server;
  let issuer = '';
  let fetches = 0;
  let document: Record<string, unknown> = {};

  before(async () => {
    app = await adminApp(offlineUpstream());
    idp = createServer((req, res) => {
      fetches += 1;
      if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    document = { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` };
  });
  after(async () => {
    await app?.close();
    await new Promise((resolve) => idp?.close(resolve));
  });

  it('answers without a token, with the public values only (no OIDC configured)', async () => {
    const res = await request(app.app).get('/admin/v1/console/config').expect(200);
    assert.deepEqual(res.body, { enabled: true, issuer: 'https://issuer.test', audience: 'trustgate', oidcConfigured: false });
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('gives configured endpoints as they are', async () => {
    const yaml = adminYaml(
      'https://issuer.test',
      OIDC(', scopes: ["openid", "groups"], authorizationEndpoint: "https://idp.example/auth", tokenEndpoint: "https://idp.example/token"'),
    );
    const res = await request(routeApp(yaml)).get('/admin/v1/console/config').expect(200);
    assert.deepEqual(res.body, {
      enabled: true,
      issuer: 'https://issuer.test',
      audience: 'trustgate',
      oidcConfigured: true,
      clientId: 'trustgate-console',
      redirectUri: 'https://tg.example/admin/ui/callback',
      scopes: ['openid', 'groups'],
      authorizationEndpoint: 'https://idp.example/auth',
      tokenEndpoint: 'https://idp.example/token',
      discovery: 'configured',
    });
  });

  it("discovers the endpoints from the issuer's discovery document once, and caches them", async () => {
    const route = routeApp(adminYaml(issuer, OIDC()));
    fetches = 0;
    for (let i = 0; i < 3; i += 1) {
      const res = await request(route).get('/admin/v1/console/config').expect(200);
      assert.equal(res.body.authorizationEndpoint, `${issuer}/authorize`);
      assert.equal(res.body.tokenEndpoint, `${issuer}/token`);
      assert.deepEqual(res.body.scopes, ['openid']);
      assert.equal(res.body.discovery, 'discovered');
      assert.equal(res.body.jwks_uri, undefined);
    }
    assert.equal(fetches, 1);
  });

  it('answers discovery "failed" with no endpoints when the document names another issuer', async () => {
    document = { ...document, issuer: 'https://someone.else' };
    const res = await request(routeApp(adminYaml(issuer, OIDC())))
      .get('/admin/v1/console/config')
      .expect(200);
    assert.equal(res.body.discovery, 'failed');
    assert.equal(res.body.authorizationEndpoint, null);
    assert.equal(res.body.tokenEndpoint, null);
  });

  it('answers { enabled: false } when the console is off', async () => {
    const res = await request(routeApp(adminYaml('https://issuer.test', '{ enabled: false }')))
      .get('/admin/v1/console/config')
      .expect(200);
    assert.deepEqual(res.body, { enabled: false });
  });
});
