import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, eventually, scope } from '../support/helpers.ts';
import { startOwnRedis } from '../support/own-redis.ts';
import { entry, T0 } from '../trust/entries.ts';
import { openStore } from './redis-store-kit.ts';

describe('trust store across a restart of Redis that loses everything', () => {
  it('re-seeds Redis from the replicas, never goes back a version, and still spreads revocations', async (t) => {
    const defer = scope(t);
    const server = await startOwnRedis();
    defer(() => server.stop());
    const url = `redis://127.0.0.1:${server.port}`;
    const a = await openStore(defer, url, 'tg:');
    const b = await openStore(defer, url, 'tg:');
    await a.upsert([entry('k1'), entry('k2'), entry('k3')]);
    const before = await a.revoke('k1', 'compromised', T0);
    await eventually(() => b.snapshot().version === before.version, 1000, 'B in step before the restart');

    await server.restart(); // SIGKILL, then an empty redis-server on the same port
    const raw = await client(defer, url);
    await eventually(
      async () => (await raw.hget('tg:trust:revoked', 'k1')) !== null && (await raw.hlen('tg:trust:entries')) === 3,
      5000,
      'the replicas re-seed Redis',
    );
    const reseeded = Number(await raw.get('tg:trust:version'));
    assert.ok(reseeded > before.version, `the version moved forward (${reseeded} > ${before.version})`);

    // Writes work again once A's connection is back; the revoke reaches B through the new server.
    let after: number | undefined;
    await eventually(
      async () => {
        after = (await a.revoke('k2', 'rotated', T0 + 1)).version;
        return true;
      },
      5000,
      'A can write again',
    );
    await eventually(() => b.snapshot().revocations.some((r) => r.id === 'k2'), 2000, 'B sees the revoke made after the restart');
    assert.equal(b.snapshot().version, after);
    assert.deepEqual(
      b.snapshot().revocations.map((r) => r.id),
      ['k1', 'k2'],
    );
    assert.deepEqual(
      b.snapshot().entries.map((e) => e.id),
      ['k1', 'k2', 'k3'],
    );

    // The tombstone that came back through the re-seed still beats keys/.
    const c = await openStore(defer, url, 'tg:');
    const upserted = await c.upsert([entry('k1', { pem: 'new material' })]);
    assert.ok(upserted.revocations.some((r) => r.id === 'k1'));
    assert.equal(upserted.entries.find((e) => e.id === 'k1')?.pem, entry('k1').pem);
  });
});
