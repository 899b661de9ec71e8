import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildImage, cosignSignImage, push, startRegistry, trivyReport, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { ec, privatePems, spki } from '../admin/key-material.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { axeProblems, ensureConsoleBuilt, launchChromium } from './browser.ts';

// The console's Keys and roots, Policy and Scans pages (docs/console.md) in headless Chromium,
// against a running trustgate with Redis and the distribution registry holding one image.
const prefix = testPrefix('console-kp');
const work = mkdtempSync(join(tmpdir(), 'tg-console-kp-'));
const SHOTS = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'console') : undefined;
const XSS = '<img src=x onerror=window.__pwned=1>';
const signer = ec('P-256');

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
/** Polls the pull until it answers `want` (key changes reach the gate within a second). */
async function pullBecomes(want: number): Promise<void> {
  const until = Date.now() + 3_000;
  let seen = await pullStatus();
  while (seen !== want && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await pullStatus();
  }
  assert.equal(seen, want);
}
const adminCall = async (method: string, path: string, roles: string[], body?: string | Buffer, type = 'application/json') =>
  fetch(`${proxy.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await tokens.mint('sec-team', roles)}`, 'content-type': type },
    ...(body === undefined ? {} : { body }),
  });

async function openConsole(
  path: string,
  subject: string,
  roles: string[],
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${proxy.url}${path}`);
  await page.getByLabel('Admin token').fill(await tokens.mint(subject, roles, { expiresIn: '1h' }));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
  return { context, page, problems };
}

async function shot(page: Page, file: string): Promise<void> {
  if (SHOTS === undefined) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, file), fullPage: true });
}

async function noMarkup(page: Page): Promise<void> {
  assert.equal(await page.locator('main img').count(), 0, 'no <img> element was made');
  assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
}

before(async () => {
  await ensureConsoleBuilt();
  [registry, tokens, browser] = await Promise.all([startRegistry(), adminTokens(work), launchChromium()]);
  image = await buildImage(join(work, 'img'), { seed: 'console-keys-policy' });
  assert.equal((await push(image.layoutDir, `docker://${registry.host}/prod/app:v1`)).code, 0);
  await cosignSignImage(registry.url, 'prod/app', image.manifestDigest, name(), signer.privateKey);
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
  console.error(`test/browser/console-keys-policy.test.ts: ${Math.round(performance.now() - started)} ms in all`);
});

describe('the console: keys and roots, policy, scans', () => {
  it('keys: a pasted private key is refused in the browser, and no request is sent', async () => {
    const { context, page, problems } = await openConsole('/admin/ui/keys', 'kim', ['key-manager']);
    await page.getByRole('heading', { name: 'Add a key or root' }).waitFor();
    let sent = 0;
    page.on('request', (r) => {
      if (r.url().includes('/admin/v1/')) sent += 1;
    });
    for (const { label, pem } of privatePems().slice(0, 2)) {
      await page.getByLabel('Key ID').fill('leak');
      await page.getByLabel('Public key or certificate (PEM)').fill(pem);
      await page.getByLabel('Scopes (one image pattern a line)').fill(`${name()}`);
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      assert.match((await page.getByTestId('add-problem').textContent()) ?? '', /The PEM holds a private key.*Nothing was sent/, label);
    }
    // A JWK with "d", pasted in the PEM box, is refused the same way.
    await page.getByLabel('Public key or certificate (PEM)').fill(JSON.stringify(ec('P-256').privateKey.export({ format: 'jwk' })));
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    assert.match((await page.getByTestId('add-problem').textContent()) ?? '', /holds a private key/);
    assert.equal(sent, 0, 'no admin API request was made');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('keys: add a key by pasting its PEM › the signed image is served; revoke it typing its id › denied, key_revoked', async () => {
    assert.equal(await pullStatus(), 403, 'signed by a key trustgate does not hold yet');
    const { context, page, problems } = await openConsole('/admin/ui/keys', 'kim', ['key-manager']);
    await page.getByText('No keys or roots yet.').waitFor();
    await page.getByLabel('Key ID').fill('release');
    await page.getByLabel('Public key or certificate (PEM)').fill(spki(signer.publicKey));
    await page.getByLabel('Scopes (one image pattern a line)').fill(`${registry.host}/prod/**`);
    await page
      .getByLabel('Valid until (optional, your local time)')
      .fill(new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 16));
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Added release.' }).waitFor();
    const row = page.getByTestId('key-row');
    assert.equal(await row.getByTestId('key-id').textContent(), 'release');
    assert.equal(await row.getByTestId('key-status').textContent(), 'active');
    assert.equal(await page.locator('.timeline .bar').count(), 1);
    await pullBecomes(200);
    assert.deepEqual(await axeProblems(page), []);
    await shot(page, 'keys.png');

    // Revoke: the button does nothing until a reason is given and the id typed exactly.
    await page.getByRole('button', { name: 'Revoke release' }).click();
    const confirm = page.getByRole('button', { name: 'Revoke for good' });
    await page.getByLabel('Reason (in the audit log)').fill(`leaked ${XSS}`);
    await page.getByLabel('Type release to confirm').fill('releas');
    assert.equal(await confirm.isDisabled(), true);
    await page.getByLabel('Type release to confirm').fill('release');
    await confirm.click();
    await page.getByRole('status').filter({ hasText: 'Revoked release' }).waitFor();
    // The list is read again after the revoke: wait for the row to show it (the status line may come first).
    await row
      .getByTestId('key-status')
      .filter({ hasText: /^revoked$/ })
      .waitFor();
    assert.equal(await row.getByTestId('key-status').textContent(), 'revoked');
    assert.equal(await row.getByTestId('key-reason').textContent(), `leaked ${XSS}`, 'the reason is shown as text');
    await noMarkup(page);
    await pullBecomes(403);

    await page.getByRole('link', { name: 'Explain' }).click();
    await page.getByLabel('Image reference').fill(`${name()}:v1`);
    await page.getByLabel('Image reference').press('Enter');
    await page.getByTestId('outcome').waitFor();
    assert.equal(await page.getByTestId('outcome').textContent(), 'Denied');
    assert.deepEqual(await page.getByTestId('reason-code').allTextContents(), ['key_revoked']);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('policy: an error is listed with its line (a click puts the caret there); a valid one is reviewed, applied and active; rollback', async () => {
    const { context, page, problems } = await openConsole('/admin/ui/policy', 'kim', ['key-manager']);
    const hashOf = async (): Promise<string> => ((await (await adminCall('GET', '/policy', ['auditor'])).json()) as { hash: string }).hash;
    const before = await hashOf();
    await page.getByTestId('policy-hash').filter({ hasText: before }).waitFor();
    const editor = page.getByLabel('Policy YAML');
    assert.match(await editor.inputValue(), /name: prod/);

    const broken = `version: 1\nrules:\n  - name: prod\n    images: ["${registry.host}/prod/**"]\n    signatures: { threshold: zero }\n`;
    await editor.fill(broken);
    await page.getByRole('button', { name: 'Validate' }).click();
    const error = page.getByTestId('policy-errors').getByRole('button').first();
    await error.waitFor();
    const line = Number(/^Line (\d+):/.exec((await error.textContent()) ?? '')?.[1]);
    assert.equal(line, 5, (await error.textContent()) ?? '');
    await error.click();
    assert.equal(
      await editor.evaluate((e) => (e as unknown as { selectionStart: number }).selectionStart),
      broken.split('\n').slice(0, 4).join('\n').length + 1,
    );
    assert.equal(await page.evaluate('document.activeElement.id'), 'policy-text');
    // Apply refuses it too, with the same lined error; the active policy is unchanged.
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('button', { name: 'Apply this policy' }).click();
    await page.getByTestId('policy-errors').waitFor();
    assert.match((await page.getByTestId('policy-errors').textContent()) ?? '', /Line 5:/);
    assert.equal(await hashOf(), before);

    const valid = `version: 1\nrules:\n  - name: prod-v2\n    images: ["${registry.host}/prod/**"]\n`;
    await editor.fill(valid);
    await page.getByRole('button', { name: 'Validate' }).click();
    const validated = /hash (\S+)\.$/.exec((await page.getByTestId('policy-valid').textContent()) ?? '')?.[1];
    assert.ok(validated);
    await page.getByRole('button', { name: 'Review changes' }).click();
    const diff = (await page.getByTestId('policy-diff').locator('span').allTextContents()).filter((l) => !l.startsWith(' '));
    assert.ok(diff.includes('+   - name: prod-v2'), diff.join('\n'));
    assert.ok(
      diff.some((l) => l.startsWith('-   - { name: prod')),
      diff.join('\n'),
    );
    assert.deepEqual(await axeProblems(page), []);
    await shot(page, 'policy.png');
    await page.getByRole('button', { name: 'Apply this policy' }).click();
    await page.getByRole('status').filter({ hasText: 'Applied version 1' }).waitFor();
    assert.equal(await hashOf(), validated, 'GET /policy answers the applied hash');
    // The page reads the policy and its history again after applying: wait for them (the status line may come first).
    await page.getByTestId('policy-hash').filter({ hasText: validated }).waitFor();
    assert.equal(await page.getByTestId('policy-hash').textContent(), validated);
    await page.getByTestId('policy-version').first().waitFor();
    assert.equal(await page.getByTestId('policy-version').count(), 1);

    // A second version through the API; rolled back from the page to the first.
    const v2 = await adminCall('PUT', '/policy', ['key-manager'], valid.replace('prod-v2', 'prod-v3'), 'application/yaml');
    assert.equal(v2.status, 200, await v2.clone().text());
    await page.reload();
    await page.getByTestId('policy-version').nth(1).waitFor();
    await page.getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('button', { name: 'Confirm rollback' }).click();
    await page.getByRole('status').filter({ hasText: 'Rolled back from version 2 to version 1' }).waitFor();
    assert.equal(await hashOf(), validated);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('policy and keys as an auditor: read and validate, no add, revoke, rotate, apply or rollback offered', async () => {
    const { context, page, problems } = await openConsole('/admin/ui/keys', 'audrey', ['auditor']);
    await page.getByTestId('key-row').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Add a key or root' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^(Revoke|Rotate)/ }).count(), 0);
    await page.getByRole('link', { name: 'Policy' }).click();
    await page.getByTestId('policy-hash').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Review changes' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Roll back' }).count(), 0);
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.getByTestId('policy-valid').waitFor();
    assert.equal((await adminCall('PUT', '/policy', ['auditor'], 'version: 1\nrules: []\n', 'application/yaml')).status, 403);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('scans: the queue, and a record whose Trivy text holds markup, shown as text', async () => {
    const posted = await adminCall(
      'POST',
      `/scans?image=${encodeURIComponent(`${name()}@${image.manifestDigest}`)}`,
      ['scanner'],
      trivyReport({
        name: name(),
        digest: image.manifestDigest,
        createdAt: new Date(),
        vulnerabilities: [{ id: `CVE-2024-0001 ${XSS}`, severity: 'HIGH', pkg: `openssl ${XSS}` }],
      }),
    );
    assert.equal(posted.status, 201, await posted.clone().text());
    const { context, page, problems } = await openConsole('/admin/ui/scans', 'audrey', ['auditor']);
    await page.getByRole('heading', { name: 'Queue' }).waitFor();
    await page.getByLabel('Manifest digest').fill('not-a-digest');
    await page.getByRole('button', { name: 'Show scan' }).click();
    assert.ok(await page.getByText('A manifest digest: sha256:').isVisible());
    await page.getByLabel('Manifest digest').fill(image.manifestDigest);
    await page.getByRole('button', { name: 'Show scan' }).click();
    const row = page.getByTestId('finding-row');
    await row.waitFor();
    assert.match(page.url(), /\/admin\/ui\/scans\?digest=sha256%3A/);
    assert.deepEqual(await row.locator('td').allTextContents(), [`CVE-2024-0001 ${XSS}`, 'HIGH', `openssl ${XSS}`, '3.1.0-r0', '3.1.1-r0']);
    assert.match((await page.getByTestId('scan-counts').textContent()) ?? '', /HIGH 1/);
    await noMarkup(page);
    assert.deepEqual(await axeProblems(page), []);
    await shot(page, 'scans.png');
    // A digest without a record says so (404 with its state).
    await page.goto(`${proxy.url}/admin/ui/scans?digest=sha256:${'0'.repeat(64)}`);
    assert.match((await page.getByTestId('scan-state').textContent()) ?? '', /No scan record: unscanned/);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
