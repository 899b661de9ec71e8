import type { Purpose, Revocation, TrustEntry, TrustKind, TrustSnapshot } from './types.ts';

const KINDS: readonly TrustKind[] = ['key', 'notation-root', 'sigstore-root', 'tsa'];
const PURPOSES: readonly Purpose[] = ['sign', 'scan'];
const ORIGINS: readonly TrustEntry['origin'][] = ['file', 'api'];

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isTime = (v: unknown): v is number | undefined => v === undefined || (typeof v === 'number' && Number.isFinite(v));

/** Why an entry is malformed, or undefined when it is well formed. */
export function entryProblem(e: Partial<Record<keyof TrustEntry, unknown>>): string | undefined {
  if (typeof e.id !== 'string' || e.id === '') return 'id must be a non-empty string';
  if (!KINDS.includes(e.kind as TrustKind)) return `kind must be one of ${KINDS.join(', ')}`;
  if (typeof e.pem !== 'string') return 'pem must be a string';
  if (e.trustedRoot !== undefined && (e.kind !== 'sigstore-root' || typeof e.trustedRoot !== 'string' || e.trustedRoot === '')) {
    return 'trustedRoot must be a non-empty string, and only for a sigstore-root';
  }
  if ((e.pem === '') === (e.trustedRoot === undefined)) {
    return e.kind === 'sigstore-root' ? 'a sigstore-root needs exactly one of pem and trustedRoot' : 'pem must be a non-empty string';
  }
  if (!isStrings(e.scopes)) return 'scopes must be strings';
  if (!isStrings(e.purposes) || !e.purposes.every((p) => PURPOSES.includes(p as Purpose))) return 'purposes must be sign or scan';
  if (!isTime(e.notBefore) || !isTime(e.notAfter)) return 'notBefore and notAfter must be epoch ms';
  if (!ORIGINS.includes(e.origin as TrustEntry['origin'])) return 'origin must be file or api';
  return undefined;
}

/** A frozen copy with a fixed field order: equal entries serialize to equal JSON (no-op upserts do not bump). */
export function normalizeEntry(e: TrustEntry): TrustEntry {
  const problem = entryProblem(e);
  if (problem !== undefined) throw new TypeError(`trust entry ${JSON.stringify(e.id)}: ${problem}`);
  return Object.freeze({
    id: e.id,
    kind: e.kind,
    pem: e.pem,
    ...(e.trustedRoot === undefined ? {} : { trustedRoot: e.trustedRoot }),
    scopes: Object.freeze([...e.scopes]),
    purposes: Object.freeze([...e.purposes]),
    ...(e.notBefore === undefined ? {} : { notBefore: e.notBefore }),
    ...(e.notAfter === undefined ? {} : { notAfter: e.notAfter }),
    origin: e.origin,
  });
}

export function checkRevoke(id: unknown, reason: unknown, at: unknown): void {
  if (typeof id !== 'string' || id === '' || typeof reason !== 'string' || typeof at !== 'number' || !Number.isFinite(at)) {
    throw new TypeError('revoke: id must be a non-empty string, reason a string and at epoch ms');
  }
}

/** `upsertFromFiles` takes what keys/ declares, nothing else (a programming error otherwise). */
export function checkFileEntries(entries: readonly TrustEntry[]): readonly TrustEntry[] {
  const other = entries.find((e) => e.origin !== 'file');
  if (other !== undefined)
    throw new TypeError(`upsertFromFiles: entry ${JSON.stringify(other.id)} has origin ${JSON.stringify(other.origin)}, not "file"`);
  return entries;
}

export const apiKeptMessage =
  'keys/ entries ignored: these ids were created or changed through the admin API, which wins over keys/ (keys/README.md)';

export const entryJson = (e: TrustEntry): string => JSON.stringify(normalizeEntry(e));

/** An entry read back from storage; undefined when unreadable (the key is then simply not trusted). */
export function parseEntry(id: string, json: string): TrustEntry | undefined {
  try {
    const value = JSON.parse(json) as TrustEntry;
    return value.id === id && entryProblem(value) === undefined ? normalizeEntry(value) : undefined;
  } catch {
    return undefined;
  }
}

export function revocationJson(r: Revocation): string {
  return JSON.stringify({ revokedAt: r.revokedAt, reason: r.reason });
}

/** A tombstone read back from storage. An unreadable one still revokes (fail closed). */
export function parseRevocation(id: string, json: string): Revocation {
  try {
    const { revokedAt, reason } = JSON.parse(json) as { revokedAt?: unknown; reason?: unknown };
    if (typeof revokedAt === 'number' && typeof reason === 'string') return Object.freeze({ id, revokedAt, reason });
  } catch {
    // fall through
  }
  return Object.freeze({ id, revokedAt: 0, reason: 'unreadable tombstone' });
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function makeSnapshot(version: number, entries: Iterable<TrustEntry>, revocations: Iterable<Revocation>): TrustSnapshot {
  return Object.freeze({
    version,
    entries: Object.freeze([...entries].sort(byId)),
    revocations: Object.freeze([...revocations].sort(byId)),
  });
}

/**
 * The entries a verifier may use at `now`: not revoked and inside their validity window.
 * A snapshot keeps the entries of revoked ids (so "signed by revoked key X" can be explained);
 * use this, not `snapshot.entries`, to decide what is trusted.
 */
export function activeEntries(snapshot: TrustSnapshot, now: number): TrustEntry[] {
  const revoked = new Set(snapshot.revocations.map((r) => r.id));
  return snapshot.entries.filter(
    (e) => !revoked.has(e.id) && (e.notBefore === undefined || now >= e.notBefore) && (e.notAfter === undefined || now < e.notAfter),
  );
}

/**
 * `stored` after `upsertFromFiles(files)`, as both stores apply it: a revoked id is left as it is
 * (and never added), an id stored with origin `api` keeps the stored entry, every other file entry
 * is taken. What `trustgate policy check --config` and `trustgate doctor` check against: the trust
 * store as a start will leave it.
 */
export function withFileEntries(stored: TrustSnapshot, files: readonly TrustEntry[]): TrustSnapshot {
  const revoked = new Set(stored.revocations.map((r) => r.id));
  const entries = new Map(stored.entries.map((e) => [e.id, e]));
  for (const entry of files) {
    if (revoked.has(entry.id) || entries.get(entry.id)?.origin === 'api') continue;
    entries.set(entry.id, entry);
  }
  return makeSnapshot(stored.version, entries.values(), stored.revocations);
}
