// Answers a registry's 401 for the push tools: Basic (distribution's htpasswd) or the Docker
// token flow (distribution spec "token authentication"), with the user's credentials if any.
import { fetch, type Dispatcher } from 'undici';
import { findChallenge, parseChallenges } from '../upstream/www-authenticate.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The Authorization value to retry with after this 401, or an Error saying why there is none. */
export async function answerChallenge(
  header: string | null,
  registry: URL,
  repository: string,
  credentials: Credentials | undefined,
  dispatcher: Dispatcher,
): Promise<string> {
  const challenges = parseChallenges(header ?? '');
  const basicValue =
    credentials === undefined ? undefined : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const bearer = findChallenge(challenges, 'bearer');
  if (bearer !== undefined) {
    const realm = bearer.params['realm'];
    if (realm === undefined) throw new Error('the registry asked for a Bearer token without a realm');
    const url = new URL(realm);
    // Credentials go to a realm over HTTPS, or in the clear only to the registry's own host.
    const sendCredentials = basicValue !== undefined && (url.protocol === 'https:' || url.hostname === registry.hostname);
    if (bearer.params['service'] !== undefined) url.searchParams.set('service', bearer.params['service']);
    url.searchParams.set('scope', `repository:${repository}:pull,push`);
    const res = await fetch(url, { headers: sendCredentials ? { authorization: basicValue } : {}, dispatcher });
    if (res.status !== 200)
      throw new Error(
        `token endpoint ${url.origin}${url.pathname} answered ${res.status}${credentials === undefined ? ' (no --username given)' : ''}`,
      );
    const body = (await res.json()) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') throw new Error(`token endpoint ${url.origin}${url.pathname} returned no token`);
    return `Bearer ${token}`;
  }
  if (findChallenge(challenges, 'basic') !== undefined) {
    if (basicValue === undefined) throw new Error('the registry requires a login: pass --username and --password-env VAR');
    return basicValue;
  }
  throw new Error(`the registry answered 401 with an unsupported challenge ${JSON.stringify((header ?? '').slice(0, 80))}`);
}
