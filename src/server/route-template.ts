/**
 * A request path as a bounded route template for logs (and labels): never an image name, tag,
 * digest or anything else the client wrote. Unknown paths are all `<other>`.
 */
const TEMPLATES: readonly (readonly [RegExp, string | ((m: RegExpExecArray) => string)])[] = [
  [/^\/(healthz|readyz|metrics)$/, (m) => `/${m[1]}`],
  [/^\/v2\/?$/, '/v2/'],
  [/^\/v2\/_catalog$/, '/v2/_catalog'],
  [/^\/v2\/.+\/blobs\/uploads(\/.*)?$/, '/v2/<name>/blobs/uploads/'],
  [/^\/v2\/.+\/tags\/list$/, '/v2/<name>/tags/list'],
  [/^\/v2\/.+\/manifests\/[^/]+$/, '/v2/<name>/manifests/<ref>'],
  [/^\/v2\/.+\/(blobs|referrers)\/[^/]+$/, (m) => `/v2/<name>/${m[1]}/<digest>`],
  [/^\/admin\/v1\/scans(\/queue)?$/, (m) => `/admin/v1/scans${m[1] ?? ''}`],
  [/^\/admin\/v1\/scans\/[^/]+$/, '/admin/v1/scans/<digest>'],
  [/^\/admin(\/|$)/, '/admin/<other>'],
];

export function routeTemplate(url: string | undefined): string {
  const path = pathOf(url);
  for (const [pattern, template] of TEMPLATES) {
    const match = pattern.exec(path);
    if (match !== null) return typeof template === 'string' ? template : template(match);
  }
  return '<other>';
}

/** The path of a request target, without the query; for an absolute-form target (RFC 9112 §3.2.2), its path. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  const target = query === -1 ? raw : raw.slice(0, query);
  if (target.startsWith('/')) return target;
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}
