// A change published while a replica's subscriber connection is down is lost to pub/sub for good.
// Replica B's subscriber is cut (CLIENT KILL) and kept away while replica A revokes a key, applies
// an API policy, adds a break-glass entry and posts a scan. B's polls are an hour long and its
// command connection stays up, so only the follower's reread after the subscriber reconnects can
// bring B up to date. Real Redis, a fresh key prefix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { openVerdictCache } from '../../src/runtime/backend.ts';
import type { VerdictLayerName } from '../../src/verdicts/verdict-cache.ts';
import { record } from '../scan-store/scans.ts';
import { client, eventually, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { allow, key, T0 } from '../verdicts/verdicts.ts';
import { backendConfig, OPEN_API_POLICY, openReplica, type Replica } from '../support/backend-kit.ts';
import { entry } from '../trust/entries.ts';

const HOUR = 3_600_000;
const POLLS = { trust: HOUR, breakGlass: HOUR, policy: HOUR };
/** How long B's subscriber stays away after the kill: A's changes are all published meanwhile. */
const AWAY_MS = 500;
const IMAGE = `docker.io/library/app@sha256:${'a'.repeat(64)}`;

const revoked = (r: Replica, id: string): boolean => r.backend.trust.snapshot().revocations.some((x) => x.id === id);
const glass = (r: Replica, id: string): boolean => r.backend.breakGlass.active(Date.now()).some((e) => e.id === id);

/** The CLIENT LIST line of a connection, found by its local address (Redis lists it as the client's addr). */
async function clientLine(admin: Redis, connection: Redis): Promise<string | undefined> {
  const address = `addr=${connection.stream.localAddress}:${connection.stream.localPort} `;
  const list = String(await admin.call('CLIENT', 'LIST'));
  return list.split('\n').find((line) => line.includes(address));
}

describe('the follower after a subscriber reconnect', () => {
  it('rereads trust, policy, break glass and scans: B catches up on what was published while its subscriber was away', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'follower');
    const config = backendConfig(SHARED_REDIS_URL);
    const a = await openReplica(defer, config, { redisPrefix: prefix, pollIntervalMs: POLLS });
    const b = await openReplica(defer, config, { redisPrefix: prefix, pollIntervalMs: POLLS });
    const admin = (await client(defer, SHARED_REDIS_URL)) as Redis;
    const subscriber = b.backend.redis?.subscriber as Redis;
    assert.match((await clientLine(admin, subscriber)) ?? '', / sub=4 /, "one subscriber connection carries all four topics' channels");

    await a.backend.trust.upsert([entry('k1')]);
    await eventually(() => b.backend.trust.snapshot().entries.some((e) => e.id === 'k1'), 2000, 'B hears of k1 while connected');
    const lookups: [VerdictLayerName, boolean][] = [];
    const verdicts = openVerdictCache(b.backend, b.policy, {
      allowTtlMs: HOUR,
      denyTtlMs: HOUR,
      memoryEntries: 10,
      onLookup: (layer, hit) => lookups.push([layer, hit]),
    });
    await verdicts.put(key(), allow(), T0);
    let missed = 0;
    b.backend.onMissedPosts(() => void (missed += 1));

    subscriber.options.retryStrategy = () => AWAY_MS; // B's subscriber reconnects only after A's changes
    assert.equal(await admin.call('CLIENT', 'KILL', 'ADDR', `${subscriber.stream.localAddress}:${subscriber.stream.localPort}`), 1);
    await eventually(() => subscriber.status !== 'ready', 2000, "B's subscriber is cut");
    const after = await a.backend.trust.revoke('k1', 'compromised', T0);
    const applied = await a.backend.apiPolicy?.apply(OPEN_API_POLICY, a.policy.compile(OPEN_API_POLICY, 'test').hash, 'kim');
    await a.backend.breakGlass.add({
      id: 'bg1',
      image: IMAGE,
      reason: 'INC-1',
      expires: Date.now() + HOUR,
      actor: 'kim',
      createdAt: Date.now(),
    });
    await a.backend.scans.put(record());
    assert.notEqual(subscriber.status, 'ready', "every change was published while B's subscriber was away");
    assert.equal(revoked(b, 'k1'), false);
    assert.equal(b.policy.origin().source, 'file');
    assert.equal(glass(b, 'bg1'), false);

    await eventually(() => subscriber.status === 'ready', 5000, "B's subscriber reconnects");
    await eventually(() => revoked(b, 'k1'), 2000, 'B sees k1 revoked: it is no longer an active key');
    assert.equal(b.backend.trust.snapshot().version, after.version);
    await eventually(() => b.policy.origin().version === applied?.version, 2000, 'B runs the API policy A applied');
    assert.equal(b.policy.origin().source, 'api');
    await eventually(() => glass(b, 'bg1'), 2000, "B holds A's break-glass entry");
    await eventually(() => missed > 0, 2000, 'B is told scan posts may have been missed');
    lookups.length = 0;
    await verdicts.get(key(), T0 + 1);
    assert.deepEqual(lookups[0], ['memory', false], "B's local verdict layer was cleared");
  });
});
