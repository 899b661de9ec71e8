import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.ts';
import { contentId, randomId, type NotificationEvent } from '../../src/notify/event.ts';
import { createNotifier, type Notifier, type NotifierDeps } from '../../src/notify/notifier.ts';
import { createMemoryQueue, type DeliveryQueue } from '../../src/notify/queue.ts';
import { verifySignature } from '../../src/notify/signing.ts';
import { connectToResolver } from '../../src/upstream/egress.ts';
import { endpointConfig, notificationsConfig, recordingLogger, SIGNING_SECRET, startReceiver, until, type Receiver } from './kit.ts';

const metricsNow = (): Metrics =>
  createMetrics(
    {
      trust: () => ({ version: 1, active: 0, revoked: 0 }),
      policyHash: () => 'h',
      scanQueuePending: async () => 0,
      redisUp: () => undefined,
    },
    { upstreams: [], sharedVerdictCache: false, notificationEndpoints: ['ops'] },
  );

async function counted(metrics: Metrics, result: string, endpoint = 'ops'): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`trustgate_notifications_total{endpoint="${endpoint}",result="${result}"}`));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

const event = (
  type: NotificationEvent['type'] = 'breakglass.opened',
  data: Record<string, unknown> = { id: 'bg-1' },
): NotificationEvent => ({
  id: randomId(),
  type,
  time: Date.now(),
  data,
});

const open: Notifier[] = [];
const receivers: Receiver[] = [];
after(async () => {
  await Promise.all(open.map((n) => n.close()));
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(path?: string): Promise<Receiver> {
  const r = await startReceiver(path);
  receivers.push(r);
  return r;
}

function notifier(
  deps: Partial<NotifierDeps> & Pick<NotifierDeps, 'config'>,
  queue: DeliveryQueue = createMemoryQueue(deps.config.queue.maxPending),
) {
  const logger = recordingLogger();
  const metrics = metricsNow();
  const n = createNotifier({ queue, logger, now: Date.now, instance: 'test-replica', onResult: metrics.notification, pollMs: 20, ...deps });
  open.push(n);
  return { n, logger, metrics };
}

describe('webhook notifier', () => {
  it('signs each delivery: the HMAC over "<timestamp>.<raw body>" verifies, a tampered body does not', async () => {
    const r = await receiver();
    const { n, metrics } = notifier({ config: notificationsConfig([endpointConfig(r.url)]) });
    n.start();
    const sent = event('key.revoked', { id: 'release', reason: 'leaked' });
    n.emit(sent);
    await until(() => r.received.length === 1);
    const [got] = r.received;
    const timestamp = String(got!.headers['x-trustgate-timestamp']);
    const header = String(got!.headers['x-trustgate-signature']);
    const expected = `v1=${createHmac('sha256', SIGNING_SECRET)
      .update(`${timestamp}.${got!.body.toString('utf8')}`)
      .digest('hex')}`;
    assert.equal(header, expected);
    const nowSeconds = Math.floor(Date.now() / 1000);
    assert.ok(verifySignature(SIGNING_SECRET, header, timestamp, got!.body, nowSeconds));
    const tampered = Buffer.from(got!.body.toString('utf8').replace('leaked', 'fine'));
    assert.equal(verifySignature(SIGNING_SECRET, header, timestamp, tampered, nowSeconds), false);
    assert.equal(verifySignature(SIGNING_SECRET, header, timestamp, got!.body, nowSeconds + 301), false, 'outside the replay window');
    const body = JSON.parse(got!.body.toString('utf8'));
    assert.deepEqual(
      { id: body.id, type: body.type, instance: body.trustgate.instance, data: body.data },
      { id: sent.id, type: 'key.revoked', instance: 'test-replica', data: { id: 'release', reason: 'leaked' } },
    );
    assert.equal(got!.headers['x-trustgate-delivery'], sent.id);
    assert.equal(got!.headers['x-trustgate-event'], 'key.revoked');
    assert.equal(got!.headers['content-type'], 'application/json');
    await until(async () => (await counted(metrics, 'delivered')) === 1);
  });

  it('sends a denied image and reason at most once per window; another reason, or the next window, sends again', async () => {
    const r = await receiver();
    let now = 1_000_000_000_000;
    const config = notificationsConfig([endpointConfig(r.url)], { denials: { windowMs: 600_000, maxKeys: 100 } });
    const { n } = notifier({ config, now: () => now });
    n.start();
    const denial = (code: string) => ({
      name: 'docker.io/library/nginx',
      upstream: 'dockerhub',
      reference: 'latest',
      digest: undefined,
      rule: 'default',
      reasons: [{ code, message: `denied: ${code}` }],
    });
    for (let i = 0; i < 20; i += 1) n.denied(denial('unsigned'));
    n.denied(denial('no_matching_rule'));
    await until(() => r.received.length === 2);
    await until(() => n.idle());
    now += 599_000; // still within the window
    for (let i = 0; i < 5; i += 1) n.denied(denial('unsigned'));
    await until(() => n.idle());
    assert.equal(r.received.length, 2);
    now += 2_000; // the window has passed
    n.denied(denial('unsigned'));
    await until(() => r.received.length === 3);
    await until(() => n.idle());
    const reasons = r.received.map((x) => JSON.parse(x.body.toString()).data.reason);
    assert.deepEqual(reasons.sort(), ['no_matching_rule', 'unsigned', 'unsigned']);
  });

  it('retries after a 500 with backoff: fails twice, then delivered once, attempts counted', async () => {
    const r = await receiver();
    r.answers = [500, 503];
    const { n, metrics, logger } = notifier({ config: notificationsConfig([endpointConfig(r.url)]) });
    n.start();
    const sent = event();
    n.emit(sent);
    await until(async () => (await counted(metrics, 'delivered')) === 1);
    await until(() => n.idle());
    assert.equal(r.received.length, 3);
    assert.ok(
      r.received.every((x) => x.headers['x-trustgate-delivery'] === sent.id),
      'the same delivery each time',
    );
    assert.equal(await counted(metrics, 'retried'), 2);
    const failures = logger.lines.filter((l) => (l.record as { event?: string }).event === 'notification_failed');
    assert.deepEqual(
      failures.map((l) => [(l.record as { status?: number }).status, (l.record as { attempt?: number }).attempt]),
      [
        [500, 1],
        [503, 2],
      ],
    );
  });

  it('drops a delivery after maxAttempts, and a 4xx at once, counting both', async () => {
    const r = await receiver();
    r.answers = [500, 500, 500, 404];
    const { n, metrics } = notifier({
      config: notificationsConfig([endpointConfig(r.url)], { queue: { maxPending: 10, maxAttempts: 3, backoffMs: 1, maxBackoffMs: 5 } }),
    });
    n.start();
    n.emit(event());
    await until(async () => (await counted(metrics, 'exhausted')) === 1);
    n.emit(event());
    await until(async () => (await counted(metrics, 'rejected')) === 1);
    await until(() => n.idle());
    assert.equal(r.received.length, 4);
  });

  it('keeps the queue bounded while the receiver is down: the oldest are dropped and counted', async () => {
    const r = await receiver();
    const port = r.port;
    await r.close(); // nothing listens there now
    receivers.splice(receivers.indexOf(r), 1);
    const config = notificationsConfig([endpointConfig(`http://127.0.0.1:${port}/hook`)], {
      queue: { maxPending: 10, maxAttempts: 8, backoffMs: 60_000, maxBackoffMs: 60_000 },
    });
    const { n, metrics, logger } = notifier({ config });
    n.start();
    let deepest = 0;
    for (let i = 0; i < 25; i += 1) {
      n.emit(event());
      deepest = Math.max(deepest, (await n.depths())['ops'] ?? 0);
    }
    await until(async () => (await counted(metrics, 'overflow')) === 15, 10_000, '15 drops');
    assert.equal((await n.depths())['ops'], 10);
    assert.ok(deepest <= 10, `depth reached ${deepest}`);
    await until(async () => (await counted(metrics, 'retried')) >= 1, 10_000, 'a failed attempt');
    assert.ok(logger.lines.some((l) => (l.record as { event?: string }).event === 'notification_dropped'));
    const text = await metrics.registry.metrics();
    assert.match(text, /trustgate_notification_queue_depth/);
  });

  it('does not follow a redirect: a 3xx is a failure, and the target gets nothing', async () => {
    const target = await receiver('/elsewhere');
    const r = await receiver();
    r.answers = [{ status: 302, headers: { location: target.url } }];
    const { n, metrics } = notifier({ config: notificationsConfig([endpointConfig(r.url)]) });
    n.start();
    n.emit(event());
    await until(async () => (await counted(metrics, 'rejected')) === 1);
    await until(() => n.idle());
    assert.equal(target.received.length, 0);
    assert.equal(r.received.length, 1);
  });

  it('refuses an endpoint that resolves to a special address unless allowedNetworks lists it; the URL is never logged nor metered', async () => {
    const r = await receiver();
    const secretUrl = `http://hooks.example.test:${r.port}/services/T000/B000/SECRETTOKEN`;
    const resolver = connectToResolver({ [`hooks.example.test:${r.port}`]: `127.0.0.1:${r.port}` });
    const refused = notifier({ config: notificationsConfig([endpointConfig(secretUrl)], { allowedNetworks: [] }), resolver });
    refused.n.start();
    refused.n.emit(event());
    await until(async () => (await counted(refused.metrics, 'refused')) === 1);
    assert.equal(r.received.length, 0);
    const line = refused.logger.lines.find((l) => (l.record as { event?: string }).event === 'notification_refused');
    assert.equal((line?.record as { endpoint?: string }).endpoint, 'ops');
    assert.match(String((line?.record as { why?: string }).why), /loopback/);

    const allowed = notifier({ config: notificationsConfig([endpointConfig(secretUrl)], { allowedNetworks: ['127.0.0.0/8'] }), resolver });
    allowed.n.start();
    allowed.n.emit(event());
    await until(() => r.received.length === 1);
    assert.equal(r.received[0]!.path, '/services/T000/B000/SECRETTOKEN');
    // A failure is logged too: still no URL.
    r.answers = [500];
    allowed.n.emit(event());
    await until(async () => (await counted(allowed.metrics, 'retried')) === 1);
    for (const { logger, metrics } of [refused, allowed]) {
      const logged = JSON.stringify(logger.lines);
      assert.doesNotMatch(logged, /SECRETTOKEN|hooks\.example\.test/);
      const text = await metrics.registry.metrics();
      assert.doesNotMatch(text, /SECRETTOKEN|hooks\.example\.test/);
      assert.match(text, /trustgate_notifications_total\{endpoint="ops"/);
    }
  });

  it('sends only the events an endpoint filters for', async () => {
    const r = await receiver();
    const { n } = notifier({ config: notificationsConfig([endpointConfig(r.url, { events: ['breakglass.*', 'key.revoked'] })]) });
    n.start();
    n.emit(event('policy.applied', { hash: 'h' }));
    n.emit(event('breakglass.ended', { id: 'bg-1' }));
    n.emit(event('key.revoked', { id: 'k' }));
    await until(() => r.received.length === 2);
    await until(() => n.idle());
    assert.deepEqual(r.received.map((x) => x.headers['x-trustgate-event']).sort(), ['breakglass.ended', 'key.revoked']);
  });

  it('queues an event id once: a repeat within its dedupe time is dropped', async () => {
    const r = await receiver();
    const { n } = notifier({ config: notificationsConfig([endpointConfig(r.url)]) });
    n.start();
    const id = contentId('scans.stalled', 'sha256:abc', 1);
    for (let i = 0; i < 3; i += 1) n.emit({ id, type: 'scans.stalled', time: Date.now(), data: { pending: 1 } });
    await until(() => r.received.length === 1);
    await until(() => n.idle());
    assert.equal(r.received.length, 1);
  });
});
