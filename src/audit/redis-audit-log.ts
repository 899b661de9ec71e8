import { TrustgateError } from '../errors/errors.ts';
import { noopLogger, type Logger } from '../log/logger.ts';
import type { RedisClient } from '../redis/connection.ts';
import { logEntry, makeEntry } from './audit-entry.ts';
import { collectPage } from './audit-page.ts';
import type { AuditEntry, AuditLog } from './types.ts';

export interface RedisAuditLogOptions {
  readonly redis: RedisClient;
  /** The stream is `<prefix>audit` (after any ioredis keyPrefix). */
  readonly prefix: string;
  /** XADD … MAXLEN ~ maxEntries: Redis trims whole nodes, so slightly more may be kept. */
  readonly maxEntries: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/**
 * The shared audit log: the Redis stream `<prefix>audit`, one field `entry` holding the entry's
 * JSON (everything but the id, which is the stream id). Every replica appends to it, so any
 * replica pages through all of it.
 */
export function createRedisAuditLog(options: RedisAuditLogOptions): AuditLog {
  const { redis, maxEntries } = options;
  const logger = options.logger ?? noopLogger;
  const now = options.now ?? Date.now;
  const stream = `${options.prefix}audit`;

  return {
    async append(event) {
      const time = now();
      const entry = makeEntry('', time, event);
      const { id: _none, ...stored } = entry;
      let id: string | undefined;
      try {
        id = (await redis.xadd(stream, 'MAXLEN', '~', String(maxEntries), '*', 'entry', JSON.stringify(stored))) ?? undefined;
      } catch (error) {
        logger.error(
          { event: 'audit_store_failed', action: entry.action, err: error instanceof Error ? error.message : String(error) },
          'audit entry not stored in redis; it is in this log only',
        );
      }
      logEntry(logger, id === undefined ? stored : { ...stored, id });
    },
    page: (query) =>
      collectPage(query, async (before, count) => {
        let rows: [string, string[]][];
        try {
          rows = await redis.xrevrange(stream, before === undefined ? '+' : `(${before}`, '-', 'COUNT', count);
        } catch (error) {
          throw new TrustgateError('STORE_UNAVAILABLE', 'the audit log is unavailable (Redis failed); retry when Redis is back', {
            cause: error,
          });
        }
        return rows.map(([id, fields]) => decode(id, fields));
      }),
  };
}

function decode(id: string, fields: readonly string[]): AuditEntry {
  const json = fields[fields.indexOf('entry') + 1];
  try {
    const value = JSON.parse(json ?? '') as Omit<AuditEntry, 'id'>;
    return { ...value, id };
  } catch {
    return {
      id,
      time: Number(id.split('-')[0]),
      actor: '',
      roles: [],
      action: 'unreadable',
      target: '',
      outcome: 'error',
      message: 'unreadable audit entry',
    };
  }
}
