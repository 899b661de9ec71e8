import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { authorizationUrl, loadConsoleConfig, oidcOf, redirectProblem, type OidcConfig } from '../oidc.ts';
import { readToken, type Session } from '../session.ts';

/**
 * Sign-in by pasting an admin token (e.g. from `trustgate token mint` or your identity provider).
 * The token stays in this tab (sessionStorage) and goes only to this origin's /admin/v1.
 */
export function SignInPage(props: { notice: string | undefined; onSignIn: (session: Session) => void }): JSX.Element {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [oidc, setOidc] = useState<OidcConfig | undefined>(undefined);
  const [oidcProblem, setOidcProblem] = useState<string | undefined>(undefined);
  useEffect(() => {
    loadConsoleConfig().then(
      (config) => {
        const found = oidcOf(config);
        if (found === undefined) return;
        const wrong = redirectProblem(found);
        if (wrong === undefined) setOidc(found);
        else setOidcProblem(`OIDC sign-in is configured but cannot work here: ${wrong}`);
      },
      () => undefined, // the pasted-token form still works
    );
  }, []);
  const startOidc = async (): Promise<void> => {
    if (oidc === undefined) return;
    window.location.assign(await authorizationUrl(oidc));
  };
  const submit = (event: Event): void => {
    event.preventDefault();
    const session = readToken(token);
    if (typeof session === 'string') {
      setProblem(session);
      return;
    }
    setToken('');
    props.onSignIn(session);
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to the trustgate console</h1>
      {props.notice === undefined ? null : (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      {oidc === undefined ? null : (
        <section aria-labelledby="oidc-heading" class="oidc">
          <h2 id="oidc-heading">With your identity provider</h2>
          <p class="help">
            Signs in at <code>{oidc.issuer}</code> and comes back here with an access token for trustgate&apos;s admin API.
          </p>
          <button type="button" onClick={() => void startOidc()}>
            Sign in with your identity provider
          </button>
          <h2>Or with a token</h2>
        </section>
      )}
      {oidcProblem === undefined ? null : <p class="problem">{oidcProblem}</p>}
      <form onSubmit={submit} noValidate>
        <label for="token">Admin token</label>
        <p id="token-help" class="help">
          Paste a bearer token for the admin API (for example from <code>trustgate token mint</code>). It is kept in this tab only and sent
          only to this server&apos;s admin API.
        </p>
        <textarea
          id="token"
          name="token"
          rows={5}
          spellcheck={false}
          autocomplete="off"
          aria-describedby={problem === undefined ? 'token-help' : 'token-help token-problem'}
          aria-invalid={problem !== undefined}
          value={token}
          onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)}
        />
        {problem === undefined ? null : (
          <p id="token-problem" class="problem" role="alert">
            {problem}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
