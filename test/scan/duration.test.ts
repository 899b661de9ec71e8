// parseDuration / formatDuration, and the strict RFC 3339 parser scan times go through.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/scan/duration.ts';
import { formatRfc3339, parseRfc3339 } from '../../src/scan/rfc3339.ts';
import { DAY, HOUR, MINUTE } from './fixtures.ts';

describe('parseDuration', () => {
  test('each unit', () => {
    assert.equal(parseDuration('45s'), 45_000);
    assert.equal(parseDuration('30m'), 30 * MINUTE);
    assert.equal(parseDuration('12h'), 12 * HOUR);
    assert.equal(parseDuration('7d'), 7 * DAY);
    assert.equal(parseDuration('2w'), 14 * DAY);
  });
  const bad: Array<[unknown, RegExp]> = [
    ['', /must be a whole number followed by a unit/],
    ['7', /has no unit; add one of s, m, h, d, w \(e\.g\. "7d"\)/],
    ['7y', /unknown unit "y"/],
    ['7D', /unknown unit "D"/],
    ['-1d', /must be a whole number/],
    ['1.5h', /must be a whole number/],
    ['7 d', /must be a whole number/],
    ['0d', /must be greater than zero/],
    ['99999999999999w', /is too large/],
    [7, /must be a string like "7d", not number/],
  ];
  for (const [input, message] of bad) {
    test(`${JSON.stringify(input)} › TypeError`, () =>
      assert.throws(
        () => parseDuration(input as string),
        (e: unknown) => e instanceof TypeError && message.test(e.message),
      ));
  }
});

describe('formatDuration', () => {
  test('largest unit, plus the next when not exact', () => {
    assert.equal(formatDuration(9 * DAY), '9d');
    assert.equal(formatDuration(7 * DAY + 12 * HOUR + 5 * MINUTE), '7d12h');
    assert.equal(formatDuration(90 * MINUTE), '1h30m');
    assert.equal(formatDuration(45_000), '45s');
    assert.equal(formatDuration(999), '0s');
    assert.equal(formatDuration(-5), '0s');
  });
});

describe('parseRfc3339', () => {
  test('Trivy and cosign spellings: nanoseconds, offsets, lower-case t/z', () => {
    assert.equal(parseRfc3339('2021-08-25T12:20:30.000000005Z'), Date.UTC(2021, 7, 25, 12, 20, 30));
    assert.equal(parseRfc3339('2022-07-24T17:14:04.864682+09:00'), Date.UTC(2022, 6, 24, 8, 14, 4, 864));
    assert.equal(parseRfc3339('2021-08-25t12:20:30.5z'), Date.UTC(2021, 7, 25, 12, 20, 30, 500));
    assert.equal(parseRfc3339('2024-02-29T23:59:59-00:30'), Date.UTC(2024, 2, 1, 0, 29, 59));
  });
  for (const bad of [
    '2021-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2021-13-01T00:00:00Z',
    '2021-08-25T24:00:00Z',
    '2021-08-25T12:60:00Z',
    '2021-08-25T12:00:60Z',
    '2021-08-25T12:00:00',
    '2021-08-25',
    '2021-08-25T12:00:00+24:00',
    '0099-01-01T00:00:00Z',
    'Wed, 25 Aug 2021 12:20:30 GMT',
    1629894030,
  ]) {
    test(`${JSON.stringify(bad)} › undefined`, () => assert.equal(parseRfc3339(bad), undefined));
  }
  test('formatRfc3339 writes UTC whole seconds', () =>
    assert.equal(formatRfc3339(Date.UTC(2021, 7, 25, 12, 20, 30, 999)), '2021-08-25T12:20:30Z'));
});
