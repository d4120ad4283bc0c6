/**
 * The dashboard's one API client: openapi-fetch over the types openapi-typescript generates from
 * openapi.yaml (src/api/openapi-types.d.ts, written by `npm run openapi`). No URL strings elsewhere: a
 * breaking change to the contract fails the dashboard's type check.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from '../../src/api/openapi-types.d.ts';

export type Schemas = components['schemas'];
export type Host = Schemas['Host'];
export type HostState = Schemas['HostState'];
export type Incident = Schemas['Incident'];
export type Session = Schemas['Session'];
export type Scope = Session['scopes'][number];

/** This client speaks JSON: answers in application/json, problems in application/problem+json. */
type JsonMedia = 'application/json' | 'application/problem+json';

let csrfToken: string | null = null;
/** Whether this page holds a session: only then does a 401 mean "it ended". */
let signedIn = false;
/** Called when any answer says the session has ended (401): the app shows the sign-in page. */
let onSignedOut: (message: string) => void = () => {};

export const api = createClient<paths, JsonMedia>({ baseUrl: location.origin, credentials: 'same-origin' });

api.use({
  onRequest({ request }) {
    // Cookie-authenticated writes must carry the session's CSRF value (a cross-site form cannot).
    if (request.method !== 'GET' && csrfToken && !request.headers.has('authorization')) request.headers.set('x-vigil-csrf', csrfToken);
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status === 401 && signedIn && !request.headers.has('authorization')) {
      signedIn = false;
      const problem = (await response.clone().json().catch(() => ({}))) as { detail?: string };
      onSignedOut(problem.detail ?? 'Your session has ended: sign in again.');
    }
    return response;
  },
});

export function whenSignedOut(handler: (message: string) => void): void {
  onSignedOut = handler;
}

/** A failed call: the status and the problem's detail, which names what to fix. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, detail: string) {
    super(detail);
    this.status = status;
  }
}

/** The body of a successful answer; otherwise throws an ApiError with the problem's detail. */
export function bodyOf<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data !== undefined) return answer.data;
  const detail = (answer.error as Schemas['Problem'] | undefined)?.detail;
  throw new ApiError(answer.response.status, detail ?? `HTTP ${answer.response.status}`);
}

/** Exchanges an API token for a session cookie (the token is sent once, never stored by the page). */
export async function signIn(token: string): Promise<Session> {
  const session = bodyOf(await api.POST('/api/session', { headers: { authorization: `Bearer ${token}` } }));
  csrfToken = session.csrf_token;
  signedIn = true;
  return session;
}

/** The current session, or undefined when not signed in. */
export async function currentSession(): Promise<Session | undefined> {
  const answer = await api.GET('/api/session');
  if (answer.response.status === 401) return undefined;
  const session = bodyOf(answer);
  csrfToken = session.csrf_token;
  signedIn = true;
  return session;
}

export async function signOut(): Promise<void> {
  await api.DELETE('/api/session');
  csrfToken = null;
  signedIn = false;
}

/** The event stream's URL (EventSource cannot use openapi-fetch; the path is still the contract's). */
export function eventStreamUrl(): string {
  const path: keyof paths = '/api/events';
  return path;
}

/** What a session's scopes allow the page to offer (the API enforces the same). */
export function can(session: Session, action: 'write' | 'check'): boolean {
  if (session.scopes.includes('admin')) return true;
  return action === 'check' && session.scopes.includes('check');
}
