/**
 * Path-based navigation for five pages: the History API and one hook. The API serves index.html
 * at each page's path (src/api/dashboard.ts), so reloads and shared links work.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string;
  query: URLSearchParams;
}

const current = (): Route => ({ path: location.pathname, query: new URLSearchParams(location.search) });
const subscribers = new Set<(r: Route) => void>();

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  const route = current();
  for (const s of subscribers) s(route);
}

addEventListener('popstate', () => {
  const route = current();
  for (const s of subscribers) s(route);
});

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    subscribers.add(setRoute);
    return () => void subscribers.delete(setRoute);
  }, []);
  return route;
}

/** Same-origin link clicks navigate without a reload (modified clicks keep the browser's behaviour). */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.origin !== location.origin || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.pathname.startsWith('/api/') || a.pathname.startsWith('/docs') || a.pathname.startsWith('/badges/')) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
