import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExpiring, scanStallCheck } from '../../src/notify/checks.ts';
import type { NotificationEvent } from '../../src/notify/event.ts';
import type { ScanRequest } from '../../src/scan-store/types.ts';
import type { TrustEntry, TrustSnapshot } from '../../src/trust/types.ts';
import type { Digest } from '../../src/oci/reference.ts';

const DAY = 86_400_000;
const T0 = 1_800_000_000_000;

function collector() {
  const events: NotificationEvent[] = [];
  return { events, notifier: { emit: (e: NotificationEvent) => void events.push(e) } };
}

const entry = (id: string, notAfter?: number): TrustEntry =>
  ({
    id,
    kind: 'key',
    pem: '',
    scopes: ['**'],
    purposes: ['sign'],
    origin: 'api',
    ...(notAfter === undefined ? {} : { notAfter }),
  }) as unknown as TrustEntry;
const snapshot = (entries: TrustEntry[], revoked: string[] = []): TrustSnapshot =>
  ({ version: 1, entries, revocations: revoked.map((id) => ({ id, revokedAt: T0, reason: 'x' })) }) as unknown as TrustSnapshot;

describe('key.expiring', () => {
  it('warns once per entry and threshold: the same id on every check, a new one at the next threshold', () => {
    const { events, notifier } = collector();
    let now = T0;
    const trust = {
      snapshot: () =>
        snapshot([entry('soon', T0 + 10 * DAY), entry('later', T0 + 60 * DAY), entry('gone', T0 + 2 * DAY), entry('none')], ['gone']),
    };
    const check = () => checkExpiring({ trust, notifier, warnDays: [14, 3], now: () => now });
    check();
    now += 3_600_000;
    check();
    assert.deepEqual(
      events.map((e) => [e.type, e.data['id'], e.data['warnDays']]),
      [
        ['key.expiring', 'soon', 14],
        ['key.expiring', 'soon', 14],
      ],
    );
    assert.equal(events[0]!.id, events[1]!.id, 'the queue drops the repeat by id');
    now = T0 + 8 * DAY;
    check();
    assert.equal(events[2]!.data['warnDays'], 3);
    assert.notEqual(events[2]!.id, events[0]!.id);
    assert.equal(events[2]!.data['expires'], new Date(T0 + 10 * DAY).toISOString());
  });
});

describe('scans.stalled', () => {
  const request = (digest: string, requestedAt: number): ScanRequest => ({
    digest: digest as Digest,
    canonicalName: 'r.example/app',
    upstream: 'up',
    requestedAt,
  });

  it('fires when digests wait and no scan was posted for afterMs, once per oldest request; a post resets it', async () => {
    const { events, notifier } = collector();
    let now = T0;
    let pending: ScanRequest[] = [];
    let posted: (digest: Digest) => void = () => {};
    const scans = {
      pending: async () => pending,
      onPosted: (listener: (digest: Digest) => void) => {
        posted = listener;
        return () => {};
      },
    };
    const stall = scanStallCheck({ scans, notifier, afterMs: 30 * 60_000, now: () => now });
    await stall.check();
    assert.equal(events.length, 0, 'nothing pending');
    pending = [request('sha256:aa', T0 + 1_000)];
    now += 29 * 60_000;
    await stall.check();
    assert.equal(events.length, 0, 'not yet');
    now += 2 * 60_000;
    await stall.check();
    await stall.check();
    assert.equal(events.length, 2);
    assert.equal(events[0]!.id, events[1]!.id, 'one id per oldest request');
    assert.equal(events[0]!.data['oldestDigest'], 'sha256:aa');
    posted('sha256:zz' as Digest); // a scanner is alive
    now += 60_000;
    await stall.check();
    assert.equal(events.length, 2, 'a post resets the clock');
    now += 31 * 60_000;
    pending = [request('sha256:bb', T0 + 5_000)];
    await stall.check();
    assert.equal(events.length, 3);
    assert.notEqual(events[2]!.id, events[0]!.id);
  });
});
