// The checks at start (config/README.md, "Checks at start"): the policy against the trust store
// as it is, or as it will be once keys/ is merged into Redis, and against the config's keys.dir
// and upstream allowlists. Pure: the caller looks at the disk and the stores and hands the facts in.
import { commonName } from '../oci/pattern-overlap.ts';
import type { Revocation, TrustEntry, TrustKind } from '../trust/types.ts';
import type { Policy, Rule } from './types.ts';

export type Severity = 'error' | 'warning';

/** One problem, with the field it is about: `keys.dir`, `rules[2].signatures.trust[1]`, `upstreams[0].repositories[1]`… */
export interface SetupProblem {
  readonly severity: Severity;
  readonly field: string;
  readonly message: string;
}

export interface SetupFacts {
  /** The config file, absolute (relative paths in it are relative to its directory). */
  readonly configFile: string;
  readonly keysDir: {
    /** Absolute. */
    readonly path: string;
    /** `keys.dir` as written in the config; undefined when it is not set and the default applies. */
    readonly written: string | undefined;
    /** Whether `path` is a directory. */
    readonly exists: boolean;
  };
  /**
   * The trust store is shared through Redis (`redis.url`): entries may still arrive after start,
   * through the admin API, so an id missing now is a warning, not a refusal.
   */
  readonly shared: boolean;
  /** `upstreams[]`, in the config's order. */
  readonly upstreams: readonly { readonly name: string; readonly repositories: readonly string[] }[];
  /** The trust store as it is at start, or as it will be (keys/ merged into what Redis holds). */
  readonly trust: { readonly entries: readonly TrustEntry[]; readonly revocations: readonly Revocation[] };
  /** Entries another source creates after start (`trust.sigstoreTuf.root`), with the scopes they will get. */
  readonly pending: readonly { readonly id: string; readonly kind: TrustKind; readonly scopes: readonly string[] }[];
  /** Epoch ms. */
  readonly now: number;
}

/** Refusing to start (or a reloaded policy): every problem found, the errors first in the message. */
export class SetupError extends Error {
  readonly problems: readonly SetupProblem[];
  constructor(problems: readonly SetupProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(`${errors.length} ${errors.length === 1 ? 'problem' : 'problems'}: ${errors.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    this.name = 'SetupError';
    this.problems = problems;
  }
}

/** `error: keys.dir: …`, as the CLI and the start refusal print a problem. */
export const formatProblem = (p: SetupProblem): string => `${p.severity}: ${p.field}: ${p.message}`;

export const hasErrors = (problems: readonly SetupProblem[]): boolean => problems.some((p) => p.severity === 'error');

/** Kinds that sign an image as an id of `signatures.trust` (a cosign key, a notation root): see policy/evaluate.ts. */
const SIGNER_KINDS: readonly TrustKind[] = ['key', 'notation-root'];
const ROOT_KINDS: readonly TrustKind[] = ['sigstore-root'];
const LIST_MAX = 8;

/**
 * Every problem, in this order: keys.dir, then each rule (its trusted ids, then its threshold),
 * then each upstream allowlist pattern no rule reaches. Errors stop trustgate from starting;
 * warnings are logged. Which is which, and why, is in config/README.md ("Checks at start").
 */
export function checkSetup(policy: Policy, facts: SetupFacts): SetupProblem[] {
  const store = new TrustView(facts, memoOverlaps());
  return [
    ...keysDirProblems(facts),
    ...policy.rules.flatMap((rule) => ruleProblems(rule, store, facts)),
    ...upstreamProblems(policy, facts, store.overlaps),
  ];
}

function keysDirProblems({ keysDir, configFile }: SetupFacts): SetupProblem[] {
  if (keysDir.exists) return [];
  if (keysDir.written !== undefined) {
    return [
      {
        severity: 'error',
        field: 'keys.dir',
        message: `the directory ${keysDir.path} does not exist (keys.dir "${keysDir.written}" in ${configFile}; a relative keys.dir is relative to the config file's directory)`,
      },
    ];
  }
  return [
    {
      severity: 'warning',
      field: 'keys.dir',
      message: `not set, so the default applies, relative to the config file ${configFile}: ${keysDir.path}, which does not exist; set keys.dir to the trust store's directory (an empty one if every entry comes through the admin API)`,
    },
  ];
}

/** Where one id stands for one rule. */
type Standing =
  | { readonly kind: 'usable' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'revoked'; readonly revocation: Revocation }
  | { readonly kind: 'unusable'; readonly why: string };

/** The trust store as the checks read it: by id, with revocations, and the entries still to come. */
class TrustView {
  readonly #entries: ReadonlyMap<string, TrustEntry>;
  readonly #revoked: ReadonlyMap<string, Revocation>;
  readonly #pending: ReadonlyMap<string, SetupFacts['pending'][number]>;
  readonly #now: number;

  readonly overlaps: (a: string, b: string) => boolean;

  constructor(facts: SetupFacts, overlaps: (a: string, b: string) => boolean) {
    this.overlaps = overlaps;
    this.#entries = new Map(facts.trust.entries.map((e) => [e.id, e]));
    this.#revoked = new Map(facts.trust.revocations.map((r) => [r.id, r]));
    this.#pending = new Map(facts.pending.filter((p) => !this.#entries.has(p.id)).map((p) => [p.id, p]));
    this.#now = facts.now;
  }

  get ids(): string[] {
    return [...this.#entries.keys()];
  }

  kindOf(id: string): TrustKind | undefined {
    return this.#entries.get(id)?.kind ?? this.#pending.get(id)?.kind;
  }

  /** Whether `id` can vouch for some image of `rule` now, as a signer of one of `kinds`; and if not, why. */
  standing(id: string, kinds: readonly TrustKind[], rule: Rule): Standing {
    const revocation = this.#revoked.get(id);
    if (revocation !== undefined) return { kind: 'revoked', revocation };
    const pending = this.#pending.get(id);
    const entry = this.#entries.get(id);
    if (entry === undefined && pending === undefined) return { kind: 'missing' };
    const kind = entry?.kind ?? pending!.kind;
    if (!kinds.includes(kind)) return { kind: 'unusable', why: `"${id}" is a ${kind}, ${kindNote(kind, kinds)}` };
    if (entry !== undefined) {
      if (!entry.purposes.includes('sign')) {
        return { kind: 'unusable', why: `"${id}" has purposes [${entry.purposes.join(', ')}]: it is not trusted to sign images` };
      }
      if (entry.notAfter !== undefined && this.#now >= entry.notAfter) {
        return { kind: 'unusable', why: `"${id}" stopped being valid at ${iso(entry.notAfter)} (its notAfter)` };
      }
      if (entry.notBefore !== undefined && this.#now < entry.notBefore) {
        return { kind: 'unusable', why: `"${id}" is not valid before ${iso(entry.notBefore)} (its notBefore)` };
      }
    }
    const scopes = entry?.scopes ?? pending!.scopes;
    if (!rule.images.some((image) => scopes.some((scope) => this.overlaps(scope, image.source)))) {
      return {
        kind: 'unusable',
        why: `the scopes of "${id}" (${list(scopes)}) cover none of rule "${rule.name}"'s images (${list(rule.images.map((i) => i.source))})`,
      };
    }
    return { kind: 'usable' };
  }
}

function kindNote(kind: TrustKind, wanted: readonly TrustKind[]): string {
  if (wanted === ROOT_KINDS) return 'not a sigstore-root';
  if (kind === 'tsa') return 'a timestamp authority: it never signs images';
  return 'which signs only through signatures.keyless[].root';
}

/** One id a rule names, at the field that names it, and the kinds it must be. */
interface Reference {
  readonly id: string;
  readonly field: string;
  readonly kinds: readonly TrustKind[];
}

function ruleProblems(rule: Rule, store: TrustView, facts: SetupFacts): SetupProblem[] {
  if (rule.mode === 'off') return []; // no signature is looked at
  const at = `rules[${rule.order}].signatures`;
  const sig = rule.signatures;
  const references: Reference[] = [
    ...(sig.trust ?? []).map((id, j) => ({ id, field: `${at}.trust[${j}]`, kinds: SIGNER_KINDS })),
    // Without a trust list, a required key id is the only place the rule names it.
    ...(sig.trust === undefined
      ? sig.required.flatMap((id, j) => (id.includes('/') ? [] : [{ id, field: `${at}.required[${j}]`, kinds: SIGNER_KINDS }]))
      : []),
    ...sig.keyless.map((authority, k) => ({ id: authority.root, field: `${at}.keyless[${k}].root`, kinds: ROOT_KINDS })),
    ...(sig.keyTransparencyLogRoot === undefined ? [] : [{ id: sig.keyTransparencyLogRoot, field: `${at}.rekor.root`, kinds: ROOT_KINDS }]),
  ];
  const problems: SetupProblem[] = [];
  const usable = new Set<string>();
  for (const reference of references) {
    const standing = store.standing(reference.id, reference.kinds, rule);
    if (standing.kind === 'usable') usable.add(reference.id);
    else problems.push(referenceProblem(reference, standing, rule, store, facts));
  }
  problems.push(...thresholdProblems(rule, store, usable, at));
  return problems;
}

function referenceProblem(
  reference: Reference,
  standing: Exclude<Standing, { kind: 'usable' }>,
  rule: Rule,
  store: TrustView,
  facts: SetupFacts,
): SetupProblem {
  const { id, field } = reference;
  switch (standing.kind) {
    case 'missing': {
      const known = store.ids;
      const holds = known.length === 0 ? 'it is empty' : `it holds ${list(known)}`;
      return facts.shared
        ? {
            severity: 'warning',
            field,
            message: `"${id}" is not in the trust store (keys.dir ${facts.keysDir.path} and Redis; ${holds}): rule "${rule.name}" counts nothing from it until it is added, in keys/ or through the admin API`,
          }
        : {
            severity: 'error',
            field,
            message: `"${id}" is not in the trust store (keys.dir ${facts.keysDir.path}; ${holds}), and without redis.url nothing adds it after start: add ${id}.pub (or .crt, .json) with ${id}.yaml to keys.dir, or correct the id`,
          };
    }
    case 'revoked': {
      const { revokedAt, reason } = standing.revocation;
      return {
        severity: 'warning',
        field,
        message: `"${id}" is revoked (at ${iso(revokedAt)}: ${reason}); revocations are final, so rule "${rule.name}" never counts it again`,
      };
    }
    case 'unusable':
      return { severity: 'warning', field, message: `${standing.why}: rule "${rule.name}" can never count it` };
  }
}

/**
 * The signers the rule could count for some of its images now: its key ids (or, without a trust
 * list, every key and notation root whose scopes reach its images), none of them when its Rekor
 * root is unusable, plus each keyless identity under a usable root. Fewer than the threshold,
 * and every pull the rule decides is denied (or, in `warn` mode, served with a warning).
 */
function thresholdProblems(rule: Rule, store: TrustView, usable: ReadonlySet<string>, at: string): SetupProblem[] {
  const sig = rule.signatures;
  const keyIds =
    sig.trust === undefined
      ? store.ids.filter((id) => SIGNER_KINDS.includes(store.kindOf(id)!) && store.standing(id, SIGNER_KINDS, rule).kind === 'usable')
      : sig.trust.filter((id) => usable.has(id));
  const logRoot = sig.keyTransparencyLogRoot;
  const keys = logRoot !== undefined && !usable.has(logRoot) ? [] : keyIds;
  const keyless = sig.keyless.filter((a) => usable.has(a.root)).flatMap((a) => a.identities.map((identity) => identity.signer));
  const signers = [...new Set([...keys, ...keyless])];
  const problems: SetupProblem[] = [];
  if (signers.length < sig.threshold) {
    const images = list(rule.images.map((i) => i.source));
    const have =
      signers.length === 0
        ? sig.trust === undefined && sig.keyless.length === 0
          ? `no key or notation root in the trust store can sign its images (${images}) now (active, not revoked, purpose sign, scopes reaching them)`
          : 'none of the signers it names can sign its images now (the other problems on this rule say why)'
        : `only ${signers.length} can sign its images now (${list(signers)})`;
    const keyNote =
      logRoot !== undefined && !usable.has(logRoot) && keyIds.length > 0
        ? `; its keys count only with the Rekor root "${logRoot}", which is not usable`
        : '';
    problems.push({
      severity: 'warning',
      field: `${at}.threshold`,
      message: `rule "${rule.name}" needs ${sig.threshold} ${sig.threshold === 1 ? 'signer' : 'signers'}, but ${have}${keyNote}; until the trust store changes, ${rule.mode === 'warn' ? 'every image it decides is served with a warning' : 'every image it decides is denied'}`,
    });
  }
  return problems;
}

/** Upstream allowlist patterns that no rule's images reach: everything pulled through them is denied by the default rule. */
function upstreamProblems(policy: Policy, facts: SetupFacts, overlaps: (a: string, b: string) => boolean): SetupProblem[] {
  const images = policy.rules.flatMap((rule) => rule.images.map((image) => image.source));
  return facts.upstreams.flatMap((upstream, i) =>
    upstream.repositories.flatMap((pattern, j) =>
      images.some((image) => overlaps(pattern, image))
        ? []
        : [
            {
              severity: 'warning' as const,
              field: `upstreams[${i}].repositories[${j}]`,
              message: `no policy rule covers "${pattern}" (upstream "${upstream.name}"): every image pulled through it is denied by the default rule (no_matching_rule)`,
            },
          ],
    ),
  );
}

/**
 * Overlap of two patterns, each pair decided once per check (a rule's images meet every entry's
 * scopes); a pattern that does not compile (a stored scope from an older version) overlaps nothing.
 */
function memoOverlaps(): (a: string, b: string) => boolean {
  const seen = new Map<string, Map<string, boolean>>();
  return (a, b) => {
    let row = seen.get(a);
    if (row === undefined) seen.set(a, (row = new Map()));
    let overlap = row.get(b);
    if (overlap === undefined) {
      try {
        overlap = commonName(a, b) !== undefined;
      } catch {
        overlap = false;
      }
      row.set(b, overlap);
    }
    return overlap;
  };
}

function list(values: readonly string[]): string {
  const shown = values.slice(0, LIST_MAX).join(', ');
  return values.length > LIST_MAX ? `${shown} and ${values.length - LIST_MAX} more` : shown;
}

const iso = (ms: number): string => new Date(ms).toISOString();
