import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../kit/free-port.ts';
import { spawnProxy, type ChildProxy } from '../support/child-proxy.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.ts';

// One trustgate process over a Redis this test owns (never the shared one on 6379), taken through
// its life in order: starting while Redis hangs, ready, Redis gone and back, an upstream down.

interface Probe {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function probe(url: string): Promise<Probe> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls /readyz until `done` holds, asserting every answer on the way with `each`. */
async function until(url: string, done: (p: Probe) => boolean, each: (p: Probe) => void = () => {}, timeoutMs = 15_000): Promise<Probe> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await probe(url);
    each(p);
    if (done(p)) return p;
    assert.ok(Date.now() < deadline, `/readyz never got there; last: ${p.status} ${JSON.stringify(p.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let redis: OwnRedis;
let live: FakeUpstream;
let proxy: ChildProxy;
let url: string;

before(async () => {
  redis = await startOwnRedis();
  live = await startFakeUpstream();
  live.on('/v2/', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  const dead = await freePort(); // nothing listens there
  redis.pause(); // a hung Redis: trustgate cannot load the trust store until it answers
  proxy = spawnProxy(
    `listen: { address: "127.0.0.1:0", plainHttp: true }
redis: { url: "redis://127.0.0.1:${redis.port}" }
upstreams:
  - { name: live, url: "${live.url}", repositories: ["${live.host}/**"], retries: 0 }
  - { name: dead, url: "http://127.0.0.1:${dead}", repositories: ["127.0.0.1:${dead}/**"], retries: 0, timeouts: { connectMs: 500, headersMs: 500, bodyIdleMs: 500 } }`,
  );
  url = await proxy.url();
});

after(async () => {
  redis.resume();
  await proxy.kill();
  await redis.stop();
  await live.close();
});

describe('/healthz and /readyz of a trustgate process', () => {
  it('before the trust store has loaded › /readyz 503 starting, /healthz 200, pulls 503 UNAVAILABLE', async () => {
    const readyz = await probe(url);
    assert.equal(readyz.status, 503);
    assert.deepEqual(readyz.body, { status: 'starting' });
    const healthz = await fetch(`${url}/healthz`);
    assert.equal(healthz.status, 200);
    assert.deepEqual(await healthz.json(), { status: 'ok' });
    const pull = await fetch(`${url}/v2/live/app/manifests/v1`);
    assert.equal(pull.status, 503);
    assert.equal(pull.headers.get('retry-after'), '1');
    assert.match(pull.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(((await pull.json()) as { errors: { code: string }[] }).errors[0]!.code, 'UNAVAILABLE');
    assert.doesNotMatch(proxy.out(), /"event":"started"/);
  });

  it('once Redis answers › 200 ready, with the health report', async () => {
    redis.resume();
    const ready = await until(
      url,
      (p) => p.status === 200,
      (p) => assert.ok(p.status === 503 || p.status === 200),
    );
    const body = ready.body as {
      status: string;
      redis: string;
      upstreams: unknown;
      trust: { version: number; entries: number };
      policy: { hash: string; rules: number };
    };
    assert.equal(body.status, 'ready');
    assert.equal(body.redis, 'up');
    assert.deepEqual(body.upstreams, { live: 'unknown', dead: 'unknown' });
    assert.equal(typeof body.trust.version, 'number');
    assert.equal(body.trust.entries, 0);
    assert.match(body.policy.hash, /^[0-9a-f]{16,64}$/);
    assert.equal(body.policy.rules, 1);
    await proxy.waitFor(/"event":"started"/);
  });

  it('Redis stopped › /readyz stays 200 and says redis "down"; restarted › "up" again', async () => {
    await redis.kill();
    await until(
      url,
      (p) => p.body['redis'] === 'down',
      (p) => assert.equal(p.status, 200),
    );
    await redis.start();
    await until(
      url,
      (p) => p.body['redis'] === 'up',
      (p) => assert.equal(p.status, 200),
    );
  });

  it('an unreachable upstream › "down" after a pull fails, while /readyz stays 200; a live one "up"', async () => {
    const failed = await fetch(`${url}/v2/dead/app/manifests/v1`);
    assert.equal(failed.status, 502);
    await fetch(`${url}/v2/live/app/tags/list`);
    const p = await probe(url);
    assert.equal(p.status, 200);
    assert.deepEqual(p.body['upstreams'], { live: 'up', dead: 'down' });
  });
});
