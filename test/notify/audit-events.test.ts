import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryAuditLog } from '../../src/audit/memory-audit-log.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { eventOf, notifyingAudit } from '../../src/notify/audit-events.ts';
import type { NotificationEvent } from '../../src/notify/event.ts';

const use = (target: string): AuditEvent => ({
  actor: 'robot:ci',
  roles: [],
  action: 'breakglass.use',
  target,
  outcome: 'ok',
  before: { rule: 'prod', reasons: ['unsigned'] },
  after: { rule: 'break-glass', breakGlass: 'bg-0123456789ab' },
});

describe('events from the audit log', () => {
  it('break glass used: one id per entry and image, whichever replica audits it', () => {
    const a = eventOf(use('r.example/app@sha256:aa'), 1)!;
    const b = eventOf(use('r.example/app@sha256:aa'), 2)!;
    const c = eventOf(use('r.example/app@sha256:bb'), 3)!;
    assert.equal(a.type, 'breakglass.used');
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, c.id);
    assert.deepEqual(a.data, {
      id: 'bg-0123456789ab',
      image: 'r.example/app@sha256:aa',
      subject: 'robot:ci',
      overrides: { rule: 'prod', reasons: ['unsigned'] },
    });
  });

  it('only changes that succeeded, and only those that mean an event', () => {
    assert.equal(eventOf({ ...use('x'), outcome: 'error' }, 1), undefined);
    assert.equal(eventOf({ ...use('x'), outcome: 'denied' }, 1), undefined);
    assert.equal(eventOf({ ...use('x'), action: 'key.add' }, 1), undefined);
    assert.equal(
      eventOf({ ...use('x'), action: 'policy.rollback', after: { source: 'api', hash: 'h', version: 1, rolledBackFrom: 2 } }, 1)?.type,
      'policy.applied',
    );
  });

  it('appends first, notifies after; a notifier that throws never fails the change', async () => {
    const audit = createMemoryAuditLog({ maxEntries: 100, logger: noopLogger, now: () => 1 });
    const seen: NotificationEvent[] = [];
    const watching = notifyingAudit(audit, { emit: (e) => void seen.push(e) }, () => 1);
    await watching.append({
      actor: 'sec',
      roles: ['key-manager'],
      action: 'key.revoke',
      target: 'release',
      outcome: 'ok',
      after: { reason: 'leaked', pem: 'x' },
    });
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]!.data, { id: 'release', reason: 'leaked', revokedBy: 'sec' });
    assert.equal((await watching.page({ limit: 10 })).entries.length, 1);
    const throwing = notifyingAudit(
      audit,
      {
        emit: () => {
          throw new Error('boom');
        },
      },
      () => 1,
    );
    await throwing.append({ actor: 'sec', roles: [], action: 'breakglass.add', target: 'bg-1', outcome: 'ok' });
    assert.equal((await audit.page({ limit: 10 })).entries.length, 2);
  });
});
