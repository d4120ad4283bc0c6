import { useState } from 'preact/hooks';
import { ApiError, signIn, type Session } from '../api.ts';

/**
 * Sign in with an API token (read scope at least). The token goes to POST /api/session once; the
 * page keeps only the HttpOnly cookie the answer sets, never the token.
 */
export function SignInPage(props: { notice: string | undefined; onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await signIn(token.trim()));
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="sign-in" id="main">
      <form onSubmit={submit} aria-describedby="sign-in-help">
        <h1>Sign in to Vigil</h1>
        {props.notice && !error && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'sign-in-error' : undefined}
        />
        <p id="sign-in-help" class="muted">
          A token with the <code>read</code> scope shows the fleet; <code>check</code> adds Check now; <code>admin</code> adds every action. Create one with{' '}
          <code>npm run vigil -- token create --name me --scope read</code>.
        </p>
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function message(err: unknown): string {
  if (err instanceof ApiError && err.status === 401) return 'That token was not accepted: it is unknown, revoked or expired. Check it and try again.';
  if (err instanceof ApiError && err.status === 403) return 'That token cannot read the fleet: the dashboard needs a token with the read (or admin) scope.';
  if (err instanceof ApiError) return err.message;
  return 'Vigil could not be reached. Is it running?';
}
