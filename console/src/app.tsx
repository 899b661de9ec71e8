import type { JSX } from 'preact';
import type { Api } from './api.ts';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createApi } from './api.ts';
import { Link } from './components.tsx';
import { formatTime, relative } from './format.ts';
import { isAuthorizationResponse } from './oidc.ts';
import { AuditPage } from './pages/audit.tsx';
import { BreakGlassPage } from './pages/break-glass.tsx';
import { CallbackPage } from './pages/callback.tsx';
import { ExplainPage } from './pages/explain.tsx';
import { KeysPage } from './pages/keys.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { PolicyPage } from './pages/policy.tsx';
import { ScansPage } from './pages/scans.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { may, type Action } from './roles.ts';
import { href, navigate, useLocation } from './router.ts';
import { clearSession, loadSession, saveSession, type Session } from './session.ts';

/** What every page is given. */
interface PageProps {
  readonly api: Api;
  readonly session: Session;
  readonly params: URLSearchParams;
}

interface PageEntry {
  readonly path: string;
  readonly title: string;
  /** The role check for showing the page in the nav at all. */
  readonly needs: Action;
  readonly render: (props: PageProps) => JSX.Element;
}

/** The console's routes, in nav order. A new page is one line here. */
const PAGES: readonly PageEntry[] = [
  { path: '/overview', title: 'Overview', needs: 'overview.read', render: (p) => <OverviewPage {...p} /> },
  { path: '/explain', title: 'Explain', needs: 'explain', render: (p) => <ExplainPage {...p} /> },
  { path: '/breakglass', title: 'Break glass', needs: 'breakglass.read', render: (p) => <BreakGlassPage {...p} /> },
  { path: '/keys', title: 'Keys and roots', needs: 'keys.read', render: (p) => <KeysPage {...p} /> },
  { path: '/policy', title: 'Policy', needs: 'policy.read', render: (p) => <PolicyPage {...p} /> },
  { path: '/scans', title: 'Scans', needs: 'scans.read', render: (p) => <ScansPage {...p} /> },
  { path: '/audit', title: 'Audit', needs: 'audit.read', render: (p) => <AuditPage {...p} /> },
];

/** The landing page: the first page in the table the roles may see (Overview for every reading role). */
function home(session: Session): string {
  return (PAGES.find((p) => may(session, p.needs)) ?? PAGES[0]!).path;
}

export function App(): JSX.Element {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const location = useLocation();
  const sessionRef = useRef(session);
  sessionRef.current = session;

  const signOut = (message?: string): void => {
    clearSession();
    setSession(undefined);
    setNotice(message);
  };
  const api = useMemo(
    () =>
      createApi(
        () => sessionRef.current?.token,
        (message) => signOut(`Signed out: trustgate refused the token (${message}).`),
      ),
    [],
  );

  // Sign out when the token expires, rather than on the next refused call.
  useEffect(() => {
    if (session === undefined) return;
    // setTimeout holds at most 2^31-1 ms (about 24 days): a longer-lived token is checked again then.
    const delay = Math.min(Math.max(0, session.expires - Date.now()), 2_147_483_647);
    const timer = window.setTimeout(() => {
      if (Date.now() >= session.expires) signOut('Signed out: the token expired.');
      else setSession({ ...session });
    }, delay);
    return () => window.clearTimeout(timer);
  }, [session]);

  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    // After a route change, focus the page's heading region so a screen reader announces the new page.
    if (document.activeElement !== document.body) main.current?.focus();
  }, [location.page]);

  const page = location.page === '/' && session !== undefined ? home(session) : location.page;
  const entry = PAGES.find((p) => p.path === page);
  useEffect(() => {
    document.title = session === undefined ? 'Sign in · trustgate console' : `${entry?.title ?? 'Not found'} · trustgate console`;
  }, [entry, session]);

  if (session === undefined) {
    if (isAuthorizationResponse(location.params))
      return (
        <CallbackPage
          onSignIn={(s) => {
            saveSession(s);
            setNotice(undefined);
            setSession(s);
            navigate(href('/'), true);
          }}
        />
      );
    return (
      <SignInPage
        notice={notice}
        onSignIn={(s) => {
          saveSession(s);
          setNotice(undefined);
          setSession(s);
        }}
      />
    );
  }

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">trustgate console</span>
        <Who session={session} />
        <button type="button" class="secondary" onClick={() => signOut('Signed out.')}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console">
        <ul>
          {PAGES.filter((p) => may(session, p.needs)).map((p) => (
            <li key={p.path}>
              <Link href={href(p.path)} current={p.path === page}>
                {p.title}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} ref={main}>
        {entry === undefined ? (
          <>
            <h1>Not found</h1>
            <p>The console has no page here.</p>
          </>
        ) : (
          entry.render({ api, session, params: location.params })
        )}
      </main>
    </>
  );
}

function Who(props: { session: Session }): JSX.Element {
  const { session } = props;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(timer);
  }, []);
  return (
    <section class="who" aria-label="Signed in as">
      <span>
        Signed in as <strong data-testid="who-subject">{session.subject}</strong>
      </span>
      <span>
        Roles: <span data-testid="who-roles">{session.roles.length === 0 ? 'none' : session.roles.join(', ')}</span>
      </span>
      <span>
        Token expires <time dateTime={new Date(session.expires).toISOString()}>{formatTime(session.expires)}</time> (
        {relative(session.expires, now)})
      </span>
    </section>
  );
}
