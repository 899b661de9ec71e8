import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NotificationEvent } from '../../src/notify/event.ts';
import { notifyPolicyFileReloads } from '../../src/notify/policy-events.ts';
import type { Policy } from '../../src/policy/types.ts';
import type { PolicyOrigin } from '../../src/policy-store/holder.ts';

describe('a policy file reload', () => {
  it('notifies policy.applied with source file; a change followed from the admin API does not (the audit log tells that one)', () => {
    let listener: (p: Policy) => void = () => {};
    let origin: PolicyOrigin = { source: 'file' };
    const events: NotificationEvent[] = [];
    notifyPolicyFileReloads(
      { onChange: (l) => void (listener = l), origin: () => origin },
      { emit: (e) => void events.push(e) },
      () => 1_000,
    );
    listener({ hash: 'h1', rules: [{}, {}] } as unknown as Policy);
    origin = { source: 'api', version: 2 } as PolicyOrigin;
    listener({ hash: 'h2', rules: [] } as unknown as Policy);
    assert.deepEqual(
      events.map((e) => [e.type, e.data]),
      [['policy.applied', { source: 'file', hash: 'h1', rules: 2 }]],
    );
  });
});
