import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HealthProvider, HealthReport } from '../../src/health/report.ts';
import type { Logger } from '../../src/log/logger.ts';
import { createFront, type Front } from '../../src/server/front.ts';
import { routeTemplate } from '../../src/server/route-template.ts';

const REPORT: HealthReport = {
  redis: 'down',
  upstreams: { hub: 'up' },
  trust: { version: 3, entries: 2 },
  policy: { hash: 'abc', rules: 4 },
};
const health: HealthProvider = { report: async () => REPORT, redis: async () => REPORT.redis };

const lines: Record<string, unknown>[] = [];
const record = (level: string) => (obj: object) => void lines.push({ level, ...obj });
const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };

let front: Front;
let server: Server;
let url: string;

before(async () => {
  front = createFront(logger);
  server = createServer((req, res) => front.handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(`${url}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe('the front handler', () => {
  it('starting › /healthz 200, /readyz 503 starting, anything else 503 UNAVAILABLE', async () => {
    assert.deepEqual(JSON.parse((await get('/healthz')).body), { status: 'ok' });
    const readyz = await get('/readyz');
    assert.equal(readyz.status, 503);
    assert.equal(readyz.headers.get('cache-control'), 'no-store');
    assert.deepEqual(JSON.parse(readyz.body), { status: 'starting' });
    const pull = await get('/v2/library/nginx/manifests/latest');
    assert.equal(pull.status, 503);
    assert.equal((JSON.parse(pull.body) as { errors: { code: string }[] }).errors[0]!.code, 'UNAVAILABLE');
  });

  it('ready › the app answers, /readyz 200 with the health report even with Redis down', async () => {
    front.ready((_req, res) => void res.writeHead(418).end('app'), health);
    assert.equal((await get('/v2/')).status, 418);
    const readyz = await get('/readyz');
    assert.equal(readyz.status, 200);
    assert.deepEqual(JSON.parse(readyz.body), { status: 'ready', ...REPORT });
  });

  it('logs one access line per request at debug: route template, status, ms, request id; no name, no headers', async () => {
    lines.length = 0;
    await get('/v2/team/secret-app/manifests/v1.2?ns=docker.io', { 'x-request-id': 'acc-1', authorization: 'Bearer tok', cookie: 'c=1' });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line!['level'], 'debug');
    assert.equal(line!['event'], 'access');
    assert.equal(line!['method'], 'GET');
    assert.equal(line!['route'], '/v2/<name>/manifests/<ref>');
    assert.equal(line!['status'], 418);
    assert.equal(line!['requestId'], 'acc-1');
    assert.equal(typeof line!['ms'], 'number');
    assert.doesNotMatch(JSON.stringify(lines), /secret-app|v1\.2|docker\.io|tok|c=1/);
  });

  it('stopping › /readyz 503 stopping, answers close their connection, the app still serves', async () => {
    front.stop();
    front.ready((_req, res) => void res.writeHead(200).end('late'), health); // ignored once stopping
    const readyz = await get('/readyz');
    assert.equal(readyz.status, 503);
    assert.deepEqual(JSON.parse(readyz.body), { status: 'stopping' });
    assert.equal(readyz.headers.get('connection'), 'close');
    const pull = await get('/v2/');
    assert.equal(pull.status, 418);
    assert.equal(pull.headers.get('connection'), 'close');
  });
});

describe('route templates', () => {
  it('never carry a name, reference or digest', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    const cases: [string, string][] = [
      ['/v2/', '/v2/'],
      ['/v2', '/v2/'],
      ['/v2/a/b/manifests/v1?ns=docker.io', '/v2/<name>/manifests/<ref>'],
      [`/v2/a/blobs/${d}`, '/v2/<name>/blobs/<digest>'],
      [`/v2/a/referrers/${d}?artifactType=x`, '/v2/<name>/referrers/<digest>'],
      ['/v2/a/b/tags/list?n=10', '/v2/<name>/tags/list'],
      ['/v2/a/blobs/uploads/123', '/v2/<name>/blobs/uploads/'],
      ['/v2/_catalog', '/v2/_catalog'],
      ['/healthz', '/healthz'],
      ['/readyz?x', '/readyz'],
      ['/metrics', '/metrics'],
      ['/admin/v1/scans?image=x', '/admin/v1/scans'],
      ['/admin/v1/scans/queue', '/admin/v1/scans/queue'],
      [`/admin/v1/scans/${d}`, '/admin/v1/scans/<digest>'],
      ['/admin/v2/whatever', '/admin/<other>'],
      ['/etc/passwd', '<other>'],
    ];
    for (const [path, template] of cases) assert.equal(routeTemplate(path), template, path);
  });
});
