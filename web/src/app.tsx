import { useEffect, useState } from 'preact/hooks';
import { can, currentSession, signOut, whenSignedOut, type Session } from './api.ts';
import { startLive, stopLive, useLiveStatus } from './live.ts';
import { navigate, onLinkClick, useRoute } from './router.ts';
import { HostPage } from './pages/host.tsx';
import { HostsPage } from './pages/hosts.tsx';
import { IncidentsPage } from './pages/incidents.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { SignInPage } from './pages/sign-in.tsx';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/hosts', label: 'Hosts' },
  { href: '/incidents', label: 'Incidents' },
];

/** The shell: who is signed in, navigation, the live connection's state, and the current page. */
export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    whenSignedOut((message) => {
      stopLive();
      setSession(null);
      setNotice(message);
    });
    currentSession().then((s) => setSession(s ?? null), () => setSession(null));
  }, []);
  useEffect(() => {
    if (session) startLive();
  }, [session]);
  useEffect(() => {
    const title = route.path === '/' ? 'Overview' : route.path.startsWith('/hosts/') ? 'Host' : NAV.find((n) => n.href === route.path)?.label;
    document.title = `${title ?? 'Sign in'} · Vigil`;
  }, [route.path]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) {
    return (
      <SignInPage
        notice={notice}
        onSignedIn={(s) => {
          setNotice(undefined);
          setSession(s);
          if (route.path === '/sign-in') navigate('/', true);
        }}
      />
    );
  }
  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          Vigil
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <a href={n.href} aria-current={isCurrent(route.path, n.href) ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <LiveIndicator />
        <div class="who">
          <span title={`scopes: ${session.scopes.join(', ')}`}>
            {session.name} <span class="muted">({can(session, 'write') ? 'admin' : session.scopes.join(', ')})</span>
          </span>
          <button
            type="button"
            onClick={async () => {
              await signOut();
              stopLive();
              setSession(null);
              navigate('/', true);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={route.path} query={route.query} session={session} />
      </main>
    </div>
  );
}

function isCurrent(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

function Page({ path, query, session }: { path: string; query: URLSearchParams; session: Session }) {
  const host = /^\/hosts\/([0-9a-f-]{36})$/.exec(path);
  if (host) return <HostPage key={host[1]} hostId={host[1]!} session={session} />;
  if (path === '/hosts') return <HostsPage query={query} session={session} />;
  if (path === '/incidents') return <IncidentsPage session={session} />;
  if (path === '/' || path === '/sign-in') return <OverviewPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{path}</code>. <a href="/">Go to the overview</a>.
      </p>
    </section>
  );
}

const LIVE_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Disconnected — reconnecting…', off: 'Offline' } as const;

function LiveIndicator() {
  const status = useLiveStatus();
  return (
    <p class={`live live-${status}`} role="status" data-live={status}>
      <span aria-hidden="true">{status === 'live' ? '●' : '○'}</span> {LIVE_TEXT[status]}
    </p>
  );
}
