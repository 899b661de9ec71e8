import type { UpstreamConfig } from '../config/types.ts';
import { allowedRealm } from './realm.ts';
import type { TokenCache } from './token-cache.ts';
import { fetchToken, type TokenEndpointDeps } from './token-endpoint.ts';
import { findChallenge, parseChallenges, type Challenge } from './www-authenticate.ts';

export interface AuthDeps extends TokenEndpointDeps {
  readonly cache: TokenCache;
}

interface BearerRealm {
  readonly realm: URL;
  readonly service: string;
}

/**
 * The credentials side of one upstream.
 *
 * - `anonymous`: nothing is sent until a challenge; a `Bearer` challenge is answered with a token
 *   fetched anonymously from the realm.
 * - `basic`: a `Basic` challenge is answered with Basic auth; a `Bearer` challenge by calling the
 *   realm with Basic auth.
 * - `bearer`: the static token is always sent.
 *
 * The last challenge seen is remembered, so later requests send the right header up front. Realms
 * go through `allowedRealm` before anything is sent to them.
 */
export class UpstreamAuth {
  readonly #deps: AuthDeps;
  #bearer: BearerRealm | undefined;
  #basicSeen = false;

  constructor(deps: AuthDeps) {
    this.#deps = deps;
  }

  get #config(): UpstreamConfig {
    return this.#deps.config;
  }

  /** Whether the upstream has told us how it wants to be authenticated, or needs no telling. */
  get settled(): boolean {
    return this.#bearer !== undefined || this.#basicSeen || this.#config.credentials.type === 'bearer';
  }

  /** The header to send for `scope` now; fetches a token if a Bearer challenge is known. */
  async header(scope: string): Promise<string | undefined> {
    const credentials = this.#config.credentials;
    if (credentials.type === 'bearer') return `Bearer ${credentials.token.reveal()}`;
    if (this.#bearer !== undefined) return this.#token(this.#bearer, scope);
    if (this.#basicSeen) return this.#basic();
    return undefined;
  }

  /** Remembers the challenges of a 401 (throws for a Bearer realm that is not allowed). */
  observe(wwwAuthenticate: string | undefined): Challenge | undefined {
    const challenges = parseChallenges(wwwAuthenticate ?? '');
    const bearer = findChallenge(challenges, 'bearer');
    if (bearer !== undefined) {
      const realm = allowedRealm(this.#config, bearer.params['realm']);
      this.#bearer = { realm, service: bearer.params['service'] ?? '' };
      return bearer;
    }
    const basic = findChallenge(challenges, 'basic');
    if (basic !== undefined) this.#basicSeen = true;
    return basic;
  }

  /**
   * After a 401 for a request that carried `sent`: the header to retry with, or undefined when
   * there is nothing different to try (the caller then hands the 401 on).
   */
  async answer(wwwAuthenticate: string | undefined, scope: string, sent: string | undefined): Promise<string | undefined> {
    if (this.#config.credentials.type === 'bearer') return undefined;
    const challenge = this.observe(wwwAuthenticate);
    if (challenge === undefined) return undefined;
    let next: string | undefined;
    if (challenge.scheme === 'bearer' && this.#bearer !== undefined) {
      if (sent?.startsWith('Bearer ') === true) this.#deps.cache.dropToken(scope, sent.slice('Bearer '.length));
      next = await this.#token(this.#bearer, scope);
    } else {
      next = this.#basic();
    }
    return next === sent ? undefined : next;
  }

  invalidate(scope: string): void {
    this.#deps.cache.invalidate(scope);
  }

  async #token(bearer: BearerRealm, scope: string): Promise<string> {
    const key = { realm: bearer.realm.href, service: bearer.service, scope };
    const token = await this.#deps.cache.get(key, () =>
      fetchToken(this.#deps, { realm: bearer.realm, service: bearer.service, scope, authorization: this.#basic() }),
    );
    return `Bearer ${token}`;
  }

  #basic(): string | undefined {
    const credentials = this.#config.credentials;
    if (credentials.type !== 'basic') return undefined;
    const pair = `${credentials.username}:${credentials.password.reveal()}`;
    return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  }
}
