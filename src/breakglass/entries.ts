import { isDigest, isRepositoryName, type Digest } from '../oci/reference.ts';
import { compilePattern } from '../oci/pattern.ts';

/** An emergency exception: pulls of matching images that the gate denies are allowed until `expires`. */
export interface BreakGlassEntry {
  readonly id: string;
  /** A pattern over canonical names (`registry.example/team/**`), or `<canonical name>@<digest>`. */
  readonly image: string;
  readonly reason: string;
  /** Epoch ms: the entry ends by itself then. */
  readonly expires: number;
  /** The admin token's subject that made it. */
  readonly actor: string;
  readonly createdAt: number;
}

/** Where entries live: Redis (every replica sees them) or this process's memory. */
export interface BreakGlassStore {
  /** True when every replica shares the entries (Redis). */
  readonly shared: boolean;
  /** The entries this replica holds that are active at `now`; no I/O. */
  active(now: number): readonly BreakGlassEntry[];
  add(entry: BreakGlassEntry): Promise<void>;
  /** Ends an entry early; false when no such entry exists. */
  end(id: string): Promise<boolean>;
  close(): Promise<void>;
}

const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/i;
const MAX_IMAGE = 300;

/** Why `image` cannot name a break-glass entry, or undefined when it can. */
export function imageProblem(image: string): string | undefined {
  if (image.length === 0 || image.length > MAX_IMAGE) return `"image" must be 1 to ${MAX_IMAGE} characters`;
  const at = image.indexOf('@');
  const name = at < 0 ? image : image.slice(0, at);
  const slash = name.indexOf('/');
  if (slash < 0 || !HOST.test(name.slice(0, slash)))
    return '"image" must start with a registry host, without wildcards: <registry host>/<repository pattern>, or <registry host>/<repository>@<digest>';
  if (at >= 0) {
    if (!isRepositoryName(name.slice(slash + 1)) || !isDigest(image.slice(at + 1)))
      return '"image" with a digest must be <registry host>/<repository>@sha256:<hex>';
    return undefined;
  }
  try {
    compilePattern(image);
  } catch (error) {
    return `"image": ${(error as Error).message}`;
  }
  return undefined;
}

const matchers = new WeakMap<BreakGlassEntry, (name: string, digest: Digest) => boolean>();

function matcherOf(entry: BreakGlassEntry): (name: string, digest: Digest) => boolean {
  let matcher = matchers.get(entry);
  if (matcher === undefined) {
    const at = entry.image.indexOf('@');
    if (at >= 0) {
      const exact = entry.image.slice(0, at);
      const digest = entry.image.slice(at + 1);
      matcher = (name, d) => name === exact && d === digest;
    } else {
      const pattern = compilePattern(entry.image);
      matcher = (name) => pattern.test(name);
    }
    matchers.set(entry, matcher);
  }
  return matcher;
}

/** The active entry covering this pull (the one lasting longest when several do). */
export function findBreakGlass(
  entries: readonly BreakGlassEntry[],
  canonicalName: string,
  digest: Digest,
  now: number,
): BreakGlassEntry | undefined {
  let found: BreakGlassEntry | undefined;
  for (const entry of entries) {
    if (entry.expires <= now || (found !== undefined && found.expires >= entry.expires)) continue;
    if (matcherOf(entry)(canonicalName, digest)) found = entry;
  }
  return found;
}

/** Without Redis: entries live in this process only (each replica has its own; gone at restart). */
export function createMemoryBreakGlassStore(): BreakGlassStore {
  const entries = new Map<string, BreakGlassEntry>();
  return {
    shared: false,
    active: (now) => [...entries.values()].filter((e) => e.expires > now),
    async add(entry) {
      for (const [id, old] of entries) if (old.expires <= entry.createdAt) entries.delete(id);
      entries.set(entry.id, entry);
    },
    end: async (id) => entries.delete(id),
    close: async () => entries.clear(),
  };
}
