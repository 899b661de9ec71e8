import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfigText } from '../../src/config/index.ts';
import { CONSOLE_CSP } from '../../src/console/index.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { createApp } from '../../src/runtime/app.ts';
import { buildRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { createFront } from '../../src/server/front.ts';
import { listen } from '../../src/server/listen.ts';
import { buildImage, push, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { UNLIMITED } from '../support/admin-tokens.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { runtimeFiles, type RuntimeFiles } from '../support/runtime-files.ts';
import { axeProblems, ensureConsoleBuilt, launchChromium } from './browser.ts';

// The console's OIDC sign-in (authorization code + PKCE against a local identity provider), the
// Overview and the Audit pages, in headless Chromium against a real trustgate with Redis and the
// distribution registry holding one unsigned image.
const prefix = testPrefix('console-oa');
const work = mkdtempSync(join(tmpdir(), 'tg-console-oa-'));
const SHOTS = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'console') : undefined;
const XSS = '<img src=x onerror=window.__pwned=1>';
const CLIENT_ID = 'trustgate-console';

let registry: RunningRegistry;
let image: BuiltImage;
let browser: Browser;
let idp: IdentityProvider;
let tg: { url: string; runtime: Runtime; files: RuntimeFiles; close: () => Promise<void> };
const started = performance.now();

const name = (): string => `${registry.host}/prod/app`;

/**
 * A tiny OpenID provider on 127.0.0.1: discovery, an /authorize that consents at once (redirecting
 * back with code, state and iss), a /token that checks the PKCE verifier against the S256 challenge
 * and answers an access token for trustgate's admin audience (signed with the key trustgate's
 * admin.jwks trusts) and an ID token carrying the nonce.
 */
interface IdentityProvider {
  readonly issuer: string;
  readonly jwksFile: string;
  /** The next /authorize answers with this state instead of the one it was given. */
  tamperState: string | undefined;
  readonly exchanges: { verifierOk: boolean; redirectUri: string }[];
  mint(subject: string, roles: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

async function startIdentityProvider(dir: string, subject: string, roles: readonly string[]): Promise<IdentityProvider> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwksFile = join(dir, 'idp-jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' }] }));
  const codes = new Map<string, { challenge: string; nonce: string; redirectUri: string }>();
  const sign = (claims: Record<string, unknown>, audience: string, sub: string): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setIssuer(provider.issuer)
      .setAudience(audience)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey as CryptoKey);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', provider.issuer);
    // The console's token exchange is a cross-origin fetch: CORS for the console's origin.
    res.setHeader('access-control-allow-origin', req.headers.origin ?? '*');
    if (url.pathname === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          issuer: provider.issuer,
          authorization_endpoint: `${provider.issuer}/authorize`,
          token_endpoint: `${provider.issuer}/token`,
          jwks_uri: `${provider.issuer}/jwks`,
          code_challenge_methods_supported: ['S256'],
          authorization_response_iss_parameter_supported: true,
        }),
      );
      return;
    }
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), CLIENT_ID);
      assert.equal(q.get('code_challenge_method'), 'S256');
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { challenge: q.get('code_challenge') ?? '', nonce: q.get('nonce') ?? '', redirectUri: q.get('redirect_uri') ?? '' });
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', provider.tamperState ?? q.get('state') ?? '');
      back.searchParams.set('iss', provider.issuer);
      provider.tamperState = undefined;
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        void (async () => {
          const form = new URLSearchParams(body);
          const grant = codes.get(form.get('code') ?? '');
          codes.delete(form.get('code') ?? '');
          const verifier = form.get('code_verifier') ?? '';
          const verifierOk =
            grant !== undefined &&
            /^[A-Za-z0-9._~-]{43,128}$/.test(verifier) &&
            createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
          provider.exchanges.push({ verifierOk, redirectUri: form.get('redirect_uri') ?? '' });
          res.setHeader('content-type', 'application/json');
          if (!verifierOk || grant === undefined || form.get('redirect_uri') !== grant.redirectUri || form.get('client_id') !== CLIENT_ID) {
            res.writeHead(400).end(JSON.stringify({ error: 'invalid_grant' }));
            return;
          }
          res.end(
            JSON.stringify({
              token_type: 'Bearer',
              expires_in: 3600,
              access_token: await sign({ roles }, 'trustgate', subject),
              id_token: await sign({ nonce: grant.nonce }, CLIENT_ID, subject),
            }),
          );
        })();
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const provider: IdentityProvider = {
    issuer: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`,
    jwksFile,
    tamperState: undefined,
    exchanges: [],
    mint: (sub, r) => sign({ roles: r }, 'trustgate', sub),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return provider;
}

/** A free loopback port: the redirect URI names trustgate's own address, so it is known before it listens. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** trustgate wired as main.ts wires it (test/support/proxy-server.ts), on a chosen port. */
async function startTrustgate(yaml: string, policy: string, port: number): Promise<typeof tg> {
  const files = runtimeFiles(policy, []);
  const config = loadConfigText(`${yaml}\n${files.configLines}`, 'test.yaml', { env: {}, overrides: { listen: `127.0.0.1:${port}` } });
  const runtime = await buildRuntime(config, noopLogger, { redisPrefix: prefix });
  const front = createFront(noopLogger);
  front.ready(createApp(runtime.deps), runtime.health);
  const listening = await listen(front.handler, config.listen, noopLogger);
  return {
    url: listening.url,
    runtime,
    files,
    async close() {
      await listening.close();
      await runtime.close();
      files.remove();
    },
  };
}

async function openConsole(path = '/admin/ui/'): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${tg.url}${path}`);
  return { context, page, problems };
}

/** OIDC sign-in through the local identity provider (it consents at once). */
async function signIn(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign in with your identity provider' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
}

async function shot(page: Page, file: string): Promise<void> {
  if (SHOTS === undefined) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, file), fullPage: true });
}

const pullStatus = async (): Promise<number> => {
  const res = await fetch(`${tg.url}/v2/prod/app/manifests/v1`, { headers: { accept: image.mediaType } });
  await res.arrayBuffer();
  return res.status;
};

before(async () => {
  await ensureConsoleBuilt();
  let port: number;
  [registry, browser, idp, port] = await Promise.all([
    startRegistry(),
    launchChromium(),
    startIdentityProvider(work, 'oidc-olga', ['key-manager', 'auditor']),
    freePort(),
  ]);
  image = await buildImage(join(work, 'img'), { seed: 'console-oa' });
  assert.equal((await push(image.layoutDir, `docker://${registry.host}/prod/app:v1`)).code, 0);
  const redirectUri = `http://127.0.0.1:${port}/admin/ui/callback`;
  tg = await startTrustgate(
    `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}" }\n` +
      `admin: { jwks: { file: "${idp.jwksFile}" }, issuer: "${idp.issuer}", audience: "trustgate", rateLimit: ${UNLIMITED}, ` +
      `console: { oidc: { clientId: "${CLIENT_ID}", redirectUri: "${redirectUri}" } } }\n` +
      `upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }\n`,
    `version: 1\nrules:\n  - { name: prod, images: ["${registry.host}/prod/**"] }\n`,
    port,
  );
});

after(async () => {
  await browser?.close();
  await tg?.close();
  await idp?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
  console.error(`test/browser/console-overview-audit.test.ts: ${Math.round(performance.now() - started)} ms in all`);
});

describe('console: OIDC sign-in, Overview, Audit', () => {
  it("the CSP is the issue's, plus connect-src for the token endpoint's origin only", async () => {
    const res = await fetch(`${tg.url}/admin/ui/`);
    await res.arrayBuffer();
    assert.equal(res.headers.get('content-security-policy'), `${CONSOLE_CSP}; connect-src 'self' ${idp.issuer}`);
  });

  it('signs in with authorization code + PKCE › the subject and roles; code and state leave the URL; lands on the Overview', async () => {
    const { context, page, problems } = await openConsole();
    await signIn(page);
    assert.equal(await page.getByTestId('who-subject').textContent(), 'oidc-olga');
    assert.equal(await page.getByTestId('who-roles').textContent(), 'key-manager, auditor');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).search, '', 'no code or state in the URL');
    assert.equal(new URL(page.url()).pathname, '/admin/ui/', 'the home page, which is the Overview');
    assert.deepEqual(idp.exchanges.at(-1), { verifierOk: true, redirectUri: `${new URL(tg.url).origin}/admin/ui/callback` });
    // The token kept is the access token (audience trustgate), never the ID token.
    const kept = (await page.evaluate("sessionStorage.getItem('trustgate.console.token')")) as string;
    assert.deepEqual(JSON.parse(Buffer.from(kept.split('.')[1]!, 'base64url').toString()).aud, 'trustgate');
    assert.equal(await page.evaluate("sessionStorage.getItem('trustgate.console.oidc')"), null, 'the PKCE secrets are used once');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('a tampered state is refused: no token is asked for or kept', async () => {
    const { context, page } = await openConsole();
    const exchanges = idp.exchanges.length;
    idp.tamperState = 'forged-state';
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).click();
    const problem = page.getByTestId('sign-in-problem');
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /state/);
    assert.equal(new URL(page.url()).search, '', 'the code is removed from the URL even so');
    assert.equal(idp.exchanges.length, exchanges, 'the code was not exchanged');
    assert.equal(await page.evaluate("sessionStorage.getItem('trustgate.console.token')"), null);
    await context.close();
  });

  it('an unsigned image denied › among the most denied; its link opens Explain with the decision; a hostile name is text', async () => {
    assert.equal(await pullStatus(), 403);
    assert.equal(await pullStatus(), 403);
    const { context, page, problems } = await openConsole();
    await signIn(page);
    const row = page.getByTestId('most-denied-row').filter({ hasText: name() });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /unsigned\s*2/);
    assert.ok(await page.getByTestId('chart').isVisible());
    assert.deepEqual(await axeProblems(page), []);
    await shot(page, 'overview.png');
    await row.getByRole('link', { name: name() }).click();
    await page.getByTestId('outcome').waitFor();
    assert.equal(await page.getByTestId('outcome').textContent(), 'Denied');
    assert.deepEqual(await page.getByTestId('reason-code').allTextContents(), ['unsigned']);
    assert.equal(await page.getByTestId('explained-image').textContent(), `${name()}@${image.manifestDigest}`);

    // A hostile name (as a registry could hold one) in the overview's answer: shown as text, never markup.
    await page.route('**/admin/v1/overview', async (route) => {
      const answer = (await (await route.fetch()).json()) as { decisions: { mostDenied: unknown[] } };
      answer.decisions.mostDenied.unshift({ name: XSS, reason: XSS, count: 9 });
      await route.fulfill({ json: answer });
    });
    await page.getByRole('link', { name: 'Overview' }).click();
    const hostile = page.getByTestId('most-denied-row').first();
    await hostile.waitFor();
    assert.equal(await hostile.getByRole('link').textContent(), XSS);
    assert.equal(await page.locator('main img').count(), 0);
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('break glass opened in the console › in the audit log; filter by action narrows it; axe; export JSON', async () => {
    const { context, page, problems } = await openConsole();
    await signIn(page);
    await page.getByRole('link', { name: 'Break glass' }).click();
    await page.getByLabel('Image', { exact: true }).fill(`${name()}@${image.manifestDigest}`);
    await page.getByLabel('Reason').fill('INC-4242: audit me');
    await page.getByRole('button', { name: 'Open break glass' }).click();
    await page.getByTestId('breakglass-row').waitFor();
    // Another action in the log, so the filter has something to leave out.
    await page.getByRole('button', { name: /^End bg-/ }).click();
    await page.getByRole('button', { name: 'Confirm end' }).click();
    await page.getByText('No active break-glass entries.').waitFor();

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByTestId('audit-row').first().waitFor();
    const all = await page.getByTestId('audit-action').allTextContents();
    assert.ok(all.includes('breakglass.add') && all.includes('breakglass.end'), all.join(', '));
    const added = page.getByTestId('audit-row').filter({ hasText: 'breakglass.add' });
    assert.match((await added.textContent()) ?? '', /oidc-olga/);
    await page.getByLabel('Action').fill('breakglass.add');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=breakglass.add/);
    await page.getByTestId('audit-row').first().waitFor();
    // Polled from here: the page's CSP (no 'unsafe-eval') refuses waitForFunction's string evaluation.
    for (let i = 0; i < 50; i++) {
      const shown = await page.getByTestId('audit-action').allTextContents();
      if (shown.length > 0 && shown.every((a) => a === 'breakglass.add')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const filtered = await page.getByTestId('audit-action').allTextContents();
    assert.ok(filtered.length >= 1 && filtered.length < all.length, `${filtered.length} of ${all.length}`);
    assert.deepEqual(await axeProblems(page), []);
    await shot(page, 'audit.png');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    assert.match(download.suggestedFilename(), /^trustgate-audit-.*\.json$/);
    assert.match(download.url(), /^blob:/, 'a Blob URL: no token in any URL');
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as
      { entries?: { action: string }[] } | { action: string }[];
    const rows = Array.isArray(exported) ? exported : (exported.entries ?? []);
    assert.ok(rows.length >= 1 && rows.every((e) => e.action === 'breakglass.add'), JSON.stringify(exported).slice(0, 300));
    assert.deepEqual(problems, []);
    await context.close();
  });
});
