import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { href } from '../router.ts';
import { completeSignIn, loadConsoleConfig, oidcOf, SignInError } from '../oidc.ts';
import type { Session } from '../session.ts';

/**
 * The OIDC redirect URI (under /admin/ui/): the code and state leave the address bar at once
 * (history.replaceState), whatever happens next; then every check in oidc.ts and the code exchange.
 */
export function CallbackPage(props: { onSignIn: (session: Session) => void }): JSX.Element {
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const once = useRef(false);
  useEffect(() => {
    if (once.current) return;
    once.current = true;
    const here = new URL(window.location.href);
    window.history.replaceState(null, '', here.pathname); // drop code, state, iss from the URL and history
    (async () => {
      const oidc = oidcOf(await loadConsoleConfig());
      if (oidc === undefined) throw new SignInError('trustgate has no OIDC sign-in configured for the console.');
      props.onSignIn(await completeSignIn(oidc, here));
    })().catch((e: unknown) => setProblem(e instanceof SignInError ? e.message : 'The sign-in could not be completed.'));
  }, []);
  return (
    <main id="main" class="sign-in">
      <h1>Signing in</h1>
      {problem === undefined ? (
        <p role="status">Checking the identity provider&apos;s answer…</p>
      ) : (
        <>
          <p class="problem" role="alert" data-testid="sign-in-problem">
            {problem}
          </p>
          <p>
            <a href={href('/')}>Back to sign in</a>
          </p>
        </>
      )}
    </main>
  );
}
