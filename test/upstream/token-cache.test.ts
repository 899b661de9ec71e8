import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expiryOf, TokenCache, type IssuedToken } from '../../src/upstream/token-cache.ts';

const KEY = { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull' };
const T0 = Date.parse('2030-01-01T00:00:00Z');

function clock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('TokenCache', () => {
  it('reuses a token until shortly before it expires', async () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now, marginMs: 5_000 });
    let fetches = 0;
    const fetch = async (): Promise<IssuedToken> => ({ token: `t${++fetches}`, expiresAt: c.now() + 300_000 });
    assert.equal(await cache.get(KEY, fetch), 't1');
    c.advance(294_000);
    assert.equal(await cache.get(KEY, fetch), 't1');
    c.advance(2_000); // 4 s left: inside the safety margin
    assert.equal(await cache.get(KEY, fetch), 't2');
    assert.equal(fetches, 2);
  });

  it('keeps tokens for different realms, services and scopes apart', async () => {
    const cache = new TokenCache({ now: clock().now });
    const issue = (token: string) => async (): Promise<IssuedToken> => ({ token, expiresAt: T0 + 60_000 });
    await cache.get(KEY, issue('a'));
    await cache.get({ ...KEY, scope: 'repository:other:pull' }, issue('b'));
    await cache.get({ ...KEY, service: 'other' }, issue('c'));
    await cache.get({ ...KEY, realm: 'https://other/token' }, issue('d'));
    assert.equal(cache.peek(KEY), 'a');
    assert.equal(cache.peek({ ...KEY, scope: 'repository:other:pull' }), 'b');
    assert.equal(cache.size, 4);
  });

  describe('when many callers ask at once', () => {
    it('fetches once and gives every caller the same token', async () => {
      const cache = new TokenCache({ now: clock().now });
      let fetches = 0;
      const fetch = async (): Promise<IssuedToken> => {
        fetches += 1;
        await new Promise((r) => setTimeout(r, 20));
        return { token: 'shared', expiresAt: T0 + 60_000 };
      };
      const tokens = await Promise.all(Array.from({ length: 10 }, () => cache.get(KEY, fetch)));
      assert.deepEqual(new Set(tokens), new Set(['shared']));
      assert.equal(fetches, 1);
    });

    it('rejects them all when the fetch fails, and tries again on the next call', async () => {
      const cache = new TokenCache({ now: clock().now });
      let fetches = 0;
      const failing = async (): Promise<IssuedToken> => {
        fetches += 1;
        await new Promise((r) => setTimeout(r, 10));
        throw new Error('token endpoint down');
      };
      const results = await Promise.allSettled([cache.get(KEY, failing), cache.get(KEY, failing)]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'rejected'],
      );
      assert.equal(fetches, 1);
      assert.equal(await cache.get(KEY, async () => ({ token: 'ok', expiresAt: T0 + 60_000 })), 'ok');
    });
  });

  it('drops a token a 401 rejected, but not a newer one', async () => {
    const cache = new TokenCache({ now: clock().now });
    await cache.get(KEY, async () => ({ token: 'new', expiresAt: T0 + 60_000 }));
    cache.dropToken(KEY.scope, 'old');
    assert.equal(cache.peek(KEY), 'new');
    cache.dropToken(KEY.scope, 'new');
    assert.equal(cache.peek(KEY), undefined);
  });

  it('invalidates every token of a scope', async () => {
    const cache = new TokenCache({ now: clock().now });
    await cache.get(KEY, async () => ({ token: 'a', expiresAt: T0 + 60_000 }));
    await cache.get({ ...KEY, realm: 'https://b/token' }, async () => ({ token: 'b', expiresAt: T0 + 60_000 }));
    await cache.get({ ...KEY, scope: 'keep' }, async () => ({ token: 'c', expiresAt: T0 + 60_000 }));
    cache.invalidate(KEY.scope);
    assert.equal(cache.size, 1);
    assert.equal(cache.peek({ ...KEY, scope: 'keep' }), 'c');
  });

  it('does not cache a token that is already expired, but still returns it once', async () => {
    const cache = new TokenCache({ now: clock().now });
    assert.equal(await cache.get(KEY, async () => ({ token: 'stale', expiresAt: T0 - 1 })), 'stale');
    assert.equal(cache.size, 0);
  });

  it('evicts the oldest entries beyond maxEntries', async () => {
    const cache = new TokenCache({ now: clock().now, maxEntries: 3 });
    for (const scope of ['s1', 's2', 's3', 's4']) {
      await cache.get({ ...KEY, scope }, async () => ({ token: scope, expiresAt: T0 + 60_000 }));
    }
    assert.equal(cache.size, 3);
    assert.equal(cache.peek({ ...KEY, scope: 's1' }), undefined);
    assert.equal(cache.peek({ ...KEY, scope: 's4' }), 's4');
  });
});

describe('expiryOf', () => {
  it('is issued_at + expires_in', () => {
    assert.equal(expiryOf(300, '2030-01-01T00:00:00Z', T0 + 1_000), T0 + 300_000);
  });
  it('defaults expires_in to 60 s when missing, zero, negative or not a number', () => {
    for (const value of [undefined, 0, -5, '300', Number.NaN]) assert.equal(expiryOf(value, undefined, T0), T0 + 60_000);
  });
  it('counts from the request time when issued_at is missing, invalid, or in the future', () => {
    assert.equal(expiryOf(120, undefined, T0), T0 + 120_000);
    assert.equal(expiryOf(120, 'yesterday-ish', T0), T0 + 120_000);
    assert.equal(expiryOf(120, '2031-01-01T00:00:00Z', T0), T0 + 120_000);
  });
});
