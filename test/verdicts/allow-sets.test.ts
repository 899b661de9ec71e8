import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryAllowSets, MAX_GRANTS_PER_DIGEST } from '../../src/verdicts/memory-allow-sets.ts';
import type { Allowance } from '../../src/verdicts/types.ts';
import { D1, D2, HOUR, T0 } from './verdicts.ts';

const B1 = `sha256:${'b'.repeat(64)}` as const;
const B2 = `sha256:${'c'.repeat(64)}` as const;
const NAME = 'docker.io/library/app';
const anyLive = async (): Promise<boolean> => true;
const liveOnly =
  (...sources: string[]) =>
  async (a: Allowance): Promise<boolean> =>
    sources.includes(a.source);

function clock(start = T0): { now: () => number; advance(ms: number): void } {
  let at = start;
  return { now: () => at, advance: (ms) => void (at += ms) };
}

describe('allow sets (memory)', () => {
  it('allows a granted blob for that generation and name only, naming its source', async () => {
    const sets = createMemoryAllowSets({ now: clock().now });
    await sets.grantBlobs('p:1', NAME, [{ digest: B1 }], { source: 'verdict:a', expiresAt: T0 + HOUR });
    assert.deepEqual(await sets.blobAllowance('p:1', NAME, B1, anyLive), { source: 'verdict:a', expiresAt: T0 + HOUR });
    assert.equal(await sets.blobAllowance('p:1', NAME, B2, anyLive), undefined);
    assert.equal(await sets.blobAllowance('p:2', NAME, B1, anyLive), undefined, 'a policy or trust change hides older grants');
    assert.equal(await sets.blobAllowance('p:1', 'docker.io/library/other', B1, anyLive), undefined);
  });

  it('ends an allowance when its source ends, while another source of the same blob still holds it', async () => {
    const sets = createMemoryAllowSets({ now: clock().now });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: 'breakglass:e1', expiresAt: T0 + HOUR });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: 'verdict:v', expiresAt: T0 + HOUR });
    assert.equal((await sets.blobAllowance('g', NAME, B1, liveOnly('verdict:v')))?.source, 'verdict:v');
    assert.equal((await sets.blobAllowance('g', NAME, B1, liveOnly('breakglass:e1')))?.source, 'breakglass:e1');
    assert.equal(await sets.blobAllowance('g', NAME, B1, liveOnly()), undefined, 'no live source, no allowance');
  });

  it('expires each source at its own time, and a shorter grant does not cut a longer one short', async () => {
    const time = clock();
    const sets = createMemoryAllowSets({ now: time.now });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: 's', expiresAt: T0 + HOUR });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }, { digest: B2 }], { source: 's', expiresAt: T0 + 1000 });
    time.advance(1000);
    assert.equal(await sets.blobAllowance('g', NAME, B2, anyLive), undefined);
    assert.ok(await sets.blobAllowance('g', NAME, B1, anyLive));
    time.advance(HOUR - 1000);
    assert.equal(await sets.blobAllowance('g', NAME, B1, anyLive), undefined);
  });

  it('prefers a streaming allowance over one that must be checked', async () => {
    const sets = createMemoryAllowSets({ now: clock().now });
    await sets.grantBlobs('g', NAME, [{ digest: B1, format: 'application/jose+json', size: 10 }], {
      source: 'artifact:x',
      expiresAt: T0 + HOUR,
    });
    assert.deepEqual(await sets.blobAllowance('g', NAME, B1, anyLive), {
      source: 'artifact:x',
      expiresAt: T0 + HOUR,
      format: 'application/jose+json',
      size: 10,
    });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: 'verdict:v', expiresAt: T0 + HOUR });
    assert.equal((await sets.blobAllowance('g', NAME, B1, anyLive))?.format, undefined);
  });

  it('remembers which allowed index lists a child, under its source', async () => {
    const time = clock();
    const sets = createMemoryAllowSets({ now: time.now });
    await sets.grantChildren('g', NAME, D2, [D1], { source: 'verdict:i', expiresAt: T0 + HOUR });
    assert.equal((await sets.childAllowance('g', NAME, D1, anyLive))?.index, D2);
    assert.equal(await sets.childAllowance('g', NAME, D1, liveOnly('verdict:other')), undefined);
    assert.equal(await sets.childAllowance('g', NAME, D2, anyLive), undefined);
    assert.equal(await sets.childAllowance('h', NAME, D1, anyLive), undefined);
    time.advance(HOUR);
    assert.equal(await sets.childAllowance('g', NAME, D1, anyLive), undefined);
  });

  it(`keeps at most ${MAX_GRANTS_PER_DIGEST} grants a digest, dropping the soonest to expire`, async () => {
    const sets = createMemoryAllowSets({ now: clock().now });
    for (let i = 0; i <= MAX_GRANTS_PER_DIGEST; i += 1)
      await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: `verdict:${i}`, expiresAt: T0 + HOUR + i });
    assert.equal(await sets.blobAllowance('g', NAME, B1, liveOnly('verdict:0')), undefined);
    assert.ok(await sets.blobAllowance('g', NAME, B1, liveOnly(`verdict:${MAX_GRANTS_PER_DIGEST}`)));
  });

  it('a flood of checked grants (fake signature artifacts naming a layer) never pushes out the verdict that streams it', async () => {
    const sets = createMemoryAllowSets({ now: clock().now });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: 'verdict:v', expiresAt: T0 + 1000 });
    for (let i = 0; i < 3 * MAX_GRANTS_PER_DIGEST; i += 1)
      await sets.grantBlobs('g', NAME, [{ digest: B1, format: 'application/jose+json', size: 1 }], {
        source: `artifact:${i}`,
        expiresAt: T0 + HOUR,
      });
    assert.equal((await sets.blobAllowance('g', NAME, B1, anyLive))?.source, 'verdict:v');
  });

  it('keeps names and generations apart even when they contain separators', async () => {
    const sets = createMemoryAllowSets({ now: clock().now });
    await sets.grantBlobs('a:b', 'c', [{ digest: B1 }], { source: 's', expiresAt: T0 + HOUR });
    assert.equal(await sets.blobAllowance('a', 'b:c', B1, anyLive), undefined);
  });

  it('refuses a grant without a source or a finite expiry', async () => {
    await assert.rejects(createMemoryAllowSets().grantBlobs('g', NAME, [{ digest: B1 }], { source: '', expiresAt: T0 }), TypeError);
    await assert.rejects(createMemoryAllowSets().grantBlobs('g', NAME, [{ digest: B1 }], { source: 's', expiresAt: Infinity }), TypeError);
  });
});
