import type { TrustSnapshot } from '../trust/types.ts';
import { entryJson, makeSnapshot, parseEntry, parseRevocation, revocationJson } from '../trust/trust-snapshot.ts';
import type { Revocation, TrustEntry } from '../trust/types.ts';

/*
 * Every change runs as one Lua script: the change, the version bump and the PUBLISH happen
 * atomically, and the script returns the whole store after it, so the writer's new snapshot is
 * exactly what it wrote. Trust stores are small (tens of keys), so whole-store replies are cheap.
 *
 * KEYS: 1 entries hash, 2 revoked hash, 3 version. ARGV: 1 channel, 2 the caller's version
 * ("mine"), 3 the caller's clock in ms ("floor"), then per script.
 *
 * The bump: normally version + 1. When the version is missing or behind the caller's (Redis lost
 * data: a restart without persistence, a failover to a lagging replica), the new version is
 * max(that, mine, floor) + 1. The clock floor puts it above every version any replica may still
 * hold with other contents, so a verdict cached under an old number is never read back for new
 * contents (as long as the store changes less than once per millisecond on average).
 */
const PRELUDE = `
local function bump()
  local cur = tonumber(redis.call('GET', KEYS[3]))
  local mine, floor = tonumber(ARGV[2]), tonumber(ARGV[3])
  local new
  if cur and cur >= mine then new = cur + 1 else new = math.max(cur or 0, mine, floor) + 1 end
  local text = string.format('%d', new)
  redis.call('SET', KEYS[3], text)
  redis.call('PUBLISH', ARGV[1], text)
end
local function state()
  return { redis.call('GET', KEYS[3]) or '0', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]) }
end
`;

export const LOAD = `${PRELUDE} return state()`;

/** ARGV 4..: id, json pairs. A revoked id is left alone (the tombstone wins); equal JSON is no change. */
export const UPSERT = `${PRELUDE}
local changed = false
for i = 4, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 and redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    changed = true
  end
end
if changed then bump() end
return state()`;

/**
 * ARGV 4..: id, json pairs from keys/. Like UPSERT, and an id whose stored entry has origin `api`
 * (created or changed through the admin API) is left alone too: the API wins over keys/. An
 * unreadable stored entry counts as not `api`, so keys/ may repair it.
 */
export const UPSERT_FILES = `${PRELUDE}
local function from_api(json)
  local ok, value = pcall(cjson.decode, json)
  return ok and type(value) == 'table' and value.origin == 'api'
end
local changed = false
for i = 4, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    local cur = redis.call('HGET', KEYS[1], ARGV[i])
    if cur ~= ARGV[i + 1] and not (cur and from_api(cur)) then
      redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
      changed = true
    end
  end
end
if changed then bump() end
return state()`;

/** ARGV 4: id, 5: tombstone JSON. The first tombstone stays; nothing ever deletes one. */
export const REVOKE = `${PRELUDE}
if redis.call('HSETNX', KEYS[2], ARGV[4], ARGV[5]) == 1 then bump() end
return state()`;

/**
 * Run after every (re)connect: writes back what this replica knows and Redis lacks. Tombstones
 * and entries only ever grow, so the union of what replicas hold is the store (an entry's
 * content: first writer wins). Bumps when anything was added or the version went missing/back.
 * ARGV 4: the number of tombstones, then tombstone id, json pairs, then entry id, json pairs.
 */
export const MERGE = `${PRELUDE}
local changed = false
local n = tonumber(ARGV[4])
for i = 5, 4 + 2 * n, 2 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then changed = true end
end
for i = 5 + 2 * n, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then changed = true end
end
local cur = tonumber(redis.call('GET', KEYS[3]))
if changed or not cur or cur < tonumber(ARGV[2]) then bump() end
return state()`;

export const upsertArgs = (entries: readonly TrustEntry[]): string[] => entries.flatMap((e) => [e.id, entryJson(e)]);
export const revokeArgs = (r: Revocation): string[] => [r.id, revocationJson(r)];

export function mergeArgs(s: TrustSnapshot): string[] {
  return [String(s.revocations.length), ...s.revocations.flatMap(revokeArgs), ...upsertArgs(s.entries)];
}

/** A decoded store, plus every stored entry id (readable or not) for the "never shrink" check. */
export interface Loaded {
  readonly snapshot: TrustSnapshot;
  readonly entryIds: ReadonlySet<string>;
  readonly unreadable: readonly string[];
}

function pairs(value: unknown): [string, string][] {
  const flat = Array.isArray(value) ? value.map(String) : [];
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] ?? '', flat[i + 1] ?? '']);
  return out;
}

export function decodeState(reply: unknown): Loaded {
  const [versionText, rawEntries, rawRevoked] = Array.isArray(reply) ? reply : [];
  const version = Number(versionText);
  const entries: TrustEntry[] = [];
  const unreadable: string[] = [];
  const entryIds = new Set<string>();
  for (const [id, json] of pairs(rawEntries)) {
    entryIds.add(id);
    const entry = parseEntry(id, json);
    if (entry === undefined) unreadable.push(id);
    else entries.push(entry);
  }
  const revocations = pairs(rawRevoked).map(([id, json]) => parseRevocation(id, json));
  return { snapshot: makeSnapshot(Number.isSafeInteger(version) ? version : 0, entries, revocations), entryIds, unreadable };
}
