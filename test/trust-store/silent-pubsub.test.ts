import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedisTrustStore, TRUST_POLL_MS } from '../../src/trust-store/redis-trust-store.ts';
import type { TrustStore } from '../../src/trust/types.ts';
import { client, eventually, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { entry, T0 } from '../trust/entries.ts';
import { openStore } from './redis-store-kit.ts';
import { startSilentPubSubProxy, type SilentPubSubProxy } from './silent-pubsub-proxy.ts';

// A replica whose subscription silently stops delivering (the connection stays up and answers,
// but no change notice arrives) must still see a revocation within the second the README promises.
// Replica A reaches Redis through a proxy that drops every pub/sub delivery; replica B, direct,
// makes the changes. Real Redis (the shared one, a fresh prefix per test).

const target = (() => {
  const url = new URL(SHARED_REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
})();

async function behindProxy(
  defer: (c: () => unknown) => void,
  prefix: string,
  pollIntervalMs?: number,
): Promise<{ store: TrustStore; proxy: SilentPubSubProxy }> {
  const proxy = await startSilentPubSubProxy(target);
  defer(() => proxy.close());
  const redis = await client(defer, proxy.url);
  const subscriber = await client(defer, proxy.url);
  const store = await createRedisTrustStore({ redis, subscriber, prefix, ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }) });
  defer(() => store.close());
  return { store, proxy };
}

const revoked = (store: TrustStore, id: string): boolean => store.snapshot().revocations.some((r) => r.id === id);

describe('trust store: revocation with pub/sub gone quiet', () => {
  it('the default settings see each revocation within 1 s, by reading the version', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'trust-quiet');
    const b = await openStore(defer, SHARED_REDIS_URL, prefix);
    await b.upsert([entry('k1'), entry('k2'), entry('k3')]);
    const { store: a, proxy } = await behindProxy(defer, prefix); // loads the keys at start
    assert.equal(a.snapshot().entries.length, 3);
    assert.ok(TRUST_POLL_MS <= 500, `poll every ${TRUST_POLL_MS} ms`);
    const seen: number[] = [];
    a.onChange((s) => seen.push(s.version));
    const latencies: number[] = [];
    for (const id of ['k1', 'k2', 'k3']) {
      const start = Date.now();
      const after = await b.revoke(id, 'compromised', T0);
      await eventually(() => revoked(a, id), 1000, `A sees ${id} revoked`);
      latencies.push(Date.now() - start);
      assert.equal(a.snapshot().version, after.version);
    }
    assert.ok(proxy.dropped >= 3, `the change notices never reached A (${proxy.dropped} dropped)`);
    assert.equal(seen.length, 3, "A's listeners heard each revocation");
    assert.ok(Math.max(...latencies) < 1000, String(latencies));
  });

  it('control: without the version poll, the proxy keeps the revocation from A', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'trust-quiet');
    const b = await openStore(defer, SHARED_REDIS_URL, prefix);
    await b.upsert([entry('k')]);
    const { store: a, proxy } = await behindProxy(defer, prefix, 0);
    assert.equal(a.snapshot().entries.length, 1);
    await b.revoke('k', 'compromised', T0);
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(revoked(a, 'k'), false);
    assert.ok(proxy.dropped >= 1);
    proxy.dropping = false; // pub/sub back: the next notice gets through
    await b.revoke('other', 'compromised', T0);
    await eventually(() => revoked(a, 'k') && revoked(a, 'other'), 1000, 'A catches up on the next notice');
  });
});
