import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { checkExpiring } from '../../src/notify/checks.ts';
import { randomId } from '../../src/notify/event.ts';
import { createNotifier, type Notifier } from '../../src/notify/notifier.ts';
import { createRedisQueue } from '../../src/notify/redis-queue.ts';
import type { TrustEntry, TrustSnapshot } from '../../src/trust/types.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { endpointConfig, notificationsConfig, recordingLogger, startReceiver, until, type Receiver } from './kit.ts';

const prefixes: string[] = [];
const clients: Redis[] = [];
const notifiers: Notifier[] = [];
const receivers: Receiver[] = [];
after(async () => {
  await Promise.all(notifiers.map((n) => n.close()));
  await Promise.all(receivers.map((r) => r.close()));
  for (const c of clients) c.disconnect();
  for (const p of prefixes) await deleteRedisKeys(p);
});

function replica(prefix: string, config: ReturnType<typeof notificationsConfig>, now: () => number = Date.now) {
  const redis = new Redis(REDIS_URL);
  clients.push(redis);
  const metrics = createMetrics(
    { trust: () => ({ version: 1, active: 0, revoked: 0 }), policyHash: () => 'h', scanQueuePending: async () => 0, redisUp: () => 1 },
    { upstreams: [], sharedVerdictCache: true, notificationEndpoints: ['ops'] },
  );
  const n = createNotifier({
    config,
    queue: createRedisQueue(redis, prefix, config.queue.maxPending),
    logger: recordingLogger(),
    now,
    instance: `replica-${notifiers.length}`,
    onResult: metrics.notification,
    pollMs: 20,
  });
  notifiers.push(n);
  return { n, metrics };
}

const expiring = (now: number): TrustSnapshot =>
  ({
    version: 1,
    entries: [
      {
        id: 'release',
        kind: 'key',
        pem: '',
        scopes: ['**'],
        purposes: ['sign'],
        origin: 'api',
        notAfter: now + 3 * 86_400_000,
      } as unknown as TrustEntry,
    ],
    revocations: [],
  }) as unknown as TrustSnapshot;

describe('webhooks across replicas (Redis)', () => {
  it('two replicas on one prefix send each event once, a periodic one seen by both included', async () => {
    const prefix = testPrefix('notify-two');
    prefixes.push(prefix);
    const r = await startReceiver();
    receivers.push(r);
    r.answers = [500]; // one retry on the way: still once
    const config = notificationsConfig([endpointConfig(r.url)]);
    const a = replica(prefix, config);
    const b = replica(prefix, config);
    a.n.start();
    b.n.start();
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const id = randomId();
      ids.push(id);
      (i % 2 === 0 ? a : b).n.emit({ id, type: 'breakglass.opened', time: Date.now(), data: { i } });
    }
    // The periodic check every replica runs, and a denial both replicas saw, in the same window.
    const now = Date.now();
    for (const x of [a, b]) {
      checkExpiring({ trust: { snapshot: () => expiring(now) }, notifier: x.n, warnDays: [14], now: () => now });
      x.n.denied({
        name: 'docker.io/library/nginx',
        upstream: 'dockerhub',
        reference: 'latest',
        digest: undefined,
        rule: 'default',
        reasons: [{ code: 'unsigned', message: 'no signature' }],
      });
    }
    await until(() => r.received.length >= 23, 15_000, '22 events (one of them sent twice, after a 500)');
    await until(async () => (await a.n.idle()) && (await b.n.idle()), 15_000, 'both idle');
    const seen = new Map<string, number>();
    for (const x of r.received) {
      const id = String(x.headers['x-trustgate-delivery']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    assert.equal(seen.size, 22, 'every event arrived');
    for (const id of ids) assert.ok(seen.has(id), id);
    const types = r.received.map((x) => String(x.headers['x-trustgate-event']));
    assert.equal(types.filter((t) => t === 'key.expiring').length, 1, 'the periodic event once');
    assert.equal(types.filter((t) => t === 'pull.denied').length, 1, 'the denial both saw once');
    // Received once each, except the one answered 500 first.
    assert.deepEqual([...seen.values()].sort(), [...Array<number>(21).fill(1), 2]);
    const text = (await a.metrics.registry.metrics()) + (await b.metrics.registry.metrics());
    const total = [...text.matchAll(/trustgate_notifications_total\{endpoint="ops",result="delivered"\} (\d+)/g)].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
    assert.equal(total, 22, 'delivered 22 times in all');
  });

  it('keeps a shared queue bounded while the receiver is down', async () => {
    const prefix = testPrefix('notify-bound');
    prefixes.push(prefix);
    const config = notificationsConfig([endpointConfig('http://127.0.0.1:9/hook')], {
      queue: { maxPending: 10, maxAttempts: 8, backoffMs: 60_000, maxBackoffMs: 60_000 },
    });
    const a = replica(prefix, config);
    const b = replica(prefix, config);
    a.n.start();
    b.n.start();
    let deepest = 0;
    for (let i = 0; i < 30; i += 1) {
      (i % 2 === 0 ? a : b).n.emit({ id: randomId(), type: 'key.revoked', time: Date.now(), data: { i } });
      deepest = Math.max(deepest, (await a.n.depths())['ops'] ?? 0);
    }
    const overflow = async () => {
      const text = (await a.metrics.registry.metrics()) + (await b.metrics.registry.metrics());
      return [...text.matchAll(/trustgate_notifications_total\{endpoint="ops",result="overflow"\} (\d+)/g)].reduce(
        (s, m) => s + Number(m[1]),
        0,
      );
    };
    await until(async () => (await overflow()) === 20, 10_000, '20 drops');
    assert.equal((await b.n.depths())['ops'], 10);
    assert.ok(deepest <= 10, `depth reached ${deepest}`);
  });
});
