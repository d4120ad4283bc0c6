/**
 * The one Server-Sent Events subscription of the page. Pages subscribe to the events they show;
 * the connection state is shown in the header. The browser resumes a dropped stream itself with
 * Last-Event-ID; when it gives up (the server answered an error), we reconnect with backoff and
 * pass the last id as last_event_id, so no event is missed or seen twice.
 */
import { useEffect, useState } from 'preact/hooks';
import { eventStreamUrl, type Schemas } from './api.ts';

/** An event as the stream sends it (the Event schema of openapi.yaml). */
export type LiveEvent = Schemas['Event'];
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'off';

/** Every type the stream sends: a page decides which ones concern it. */
const EVENT_TYPES = [
  'state_changed', 'incident_opened', 'incident_updated', 'incident_resolved', 'incident_acknowledged',
  'check_not_run', 'flapping_started', 'flapping_stopped', 'maintenance_window_started', 'maintenance_window_ended',
] as const satisfies readonly LiveEvent['type'][];
const MAX_BACKOFF_MS = 15_000;

type Listener = (event: LiveEvent) => void;
const listeners = new Set<Listener>();
const statusListeners = new Set<(s: LiveStatus) => void>();
const resyncListeners = new Set<() => void>();
/** Whether a stream was open before: the next open is a reconnect, after which pages refetch. */
let everOpened = false;
let source: EventSource | undefined;
let status: LiveStatus = 'off';
let lastEventId: string | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let failures = 0;

function setStatus(next: LiveStatus): void {
  status = next;
  for (const l of statusListeners) l(next);
}

function connect(): void {
  const url = lastEventId ? `${eventStreamUrl()}?last_event_id=${encodeURIComponent(lastEventId)}` : eventStreamUrl();
  const es = new EventSource(url, { withCredentials: true });
  source = es;
  setStatus(failures === 0 ? 'connecting' : 'reconnecting');
  es.onopen = () => {
    failures = 0;
    setStatus('live');
    // Replay covers events after the last id seen; a page that had seen none (or a gap longer
    // than the outbox keeps) would still be stale, so every reconnect also refetches what is shown.
    if (everOpened) for (const l of resyncListeners) l();
    everOpened = true;
  };
  const onEvent = (e: MessageEvent<string>) => {
    if (e.lastEventId) lastEventId = e.lastEventId;
    const event = JSON.parse(e.data) as LiveEvent;
    for (const l of listeners) l(event);
  };
  for (const type of EVENT_TYPES) es.addEventListener(type, onEvent);
  // The server skipped events it could not replay (the gap was longer than it keeps): what is on
  // screen may be stale, so pages refetch; the stream goes on from the id this event carries.
  es.addEventListener('resync', (e: MessageEvent<string>) => {
    if (e.lastEventId) lastEventId = e.lastEventId;
    for (const l of resyncListeners) l();
  });
  es.onerror = () => {
    if (source !== es) return;
    setStatus('reconnecting');
    // CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED: it gave up; we retry.
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      failures++;
      retryTimer = setTimeout(connect, Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures));
    }
  };
}

/** Opens the stream (after sign-in). */
export function startLive(): void {
  if (!source) connect();
}

/** Closes the stream (sign-out). */
export function stopLive(): void {
  clearTimeout(retryTimer);
  source?.close();
  source = undefined;
  lastEventId = undefined;
  everOpened = false;
  failures = 0;
  setStatus('off');
}

/** Calls `handler` for each live event while the component is mounted. */
export function useLiveEvents(handler: Listener, deps: unknown[] = []): void {
  useEffect(() => {
    listeners.add(handler);
    return () => void listeners.delete(handler);
  }, deps);
}

/** Calls `refetch` after the stream reconnects (what is on screen may have missed changes). */
export function useLiveResync(refetch: () => void): void {
  useEffect(() => {
    resyncListeners.add(refetch);
    return () => void resyncListeners.delete(refetch);
  }, [refetch]);
}

export function useLiveStatus(): LiveStatus {
  const [value, setValue] = useState(status);
  useEffect(() => {
    statusListeners.add(setValue);
    setValue(status);
    return () => void statusListeners.delete(setValue);
  }, []);
  return value;
}
