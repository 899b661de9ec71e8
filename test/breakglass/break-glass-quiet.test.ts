import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedisBreakGlassStore } from '../../src/breakglass/redis-break-glass.ts';
import { startSilentPubSubProxy } from '../trust-store/silent-pubsub-proxy.ts';
import { client, eventually, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';

// A break-glass entry ended on one replica must stop letting pulls (and the blobs they granted)
// through on every other within a second, even when that replica's pub/sub silently stops
// delivering. Replica A reaches Redis through a proxy that drops every pub/sub delivery.
describe('break glass: an entry ended with pub/sub gone quiet', () => {
  it('stops on the other replica within a second, by re-reading the entries', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'bg-quiet');
    const url = new URL(SHARED_REDIS_URL);
    const proxy = await startSilentPubSubProxy({ host: url.hostname, port: Number(url.port || 6379) });
    defer(() => proxy.close());
    const now = (): number => Date.now();
    const b = await createRedisBreakGlassStore({
      redis: await client(defer, SHARED_REDIS_URL),
      subscriber: await client(defer, SHARED_REDIS_URL),
      prefix,
      now,
    });
    defer(() => b.close());
    const a = await createRedisBreakGlassStore({
      redis: await client(defer, proxy.url),
      subscriber: await client(defer, proxy.url),
      prefix,
      now,
    });
    defer(() => a.close());
    const entry = {
      id: 'bg1',
      image: 'reg.example/team/app@sha256:' + 'a'.repeat(64),
      reason: 'INC-1',
      expires: now() + 3_600_000,
      actor: 'kim',
      createdAt: now(),
    };
    await b.add(entry);
    await eventually(() => a.active(now()).some((e) => e.id === 'bg1'), 1000, 'A sees the entry');
    const started = Date.now();
    assert.equal(await b.end('bg1'), true);
    await eventually(() => !a.active(now()).some((e) => e.id === 'bg1'), 1000, 'A sees the entry ended within a second');
    assert.ok(proxy.dropped >= 1, `the notices were dropped (${proxy.dropped}); A learned by re-reading, ${Date.now() - started} ms`);
  });
});
