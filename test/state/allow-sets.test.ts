import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryAllowSets } from '../../src/state/memory-allow-sets.ts';
import { D1, D2, HOUR, T0 } from './verdicts.ts';

const B1 = `sha256:${'b'.repeat(64)}` as const;
const B2 = `sha256:${'c'.repeat(64)}` as const;
const NAME = 'docker.io/library/app';

function clock(start = T0): { now: () => number; advance(ms: number): void } {
  let at = start;
  return { now: () => at, advance: (ms) => void (at += ms) };
}

describe('allow sets (memory)', () => {
  it('allows a recorded blob for that generation and name only', async () => {
    const sets = createMemoryAllowSets({ now: clock().now });
    await sets.recordBlobs('p:1', NAME, [B1], HOUR);
    assert.equal(await sets.isBlobAllowed('p:1', NAME, B1), true);
    assert.equal(await sets.isBlobAllowed('p:1', NAME, B2), false);
    assert.equal(await sets.isBlobAllowed('p:2', NAME, B1), false, 'a policy or trust change hides older records');
    assert.equal(await sets.isBlobAllowed('p:1', 'docker.io/library/other', B1), false);
  });

  it('expires a record after its ttl, and a shorter record does not cut a longer one short', async () => {
    const time = clock();
    const sets = createMemoryAllowSets({ now: time.now });
    await sets.recordBlobs('g', NAME, [B1], HOUR);
    await sets.recordBlobs('g', NAME, [B1, B2], 1000);
    time.advance(1000);
    assert.equal(await sets.isBlobAllowed('g', NAME, B2), false);
    assert.equal(await sets.isBlobAllowed('g', NAME, B1), true);
    time.advance(HOUR - 1000);
    assert.equal(await sets.isBlobAllowed('g', NAME, B1), false);
  });

  it('remembers which allowed index lists a child', async () => {
    const time = clock();
    const sets = createMemoryAllowSets({ now: time.now });
    await sets.recordChildren('g', NAME, D2, [D1], HOUR);
    assert.equal(await sets.parentOf('g', NAME, D1), D2);
    assert.equal(await sets.parentOf('g', NAME, D2), undefined);
    assert.equal(await sets.parentOf('h', NAME, D1), undefined);
    time.advance(HOUR);
    assert.equal(await sets.parentOf('g', NAME, D1), undefined);
  });

  it('keeps names and generations apart even when they contain separators', async () => {
    const sets = createMemoryAllowSets({ now: clock().now });
    await sets.recordBlobs('a:b', 'c', [B1], HOUR);
    assert.equal(await sets.isBlobAllowed('a', 'b:c', B1), false);
  });

  it('refuses a ttl that is not positive', async () => {
    await assert.rejects(createMemoryAllowSets().recordBlobs('g', NAME, [B1], 0), TypeError);
  });
});
