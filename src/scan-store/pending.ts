import type { RedisClient } from '../redis/connection.ts';
import { decodeRequest } from './codec.ts';
import type { ScanKeys } from './keys.ts';
import { checkLimit } from './options.ts';
import type { ScanRequest } from './types.ts';

const PAGE = 200;

/**
 * The requests still pending, in stream (request) order: an entry counts while its digest's
 * marker holds that entry's id. An entry whose digest was scanned since, or whose marker expired,
 * or a superseded one (re-queued after expiry) is skipped. Reads the stream in pages; it is
 * bounded by MAXLEN.
 */
export async function livePending(redis: RedisClient, keys: ScanKeys, limit: number): Promise<ScanRequest[]> {
  checkLimit(limit);
  const out: ScanRequest[] = [];
  let start = '-';
  while (out.length < limit) {
    const page = await redis.xrange(keys.stream, start, '+', 'COUNT', PAGE);
    if (page.length === 0) break;
    const entries = page.flatMap(([id, fields]) => {
      const request = decodeRequest(fields);
      return request === undefined ? [] : [{ id, request }];
    });
    const markers = entries.length === 0 ? [] : await redis.mget(...entries.map((e) => keys.pendingOf(e.request.digest)));
    entries.forEach((entry, i) => {
      if (markers[i] === entry.id && out.length < limit) out.push(entry.request);
    });
    start = `(${page[page.length - 1]?.[0] ?? ''}`;
    if (page.length < PAGE) break;
  }
  return out;
}
