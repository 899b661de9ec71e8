import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentRange, parseRange, unsatisfiedRange } from '../../src/input/byte-range.ts';

// RFC 9110 §14.1.2 (byte ranges) and §14.2 (Range): one range, or the whole, or 416.

describe('parseRange', () => {
  const cases: [string | undefined, number, ReturnType<typeof parseRange>][] = [
    [undefined, 100, { kind: 'whole' }],
    ['bytes=0-9', 100, { kind: 'range', start: 0, end: 9 }],
    ['bytes=10-10', 100, { kind: 'range', start: 10, end: 10 }],
    ['bytes=0-0', 1, { kind: 'range', start: 0, end: 0 }],
    ['bytes=50-', 100, { kind: 'range', start: 50, end: 99 }],
    ['bytes=0-', 100, { kind: 'range', start: 0, end: 99 }],
    ['bytes=90-200', 100, { kind: 'range', start: 90, end: 99 }],
    ['bytes=99-99999999999999999999999', 100, { kind: 'range', start: 99, end: 99 }],
    ['bytes=-10', 100, { kind: 'range', start: 90, end: 99 }],
    ['bytes=-100', 100, { kind: 'range', start: 0, end: 99 }],
    ['bytes=-1000', 100, { kind: 'range', start: 0, end: 99 }],
    ['Bytes=1-2', 100, { kind: 'range', start: 1, end: 2 }],
    [' bytes=1-2 ', 100, { kind: 'range', start: 1, end: 2 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=100-200', 100, { kind: 'unsatisfiable' }],
    ['bytes=5000-', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'whole' }],
    ['bytes=9-1', 100, { kind: 'whole' }],
    ['bytes=0-1,5-6', 100, { kind: 'whole' }],
    ['bytes=0-1, 5-6', 100, { kind: 'whole' }],
    ['bytes=-', 100, { kind: 'whole' }],
    ['bytes=', 100, { kind: 'whole' }],
    ['bytes=a-b', 100, { kind: 'whole' }],
    ['bytes=1-2x', 100, { kind: 'whole' }],
    ['bytes=+1-2', 100, { kind: 'whole' }],
    ['bytes=0x1-2', 100, { kind: 'whole' }],
    ['bytes=1.5-2', 100, { kind: 'whole' }],
    ['bytes = 1-2', 100, { kind: 'whole' }],
    ['items=0-9', 100, { kind: 'whole' }],
    ['0-9', 100, { kind: 'whole' }],
    ['', 100, { kind: 'whole' }],
    [`bytes=0-${'9'.repeat(400)}`, 100, { kind: 'whole' }],
  ];
  for (const [header, size, expected] of cases) {
    it(`${JSON.stringify(header)} of ${size} bytes › ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseRange(header, size), expected);
    });
  }

  it('refuses a size that is not a non-negative integer (a programmer mistake)', () => {
    for (const size of [-1, 1.5, Number.NaN]) assert.throws(() => parseRange('bytes=0-1', size), TypeError);
  });
});

describe('Content-Range values', () => {
  it('names the range sent and the full size (206)', () => {
    assert.equal(contentRange(0, 9, 100), 'bytes 0-9/100');
  });
  it('names only the size for 416', () => {
    assert.equal(unsatisfiedRange(100), 'bytes */100');
  });
});
