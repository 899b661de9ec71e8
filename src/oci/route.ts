// Route grammar from the OCI distribution spec "Endpoints": anchor on the right, names contain '/'.
import { TrustgateError } from '../errors/errors.ts';
import { parseDigest, parseReference, parseRepositoryName, printable, type Digest, type Reference } from './reference.ts';

export type Route =
  | { readonly kind: 'ping' }
  | { readonly kind: 'manifest'; readonly name: string; readonly reference: Reference }
  | { readonly kind: 'blob'; readonly name: string; readonly digest: Digest }
  | { readonly kind: 'referrers'; readonly name: string; readonly digest: Digest }
  | { readonly kind: 'tags'; readonly name: string };

const ROUTE = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/;
const TAGS = /^\/v2\/(.+)\/tags\/list$/;
const UPLOADS = /^\/v2\/.+\/blobs\/uploads(\/|$)/;

/** Parses the path (without query) of a pull request. Throws a coded error for anything else. */
export function parseRoute(method: string, pathname: string): Route {
  if (pathname === '/v2/' || pathname === '/v2') return requirePull(method, { kind: 'ping' });
  if (pathname === '/v2/_catalog') {
    throw new TrustgateError('UNSUPPORTED', 'the catalog is not exposed through trustgate');
  }
  if (UPLOADS.test(pathname)) throw pushRefused();
  const tags = TAGS.exec(pathname);
  if (tags !== null) return requirePull(method, { kind: 'tags', name: parseRepositoryName(tags[1]!) });
  const match = ROUTE.exec(pathname);
  if (match === null) {
    throw new TrustgateError('NAME_UNKNOWN', `no such registry endpoint "${printable(pathname)}"`);
  }
  const [, rawName, kind, rawRef] = match as unknown as [string, string, string, string];
  if (method !== 'GET' && method !== 'HEAD') throw pushRefused();
  const name = parseRepositoryName(rawName);
  switch (kind) {
    case 'manifests':
      return { kind: 'manifest', name, reference: parseReference(rawRef) };
    case 'blobs':
      return { kind: 'blob', name, digest: parseDigest(rawRef) };
    default:
      return requirePull(method, { kind: 'referrers', name, digest: parseDigest(rawRef) });
  }
}

function requirePull(method: string, route: Route): Route {
  if (method !== 'GET' && method !== 'HEAD') throw pushRefused();
  return route;
}

function pushRefused(): TrustgateError {
  return new TrustgateError('UNSUPPORTED', 'trustgate is a pull-only proxy: push and delete are not supported', {
    headers: { allow: 'GET, HEAD' },
  });
}
