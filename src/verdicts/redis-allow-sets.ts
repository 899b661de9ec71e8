import { createHash } from 'node:crypto';
import { noopLogger, type Logger } from '../log/logger.ts';
import { isDigest, type Digest } from '../oci/reference.ts';
import {
  checkGrant,
  createMemoryAllowSets,
  MAX_GRANTS_PER_DIGEST,
  pickAllowance,
  type MemoryAllowSetsOptions,
} from './memory-allow-sets.ts';
import type { RedisClient } from '../redis/connection.ts';
import { createFailureLog } from '../redis/throttled-log.ts';
import type { Allowance, AllowSets, Liveness } from './types.ts';

/**
 * Redis layout: one HASH per (kind, generation, canonical name, digest),
 *   <prefix>allow2:<blob|child>:<h>   source → JSON {e: expiresAt, f?: format, s?: size, i?: index}
 * with `<h>` the sha256 of JSON [generation, name, digest]. `allow2:` is new with provenance: the
 * older `allow:` sets carry none, and no replica of this version reads them, so a rolling upgrade
 * cannot revive them. A grant only ever extends its own source's expiry; each key's TTL is the
 * longest grant it holds; past MAX_GRANTS_PER_DIGEST, the soonest-expiring checked grant goes, else
 * the soonest-expiring one (as in memory-allow-sets.ts). Failures
 * never throw: a failed lookup finds nothing (fail closed) beyond this replica's own grants.
 */
const GRANT = `
local now = tonumber(ARGV[1])
local expires = tonumber(ARGV[2])
local ttl = expires - now
for i = 1, #KEYS do
  local value = ARGV[2 + i]
  local source = ARGV[2 + #KEYS + 1]
  local old = redis.call('HGET', KEYS[i], source)
  if (not old) or cjson.decode(old).e < expires then redis.call('HSET', KEYS[i], source, value) end
  if redis.call('HLEN', KEYS[i]) > ${MAX_GRANTS_PER_DIGEST} then
    local fields = redis.call('HGETALL', KEYS[i])
    local soonest, soonestAt, checked, checkedAt = nil, nil, nil, nil
    for j = 1, #fields, 2 do
      local grant = cjson.decode(fields[j + 1])
      local at = grant.e
      if at <= now then redis.call('HDEL', KEYS[i], fields[j])
      else
        if soonestAt == nil or at < soonestAt then soonest, soonestAt = fields[j], at end
        if grant.f ~= nil and (checkedAt == nil or at < checkedAt) then checked, checkedAt = fields[j], at end
      end
    end
    local victim = checked or soonest
    if redis.call('HLEN', KEYS[i]) > ${MAX_GRANTS_PER_DIGEST} and victim then redis.call('HDEL', KEYS[i], victim) end
  end
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`;

export interface RedisAllowSetsOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger?: Logger;
  /** The local copy of this replica's own grants. */
  readonly local?: MemoryAllowSetsOptions;
}

export function createRedisAllowSets(options: RedisAllowSetsOptions): AllowSets {
  const { redis, prefix } = options;
  const logger = options.logger ?? noopLogger;
  const now = options.local?.now ?? Date.now;
  const local = createMemoryAllowSets(options.local);
  const failures = createFailureLog(logger, "allow sets: redis failed; using only this replica's own grants");
  const keyOf = (kind: 'blob' | 'child', generation: string, name: string, digest: Digest): string =>
    `${prefix}allow2:${kind}:${createHash('sha256')
      .update(JSON.stringify([generation, name, digest]))
      .digest('hex')}`;

  async function grant(keys: readonly string[], values: readonly string[], source: string, expiresAt: number): Promise<void> {
    const at = now();
    if (keys.length === 0 || expiresAt <= at) return;
    try {
      await redis.eval(GRANT, keys.length, ...keys, String(at), String(Math.ceil(expiresAt)), ...values, source);
      failures.reset();
    } catch (error) {
      failures.failed(error, { op: 'grant' });
    }
  }
  async function shared(key: string, live: Liveness): Promise<Allowance | undefined> {
    let fields: Record<string, string>;
    try {
      fields = await redis.hgetall(key);
    } catch (error) {
      failures.failed(error, { op: 'lookup' });
      return undefined;
    }
    return pickAllowance(
      Object.entries(fields).flatMap(([source, json]) => decode(source, json)),
      now(),
      live,
    );
  }
  /** This replica's own grants first (no round trip); Redis when they hold nothing that streams. */
  async function find(
    kind: 'blob' | 'child',
    generation: string,
    name: string,
    digest: Digest,
    live: Liveness,
  ): Promise<Allowance | undefined> {
    const mine = await (kind === 'blob'
      ? local.blobAllowance(generation, name, digest, live)
      : local.childAllowance(generation, name, digest, live));
    if (mine !== undefined && mine.format === undefined) return mine;
    return (await shared(keyOf(kind, generation, name, digest), live)) ?? mine;
  }

  return {
    async grantBlobs(generation, canonicalName, blobs, g) {
      checkGrant(g);
      await local.grantBlobs(generation, canonicalName, blobs, g);
      const values = blobs.map((b) =>
        JSON.stringify({ e: Math.ceil(g.expiresAt), ...(b.format === undefined ? {} : { f: b.format, s: b.size }) }),
      );
      await grant(
        blobs.map((b) => keyOf('blob', generation, canonicalName, b.digest)),
        values,
        g.source,
        g.expiresAt,
      );
    },
    blobAllowance: (generation, canonicalName, blob, live) => find('blob', generation, canonicalName, blob, live),
    async grantChildren(generation, canonicalName, index, children, g) {
      checkGrant(g);
      await local.grantChildren(generation, canonicalName, index, children, g);
      const value = JSON.stringify({ e: Math.ceil(g.expiresAt), i: index });
      await grant(
        children.map((c) => keyOf('child', generation, canonicalName, c)),
        children.map(() => value),
        g.source,
        g.expiresAt,
      );
    },
    childAllowance: (generation, canonicalName, child, live) => find('child', generation, canonicalName, child, live),
    async close() {
      await local.close();
    },
  };
}

/** A stored grant back; anything malformed is dropped (never an allowance). */
function decode(source: string, json: string): Allowance[] {
  try {
    const v = JSON.parse(json) as { e?: unknown; f?: unknown; s?: unknown; i?: unknown };
    if (typeof v.e !== 'number') return [];
    if (v.f !== undefined && (typeof v.f !== 'string' || typeof v.s !== 'number')) return [];
    if (v.i !== undefined && (typeof v.i !== 'string' || !isDigest(v.i))) return [];
    return [
      {
        source,
        expiresAt: v.e,
        ...(typeof v.f === 'string' ? { format: v.f, size: v.s as number } : {}),
        ...(typeof v.i === 'string' ? { index: v.i as Digest } : {}),
      },
    ];
  } catch {
    return [];
  }
}
