import { useEffect, useState } from 'preact/hooks';

// The console's routes are paths under /admin/ui/ (the server answers index.html for each), so a
// page can be linked to, e.g. /admin/ui/explain?image=… from anywhere a denied image is shown.
export const BASE = '/admin/ui';

export interface Location {
  /** The path under BASE, "/" for the console's home. */
  readonly page: string;
  readonly params: URLSearchParams;
}

function current(): Location {
  const path = window.location.pathname.startsWith(`${BASE}/`) ? window.location.pathname.slice(BASE.length) : '/';
  return { page: path.replace(/\/+$/, '') || '/', params: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();

/** A console URL: BASE + page, with the query built by URLSearchParams (never by string joining). */
export function href(page: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `${BASE}${page}${query === '' ? '' : `?${query}`}`;
}

export function navigate(to: string, replace = false): void {
  if (!to.startsWith(`${BASE}/`)) throw new TypeError(`a console URL, not ${to}`);
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const listener of listeners) listener();
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = (): void => setLocation(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return location;
}
