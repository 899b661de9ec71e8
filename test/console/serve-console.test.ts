import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { CONSOLE_CSP } from '../../src/console/index.ts';
import { createApp } from '../../src/runtime/app.ts';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';

// Serving the console bundle (src/console/): headers on every /admin/ui answer, the SPA fallback,
// caching, and only beside the admin API. A bundle written here stands in for dist/admin-ui/.
const dir = mkdtempSync(join(tmpdir(), 'tg-console-serve-'));
const INDEX = '<!doctype html><title>console</title><script type="module" src="/admin/ui/assets/console-ABC.js"></script>';
let withAdmin: AdminApp;
let withoutAdmin: Harness;
let app: ReturnType<typeof createApp>;

before(async () => {
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'console-ABC.js'), 'export {};\n');
  writeFileSync(join(dir, 'assets', '.hidden'), 'no');
  withAdmin = await adminApp(singleUpstream('http://127.0.0.1:9'));
  withoutAdmin = await appFor(singleUpstream('http://127.0.0.1:9'));
  app = createApp({ ...withAdmin.runtime.deps, consoleDir: dir });
});
after(async () => {
  await withAdmin?.close();
  await withoutAdmin?.close();
  rmSync(dir, { recursive: true, force: true });
});

const securityHeaders = (res: request.Response): void => {
  assert.equal(res.headers['content-security-policy'], CONSOLE_CSP);
  assert.equal(res.headers['referrer-policy'], 'no-referrer');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
};

describe('the console at /admin/ui', () => {
  it('index.html at /admin/ui/ and at every app route under it, never cached, with the security headers', async () => {
    for (const path of ['/admin/ui/', '/admin/ui/explain?image=a%2Fb%3Av1', '/admin/ui/breakglass/']) {
      const res = await request(app).get(path).expect(200);
      securityHeaders(res);
      assert.match(res.headers['content-type'] ?? '', /^text\/html/);
      assert.equal(res.headers['cache-control'], 'no-cache, no-store');
      assert.equal(res.text, INDEX);
    }
  });

  it('/admin/ui redirects to /admin/ui/', async () => {
    const res = await request(app).get('/admin/ui').expect(301);
    assert.equal(res.headers['location'], '/admin/ui/');
    securityHeaders(res);
  });

  it('hashed assets are immutable for a year; a missing or hidden one is 404, headers still on', async () => {
    const res = await request(app).get('/admin/ui/assets/console-ABC.js').expect(200);
    securityHeaders(res);
    assert.match(res.headers['content-type'] ?? '', /javascript/);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    for (const path of ['/admin/ui/assets/console-NOPE.js', '/admin/ui/assets/.hidden', '/admin/ui/assets/%2e%2e/index.html']) {
      const missing = await request(app).get(path);
      assert.equal(missing.status, 404, path);
      securityHeaders(missing);
    }
  });

  it('GET and HEAD only', async () => {
    await request(app).head('/admin/ui/').expect(200);
    const res = await request(app).post('/admin/ui/').send('x').expect(405);
    securityHeaders(res);
  });

  it('a missing bundle is a 404 that says to build it', async () => {
    const bare = createApp({ ...withAdmin.runtime.deps, consoleDir: join(dir, 'nothing') });
    const res = await request(bare).get('/admin/ui/').expect(404);
    assert.match(res.text, /npm run build/);
  });

  it('without the admin API there is no console', async () => {
    const res = await request(createApp({ ...withoutAdmin.runtime.deps, consoleDir: dir }))
      .get('/admin/ui/')
      .expect(404);
    assert.equal(res.headers['content-security-policy'], undefined);
  });
});
