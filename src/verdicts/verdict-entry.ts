import { createHash } from 'node:crypto';
import { storedRuleName, type Decision, type Reason } from '../decision/decision.ts';
import type { VerdictCacheOptions, VerdictKey } from './types.ts';

/** A verdict as both layers hold it: `expiresAt` is on the caller's clock, so tests can drive it. */
export interface CachedVerdict {
  readonly decision: Decision;
  readonly expiresAt: number;
}

/** sha256 over every key part, unambiguously encoded: never the digest alone (docs/integrity.md "Verdict keys"). */
export function verdictId(key: VerdictKey): string {
  const parts = ['v2', key.canonicalName, key.digest, key.mediaType, key.policyHash, key.trustVersion, key.identity ?? null];
  const encoded = JSON.stringify(parts);
  let id = VERDICT_IDS.get(encoded);
  if (id === undefined) {
    id = createHash('sha256').update(encoded).digest('hex');
    if (VERDICT_IDS.size >= VERDICT_IDS_MAX) VERDICT_IDS.clear();
    VERDICT_IDS.set(encoded, id);
  }
  return id;
}

/**
 * Ids of recent keys, by their encoding: a warm pull asks for the same key again and again, and its
 * sha256 took 3 µs of the 3.4 µs `verdictId` costs (about 1.5% of trustgate's CPU on a warm pull by
 * tag, bench profile of #15). Keyed by the whole encoding, the hashed text itself, so a hit is exactly
 * the hash it saves; a policy or trust change makes new keys, and the memo is emptied when full.
 */
const VERDICT_IDS = new Map<string, string>();
const VERDICT_IDS_MAX = 4096;

/** An allow or a warn (allowed by a rule in warn mode) lets the pull through; both are capped by notAfter. */
const lets = (decision: Decision): boolean => decision.outcome !== 'deny';

/** allow/warn: min(allowTtlMs, notAfter − now); deny: denyTtlMs. Undefined when it must not be kept. */
export function expiryOf(decision: Decision, now: number, options: VerdictCacheOptions): number | undefined {
  let ttl = lets(decision) ? options.allowTtlMs : options.denyTtlMs;
  if (lets(decision) && decision.notAfter !== undefined) ttl = Math.min(ttl, decision.notAfter - now);
  return ttl > 0 ? now + ttl : undefined;
}

/** Whether a cached verdict may answer for `key` at `now`. An allow (or warn) past its notAfter never does. */
export function isUsable(entry: CachedVerdict, key: VerdictKey, now: number): boolean {
  const { decision } = entry;
  if (decision.digest !== undefined && decision.digest !== key.digest) return false;
  return isCurrent(entry, now);
}

/** Unexpired at `now`, and for an allow (or warn) not past its notAfter. */
export function isCurrent(entry: CachedVerdict, now: number): boolean {
  if (now >= entry.expiresAt) return false;
  return !lets(entry.decision) || entry.decision.notAfter === undefined || now < entry.decision.notAfter;
}

/** A cached verdict that still lets its pull through: what an allowance derived from it needs. */
export function stillAllows(entry: CachedVerdict | undefined, now: number): boolean {
  return entry !== undefined && lets(entry.decision) && isCurrent(entry, now);
}

export function validateOptions(options: VerdictCacheOptions): void {
  const { allowTtlMs, denyTtlMs, memoryEntries } = options;
  if (!Number.isSafeInteger(allowTtlMs) || allowTtlMs <= 0) throw new TypeError('verdict cache: allowTtlMs must be a positive integer');
  if (!Number.isSafeInteger(denyTtlMs) || denyTtlMs < 0) throw new TypeError('verdict cache: denyTtlMs must be an integer ≥ 0');
  if (!Number.isSafeInteger(memoryEntries) || memoryEntries <= 0)
    throw new TypeError('verdict cache: memoryEntries must be a positive integer');
}

export function encodeVerdict(entry: CachedVerdict): string {
  return JSON.stringify({ expiresAt: entry.expiresAt, decision: entry.decision });
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'number' && Number.isFinite(v));

/** Reads a stored verdict back; anything malformed is a miss (the caller verifies again). */
export function decodeVerdict(json: string): CachedVerdict | undefined {
  let value: { expiresAt?: unknown; decision?: Record<string, unknown> };
  try {
    value = JSON.parse(json) as typeof value;
  } catch {
    return undefined;
  }
  const d = value.decision;
  if (typeof value.expiresAt !== 'number' || typeof d !== 'object' || d === null) return undefined;
  const { outcome, rule, reasons, signers, digest, notAfter } = d;
  if ((outcome !== 'allow' && outcome !== 'deny' && outcome !== 'warn') || !isString(rule) || !isTime(notAfter)) return undefined;
  if (!Array.isArray(signers) || !signers.every(isString) || !(digest === undefined || digest === null || isString(digest)))
    return undefined;
  if (!Array.isArray(reasons) || !reasons.every((r: Partial<Reason>) => isString(r?.code) && isString(r?.message))) return undefined;
  const decision: Decision = {
    outcome,
    rule: storedRuleName(rule),
    reasons: reasons as Reason[],
    signers: signers as string[],
    digest: (digest ?? undefined) as Decision['digest'],
    notAfter: (notAfter ?? undefined) as number | undefined,
  };
  return { expiresAt: value.expiresAt, decision };
}
