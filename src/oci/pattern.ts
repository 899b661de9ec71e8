/**
 * Image patterns over canonical names (`<registry host>/<repository>`).
 * `*` matches within one path segment, `**` matches any number of whole segments (also none
 * when it stands between slashes). Everything else is literal.
 */
export interface ImagePattern {
  readonly source: string;
  readonly test: (canonicalName: string) => boolean;
  /** Literal characters; more literal text means a more specific pattern. */
  readonly literalLength: number;
  readonly wildcards: number;
}

const VALID = /^[a-zA-Z0-9.:_\-/*[\]]+$/;

/**
 * One step of a compiled pattern: a literal character, `*` (`[^/]*`), `**` (`.*`), or the segments
 * part of a `**` between slashes (`(?:[^/]+/)*`, after the literal first slash).
 */
export type Step = { readonly kind: 'char'; readonly char: string } | { readonly kind: 'segment' | 'any' | 'segments' };

export function compilePattern(source: string): ImagePattern {
  const { steps, literalLength, wildcards } = patternSteps(source);
  return Object.freeze({ source, test: matcher(steps), literalLength, wildcards });
}

/**
 * `test` for these steps. Every pull runs each allowlist and policy pattern on its name, and the
 * NFA below allocates a state set per character (about 3.5% of trustgate's CPU on a warm pull by
 * tag, bench profile of #15). Most patterns are a literal prefix and then `**` (`host/team/**`),
 * or a literal: those need no NFA. For the rest, the literal prefix is compared first and the NFA
 * runs from the state after it, which is where it would stand anyway: a literal step has no
 * epsilon move, and the prefix is ASCII (VALID), so one UTF-16 unit is one character.
 */
function matcher(steps: readonly Step[]): (name: string) => boolean {
  let prefix = '';
  while (prefix.length < steps.length) {
    const step = steps[prefix.length]!;
    if (step.kind !== 'char') break;
    prefix += step.char;
  }
  const rest = steps.length - prefix.length;
  if (rest === 0) return (name) => name === prefix;
  // `**` as the regex `.*` it replaces: anything but a line terminator (see `matches`).
  if (rest === 1 && steps[prefix.length]!.kind === 'any') return (name) => name.startsWith(prefix) && !LINE_TERMINATOR.test(name);
  const start = prefix.length << 1;
  return (name) => name.startsWith(prefix) && matches(steps, name.slice(prefix.length), start);
}

/** The steps of a pattern (what `test` runs, and what pattern-overlap.ts runs two at a time); throws a TypeError for an invalid one. */
export function patternSteps(source: string): {
  readonly steps: readonly Step[];
  readonly literalLength: number;
  readonly wildcards: number;
} {
  if (!VALID.test(source) || /\*{3,}/.test(source) || source.includes('//')) {
    throw new TypeError(`invalid image pattern "${source}"`);
  }
  const steps: Step[] = [];
  let literalLength = 0;
  let wildcards = 0;
  for (let i = 0; i < source.length; i += 1) {
    const char = source[i]!;
    if (source.startsWith('/**/', i)) {
      steps.push({ kind: 'char', char: '/' }, { kind: 'segments' });
      i += 3;
      wildcards += 1;
    } else if (source.startsWith('**', i)) {
      steps.push({ kind: 'any' });
      i += 1;
      wildcards += 1;
    } else if (char === '*') {
      steps.push({ kind: 'segment' });
      wildcards += 1;
    } else {
      steps.push({ kind: 'char', char });
      literalLength += 1;
    }
  }
  return { steps, literalLength, wildcards };
}

/**
 * Runs the steps as an NFA over the name, one pass, O(name × pattern): a regex of several `**`
 * backtracks exponentially on a long name, and names come from clients. States are step indexes;
 * inside `segments`, an odd state `2i + 1` means a segment has started and needs its `/`.
 */
function matches(steps: readonly Step[], name: string, start = 0): boolean {
  let current = closure(steps, [start]);
  for (const c of name) {
    const next: number[] = [];
    for (const state of current) {
      const i = state >> 1;
      const step = steps[i];
      if (step === undefined) continue;
      if (step.kind === 'char') {
        if (c === step.char) next.push((i + 1) << 1);
      } else if (step.kind === 'any') {
        if (!LINE_TERMINATORS.has(c)) next.push(i << 1); // as the regex `.*` it replaces
      } else if (step.kind === 'segment') {
        if (c !== '/') next.push(i << 1);
      } else if (c !== '/') next.push((i << 1) | 1);
      else if ((state & 1) === 1) next.push(i << 1);
    }
    if (next.length === 0) return false;
    current = closure(steps, next);
  }
  return current.includes(steps.length << 1);
}

const LINE_TERMINATORS = new Set(['\n', '\r', '\u2028', '\u2029']);
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** The states plus those reached without reading: past a wildcard that matches nothing. */
export function closure(steps: readonly Step[], states: readonly number[]): number[] {
  const seen = new Set<number>();
  const stack = [...states];
  while (stack.length > 0) {
    const state = stack.pop()!;
    if (seen.has(state)) continue;
    seen.add(state);
    const step = steps[state >> 1];
    if (step !== undefined && step.kind !== 'char' && (state & 1) === 0) stack.push(((state >> 1) + 1) << 1);
  }
  return [...seen];
}

/** The first segment of a pattern, which names the registry host. */
export function patternHost(source: string): string {
  return source.split('/')[0] ?? '';
}
