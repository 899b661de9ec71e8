import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../src/log/logger.ts';
import { warmUp, warmupDisabled } from '../../src/runtime/warmup.ts';

function recordingLogger(): { logger: Logger; records: Array<{ level: string; fields: Record<string, unknown> }> } {
  const records: Array<{ level: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (fields: object): void =>
      void records.push({ level, fields: fields as Record<string, unknown> });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as Logger, records };
}

describe('the blob path warm-up', () => {
  it('streams blobs through a real blob proxy against its own synthetic upstream, and logs once at info', async () => {
    const { logger, records } = recordingLogger();
    const result = await warmUp(logger, { requests: 20, blobBytes: 256 * 1024, connections: 2, budgetMs: 10_000 });
    assert.ok(result !== undefined);
    assert.equal(result.requests, 20);
    assert.equal(result.failed, 0);
    assert.ok(result.bytes > 0);
    assert.deepEqual(
      records.map((r) => [r.level, r.fields['event']]),
      [['info', 'warmup']],
    );
  });

  it('TRUSTGATE_WARMUP=off (or 0, false, no) skips it; anything else keeps it', () => {
    for (const value of ['off', 'OFF', '0', 'false', 'no']) assert.equal(warmupDisabled({ TRUSTGATE_WARMUP: value }), true, value);
    for (const value of [undefined, '', 'on', '1']) assert.equal(warmupDisabled({ TRUSTGATE_WARMUP: value }), false, String(value));
  });
});
