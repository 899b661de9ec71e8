import { Cluster } from 'ioredis';
import type { Digest } from '../oci/reference.ts';
import type { RedisClient } from '../redis/connection.ts';

/**
 * Redis layout of scan records and the scan queue (`<prefix>` is the store's option, after any
 * ioredis keyPrefix):
 *
 *   <prefix>scan:records           HASH   digest → ScanRecord JSON; a record only ever gives way to
 *                                         one with a later (or equal) finishedAt, in a Lua script
 *   <prefix>scan:pending:<digest>  STRING the stream id of the request that queued the digest,
 *                                         PX requeueAfterMs: queued once while it lives, again
 *                                         after it expires with no scan; a put DELs it
 *   <prefix>scan-requests          STREAM fields digest, name, upstream, requestedAt;
 *                                         MAXLEN ~ maxQueueLength; consumer group `scanners`
 *   <prefix>scan:posted            pub/sub channel (ioredis keyPrefix included): "<digest> <origin>",
 *                                         origin = the posting store's id, so it skips its own echo
 *
 * Records have no TTL. The scripts touch several of these keys at once, so in a Redis Cluster the
 * prefix must hold a hash tag, e.g. `{trustgate}:` (the trust store needs one too).
 */
export interface ScanKeys {
  readonly records: string;
  readonly stream: string;
  pendingOf(digest: Digest): string;
  /** Channels get no ioredis keyPrefix, so it is added here: deployments sharing a Redis stay apart. */
  readonly channel: string;
}

/** The consumer group every scanner reads the stream through. */
export const SCANNERS_GROUP = 'scanners';

export function scanKeys(redis: RedisClient, prefix: string): ScanKeys {
  const clientPrefix = redis.options.keyPrefix ?? '';
  if (redis instanceof Cluster && !/\{[^}]+\}/.test(clientPrefix + prefix)) {
    throw new TypeError(`scan store prefix ${JSON.stringify(prefix)}: Redis Cluster needs a hash tag in it, e.g. "{trustgate}:"`);
  }
  return {
    records: `${prefix}scan:records`,
    stream: `${prefix}scan-requests`,
    pendingOf: (digest) => `${prefix}scan:pending:${digest}`,
    channel: `${clientPrefix}${prefix}scan:posted`,
  };
}

// In a script, because ioredis does not add its keyPrefix to XGROUP's key (a subcommand's argument).
const CREATE_GROUP = `
local reply = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
if type(reply) == 'table' and reply.err and not string.find(reply.err, 'BUSYGROUP') then return reply end
return 1`;

/** Creates the group (and the stream) unless it exists. `$`: a new group starts at the end. */
export async function ensureGroup(redis: RedisClient, stream: string): Promise<void> {
  await redis.eval(CREATE_GROUP, 1, stream, SCANNERS_GROUP);
}
