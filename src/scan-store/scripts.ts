// Lua for the scan store: each runs atomically, so two replicas posting or queueing the same
// digest at once cannot interleave. Layout in scan-keys.ts.

/**
 * KEYS: records, pending marker. ARGV: digest, record JSON, finishedAt, channel, message.
 * Keeps the stored record when it finished later than this one (an unreadable stored record is
 * replaced). Either way the digest is no longer pending. Returns 1 when stored (and published).
 */
export const PUT_RECORD = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local ok, old = pcall(cjson.decode, held)
  if ok and type(old) == 'table' and type(old.finishedAt) == 'number' and old.finishedAt > tonumber(ARGV[3]) then
    redis.call('DEL', KEYS[2])
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;

/**
 * KEYS: pending marker, stream. ARGV: requeueAfterMs, maxlen, group, digest, name, upstream,
 * requestedAt. Queues the request unless the digest is already pending; the marker then holds the
 * entry's id. The group is created with the stream, so no request is ever added before it.
 * Returns the stream id, or nil when already pending.
 */
export const REQUEST_SCAN = `
if not redis.call('SET', KEYS[1], 'queued', 'NX', 'PX', ARGV[1]) then return false end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[3], '$', 'MKSTREAM')
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
  'digest', ARGV[4], 'name', ARGV[5], 'upstream', ARGV[6], 'requestedAt', ARGV[7])
redis.call('SET', KEYS[1], id, 'XX', 'KEEPTTL')
return id`;
