/**
 * Docker registry tokens cached per (realm, service, scope) until `issued_at + expires_in` minus a
 * safety margin. Concurrent callers for one key share a single in-flight fetch.
 */

export interface TokenKey {
  readonly realm: string;
  readonly service: string;
  readonly scope: string;
}

export interface IssuedToken {
  readonly token: string;
  /** Epoch milliseconds after which the token must not be used (before the safety margin). */
  readonly expiresAt: number;
}

export interface TokenCacheOptions {
  readonly now?: () => number;
  /** Subtracted from the lifetime; capped at half the lifetime so short tokens are still reused. */
  readonly marginMs?: number;
  /** Entries kept at most; the oldest is evicted first. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly key: TokenKey;
  readonly token: string;
  readonly usableUntil: number;
}

export class TokenCache {
  readonly #now: () => number;
  readonly #marginMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(options: TokenCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#marginMs = options.marginMs ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 1_000;
  }

  /** A usable cached token, without fetching. */
  peek(key: TokenKey): string | undefined {
    const id = idOf(key);
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (this.#now() < entry.usableUntil) return entry.token;
    this.#entries.delete(id);
    return undefined;
  }

  /** The cached token, or the result of `fetch` (shared with concurrent callers for the same key). */
  get(key: TokenKey, fetch: () => Promise<IssuedToken>): Promise<string> {
    const cached = this.peek(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const id = idOf(key);
    const pending = this.#inflight.get(id);
    if (pending !== undefined) return pending;
    const started = this.#now();
    const promise = (async () => {
      try {
        const issued = await fetch();
        this.#store(id, key, issued, started);
        return issued.token;
      } finally {
        this.#inflight.delete(id);
      }
    })();
    this.#inflight.set(id, promise);
    return promise;
  }

  /** Drops `token` for `scope` if it is still cached (a 401 showed it no longer works). */
  dropToken(scope: string, token: string): void {
    for (const [id, entry] of this.#entries) {
      if (entry.key.scope === scope && entry.token === token) this.#entries.delete(id);
    }
  }

  /** Drops every cached token for `scope`, whatever realm issued it. */
  invalidate(scope: string): void {
    for (const [id, entry] of this.#entries) {
      if (entry.key.scope === scope) this.#entries.delete(id);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  #store(id: string, key: TokenKey, issued: IssuedToken, started: number): void {
    const lifetime = issued.expiresAt - started;
    const usableUntil = issued.expiresAt - Math.min(this.#marginMs, Math.max(0, lifetime) / 2);
    if (usableUntil <= this.#now()) return;
    this.#entries.delete(id);
    this.#entries.set(id, { key, token: issued.token, usableUntil });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }
}

function idOf(key: TokenKey): string {
  return JSON.stringify([key.realm, key.service, key.scope]);
}

/**
 * When a token response expires, per the Docker token spec: `issued_at + expires_in`, where
 * `expires_in` defaults to 60 s and `issued_at` to the time of the request. An `issued_at` in the
 * future (clock skew) is clamped to `requestedAt`.
 */
export function expiryOf(expiresIn: unknown, issuedAt: unknown, requestedAt: number): number {
  const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 60;
  const parsed = typeof issuedAt === 'string' ? Date.parse(issuedAt) : Number.NaN;
  const issued = Number.isNaN(parsed) ? requestedAt : Math.min(parsed, requestedAt);
  return issued + seconds * 1000;
}
