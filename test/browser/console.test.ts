import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONSOLE_CSP } from '../../src/console/index.ts';
import { buildImage, push, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { axeProblems, ensureConsoleBuilt, launchChromium } from './browser.ts';

// The security console (docs/console.md) in real headless Chromium, against a running trustgate
// with Redis and the distribution registry holding one unsigned image.
const prefix = testPrefix('console');
const work = mkdtempSync(join(tmpdir(), 'tg-console-'));
const SHOTS = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'console') : undefined;
const XSS = '<img src=x onerror=window.__pwned=1>';

let registry: RunningRegistry;
let tokens: AdminTokens;
let proxy: RunningProxy;
let image: BuiltImage;
let browser: Browser;
const started = performance.now();

const name = (): string => `${registry.host}/prod/app`;
const pullStatus = async (): Promise<number> => {
  const res = await fetch(`${proxy.url}/v2/prod/app/manifests/v1`, { headers: { accept: image.mediaType } });
  await res.arrayBuffer();
  return res.status;
};
const adminCall = async (method: string, path: string, roles: string[] | undefined, body?: unknown): Promise<Response> =>
  fetch(`${proxy.url}/admin/v1${path}`, {
    method,
    headers: {
      ...(roles === undefined ? {} : { authorization: `Bearer ${await tokens.mint('sec-team', roles)}` }),
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** A fresh tab (its own sessionStorage) that records CSP violations and page errors. */
async function openConsole(path = '/admin/ui/'): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${proxy.url}${path}`);
  return { context, page, problems };
}

async function signIn(page: Page, subject: string, roles: string[]): Promise<void> {
  await page.getByLabel('Admin token').fill(await tokens.mint(subject, roles, { expiresIn: '1h' }));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
}

async function shot(page: Page, file: string): Promise<void> {
  if (SHOTS === undefined) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, file), fullPage: true });
}

async function assertAccessible(page: Page): Promise<void> {
  assert.deepEqual(await axeProblems(page), []);
}

before(async () => {
  await ensureConsoleBuilt();
  [registry, tokens, browser] = await Promise.all([startRegistry(), adminTokens(work), launchChromium()]);
  image = await buildImage(join(work, 'img'), { seed: 'console' });
  assert.equal((await push(image.layoutDir, `docker://${registry.host}/prod/app:v1`)).code, 0);
  proxy = await startProxy(
    `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}" }\n${tokens.configYaml}upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }\n`,
    { redisPrefix: prefix, policy: `version: 1\nrules:\n  - { name: prod, images: ["${registry.host}/prod/**"] }\n` },
  );
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
  console.error(`test/browser/console.test.ts: ${Math.round(performance.now() - started)} ms in all`);
});

describe('the security console at /admin/ui/', () => {
  it('is served with the CSP, no referrer and nosniff; index.html is never cached, hashed assets are immutable', async () => {
    const index = await fetch(`${proxy.url}/admin/ui/`);
    const html = await index.text();
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.equal(
      index.headers.get('content-security-policy'),
      "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.match(index.headers.get('cache-control') ?? '', /no-cache/);
    assert.doesNotMatch(html, /<script>|<style|style=/, 'no inline script or style');
    const asset = /src="(\/admin\/ui\/assets\/console-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, html);
    const js = await fetch(`${proxy.url}${asset}`);
    await js.arrayBuffer();
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.equal(js.headers.get('referrer-policy'), 'no-referrer');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/);
    const route = await fetch(`${proxy.url}/admin/ui/breakglass?image=x`);
    assert.equal(await route.text(), html, 'an app route answers index.html');
    const missing = await fetch(`${proxy.url}/admin/ui/assets/console-NOPE.js`);
    await missing.arrayBuffer();
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-security-policy'), CONSOLE_CSP);
  });

  it('the admin API takes no request without a bearer token: 401', async () => {
    assert.equal((await adminCall('GET', '/breakglass', undefined)).status, 401);
    assert.equal((await adminCall('POST', '/breakglass', undefined, { image: `${name()}:*`, reason: 'x', expires: 'x' })).status, 401);
  });

  it('sign in with a pasted token › who, with which roles, until when; explain an unsigned image › denied, unsigned', async () => {
    const { context, page, problems } = await openConsole();
    await assertAccessible(page);
    await shot(page, 'sign-in.png');
    await signIn(page, 'alice', ['key-manager']);
    assert.equal(await page.getByTestId('who-subject').textContent(), 'alice');
    assert.equal(await page.getByTestId('who-roles').textContent(), 'key-manager');
    assert.match(
      (await page.getByRole('region', { name: 'Signed in as' }).textContent()) ?? '',
      /Token expires \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(in (59 min|1 h)\)/,
    );
    await page.getByRole('link', { name: 'Explain' }).click(); // the landing page is the Overview
    await page.getByRole('heading', { name: 'Explain', level: 1 }).waitFor();
    await page.waitForLoadState('networkidle');
    await page.getByLabel('Image reference').fill(`${name()}:v1`);
    await page.getByLabel('Image reference').press('Enter');
    await page.getByTestId('outcome').waitFor();
    assert.equal(await page.getByTestId('outcome').textContent(), 'Denied');
    assert.deepEqual(await page.getByTestId('reason-code').allTextContents(), ['unsigned']);
    assert.equal(await page.getByTestId('scan-state').textContent(), 'unscanned');
    assert.match(page.url(), /\/admin\/ui\/explain\?image=/);
    assert.equal(await page.evaluate('document.cookie'), '', 'no cookie is ever set');
    await assertAccessible(page);
    await shot(page, 'explain.png');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('open break glass from the explain page › listed, the pull is served; end it with confirmation › refused again', async () => {
    assert.equal(await pullStatus(), 403);
    const { context, page, problems } = await openConsole(`/admin/ui/explain?image=${encodeURIComponent(`${name()}:v1`)}`);
    await signIn(page, 'alice', ['key-manager']);
    await page.getByRole('link', { name: 'Open break glass for this digest' }).click();
    await page.getByRole('heading', { name: 'Open break glass' }).waitFor();
    assert.equal(await page.getByLabel('Image', { exact: true }).inputValue(), `${name()}@${image.manifestDigest}`);
    // The form's own checks first: a reason is required, and at most 7 days ahead.
    await page.getByLabel('Expires (your local time)').fill(new Date(Date.now() + 8 * 86_400_000).toISOString().slice(0, 16));
    await page.getByRole('button', { name: 'Open break glass' }).click();
    assert.ok(await page.getByText('Say why the policy is bypassed').isVisible());
    assert.ok(await page.getByText('The expiry must be at most 7 days ahead.').isVisible());
    assert.equal(await page.getByLabel('Reason').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('Expires (your local time)').fill(new Date(Date.now() + 2 * 3_600_000).toISOString().slice(0, 16));
    await page.getByLabel('Reason').fill('INC-1234: hotfix while signing is down');
    await page.getByRole('button', { name: 'Open break glass' }).click();
    const row = page.getByTestId('breakglass-row');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /INC-1234: hotfix while signing is down/);
    assert.equal(await pullStatus(), 200);
    await assertAccessible(page);
    await shot(page, 'break-glass.png');
    await row.getByRole('button', { name: /^End bg-/ }).click();
    await shot(page, 'break-glass-end.png');
    await page.getByRole('button', { name: 'Confirm end' }).click();
    await page.getByText('No active break-glass entries.').waitFor();
    assert.equal(await pullStatus(), 403);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('as an auditor › entries listed, no open or end offered; the API refuses the auditor a POST: 403', async () => {
    const opened = await adminCall('POST', '/breakglass', ['key-manager'], {
      image: `${name()}@${image.manifestDigest}`,
      reason: 'INC-77: rollback',
      expires: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(opened.status, 201, await opened.clone().text());
    const { context, page, problems } = await openConsole('/admin/ui/breakglass');
    await signIn(page, 'audrey', ['auditor']);
    await page.getByTestId('breakglass-row').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Open break glass' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^End/ }).count(), 0);
    assert.ok(await page.getByText('Your role may list break-glass entries but not open or end them').isVisible());
    await assertAccessible(page);
    await shot(page, 'break-glass-auditor.png');
    await page.getByRole('link', { name: 'Explain' }).click();
    await page.getByLabel('Image reference').fill(`${name()}:v1`);
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByTestId('outcome').waitFor();
    assert.equal(await page.getByTestId('outcome').textContent(), 'Allowed', 'break glass overrides the denial');
    assert.equal(await page.getByRole('link', { name: 'Open break glass for this digest' }).count(), 0);
    assert.ok(await page.getByRole('heading', { name: 'Denial overridden by break glass' }).isVisible());
    await assertAccessible(page);
    const refused = await adminCall('POST', '/breakglass', ['auditor'], {
      image: `${name()}@${image.manifestDigest}`,
      reason: 'auditors may not',
      expires: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(refused.status, 403);
    const id = ((await opened.json()) as { id: string }).id;
    assert.equal((await adminCall('DELETE', `/breakglass/${id}`, ['key-manager'])).status, 200);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('outside text is rendered as text, never HTML: an image name and a reason holding markup', async () => {
    const opened = await adminCall('POST', '/breakglass', ['key-manager'], {
      image: `${name()}/**`,
      reason: `evil ${XSS}`,
      expires: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(opened.status, 201, await opened.clone().text());
    const { context, page, problems } = await openConsole(`/admin/ui/explain?image=${encodeURIComponent(`${name()}${XSS}`)}`);
    await signIn(page, 'alice', ['key-manager']);
    await page.getByTestId('explained-image').waitFor();
    assert.equal(await page.getByTestId('explained-image').textContent(), `${name()}${XSS}`);
    assert.ok(await page.getByRole('alert').isVisible(), 'trustgate refuses the reference; the console says so');
    await page.getByRole('link', { name: 'Break glass' }).click();
    await page.getByText(`evil ${XSS}`).waitFor();
    assert.equal(await page.locator('img').count(), 0, 'no <img> element was made');
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
    const id = ((await opened.json()) as { id: string }).id;
    assert.equal((await adminCall('DELETE', `/breakglass/${id}`, ['key-manager'])).status, 200);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('works from the keyboard alone: sign in, skip link, nav, explain', async () => {
    const { context, page, problems } = await openConsole();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'token');
    await page.keyboard.insertText(await tokens.mint('kim', ['auditor'], { expiresIn: '1h' }));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
    const seen: string[] = [];
    for (let i = 0; i < 6 && !seen.includes('Break glass'); i++) {
      await page.keyboard.press('Tab');
      seen.push(String(await page.evaluate('document.activeElement.textContent')));
    }
    assert.ok(seen.includes('Break glass'), `tabbed through ${seen.join(' | ')}`);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Break glass', level: 1 }).waitFor();
    assert.match(page.url(), /\/admin\/ui\/breakglass$/);
    await page.goBack(); // the home page: the Overview
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    // The route change moves focus to <main> in an effect Preact runs after paint: let it run first,
    // or it takes the focus back from the link below (this raced under the full suite's load).
    await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0))))');
    await page.getByRole('link', { name: 'Explain', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Explain', level: 1 }).waitFor();
    await page.waitForLoadState('networkidle');
    await page.getByLabel('Image reference').focus();
    await page.keyboard.insertText(`${name()}:v1`);
    await page.keyboard.press('Enter');
    await page.getByTestId('outcome').waitFor();
    assert.equal(await page.getByTestId('outcome').textContent(), 'Denied');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('a refused token signs the console out, back to sign-in with the reason', async () => {
    const { context, page } = await openConsole('/admin/ui/breakglass');
    const foreign = await tokens.mint('mallory', ['admin'], { audience: 'someone-else', expiresIn: '1h' });
    await page.getByLabel('Admin token').fill(foreign);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in to the trustgate console' }).waitFor();
    assert.match((await page.getByRole('status').textContent()) ?? '', /trustgate refused the token/);
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    await context.close();
  });
});
