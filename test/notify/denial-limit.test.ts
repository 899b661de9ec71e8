import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDenialLimit } from '../../src/notify/denial-limit.ts';

describe('the denial limit', () => {
  it('lets a key through once per window', () => {
    const limit = createDenialLimit(1_000, 10);
    assert.deepEqual([limit.take('a', 0), limit.take('a', 999), limit.take('b', 999), limit.take('a', 1_000)], [true, false, true, true]);
  });

  it('holds at most maxKeys keys, forgetting the least recently seen first', () => {
    const limit = createDenialLimit(60_000, 100);
    for (let i = 0; i < 10_000; i += 1) {
      limit.take(`image-${i}`, i);
      assert.ok(limit.size <= 100);
    }
    assert.equal(limit.size, 100);
    assert.equal(limit.take('image-9999', 10_000), false, 'a recent key is still limited');
    assert.equal(limit.take('image-0', 10_000), true, 'a forgotten key notifies again');
  });
});
