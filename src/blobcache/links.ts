// Links: which (upstream, repository) pairs the upstream confirmed have a digest. Kept in memory per
// entry, oldest first, and on disk as a small JSON sidecar beside the content (layout.ts).

/** The most links one entry keeps; past it the oldest is dropped (a blob shared by very many repositories). */
export const MAX_LINKS_PER_ENTRY = 256;
/** A sidecar larger than this is not read (256 links of long names stay far below it). */
export const MAX_LINKS_FILE_BYTES = 1_048_576;

export type Links = Map<string, { readonly upstream: string; readonly repository: string }>;

function keyOf(upstream: string, repository: string): string {
  return `${upstream}\u0000${repository}`;
}

export function hasLink(links: Links, upstream: string, repository: string): boolean {
  return links.has(keyOf(upstream, repository));
}

/** Adds a link as the newest, dropping the oldest past the cap; whether anything changed. */
export function addLink(links: Links, upstream: string, repository: string): boolean {
  const key = keyOf(upstream, repository);
  if (links.has(key)) return false;
  links.set(key, { upstream, repository });
  while (links.size > MAX_LINKS_PER_ENTRY) {
    const oldest = links.keys().next().value as string;
    links.delete(oldest);
  }
  return true;
}

export function serializeLinks(links: Links): string {
  return JSON.stringify({ version: 1, links: [...links.values()] });
}

/** A sidecar's links; an unreadable or malformed one is no links (they are confirmed again upstream). */
export function parseLinks(text: string): Links {
  const links: Links = new Map();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return links;
  }
  const list = (value as { links?: unknown } | null)?.links;
  if (!Array.isArray(list)) return links;
  for (const item of list.slice(-MAX_LINKS_PER_ENTRY)) {
    const { upstream, repository } = (item ?? {}) as { upstream?: unknown; repository?: unknown };
    if (typeof upstream === 'string' && typeof repository === 'string') addLink(links, upstream, repository);
  }
  return links;
}
