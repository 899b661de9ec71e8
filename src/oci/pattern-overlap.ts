// Whether two image patterns share a name: does a key's scope reach any image of a rule, does a
// rule reach any repository an upstream allows (policy/setup-check.ts). Pure.
import { closure, patternSteps, type Step } from './pattern.ts';

/**
 * A character no pattern holds (patterns are `[a-zA-Z0-9.:_\-/*[\]]`): it stands for every
 * character neither pattern names, which no step of either tells apart.
 */
const OTHER = '~';

/**
 * A name both patterns match, or undefined when none exists. The two patterns' automata run side
 * by side (the product of the NFAs `compilePattern` runs), breadth first from the start, over one
 * representative of each class of characters they tell apart: each literal either pattern holds,
 * `/`, and OTHER. Every name both match reads through some path of that product, so the search
 * is complete; the name found is the shortest, and it is matched by both patterns' `test`.
 * Throws a TypeError for an invalid pattern (unless the literal starts already disagree).
 */
export function commonName(a: string, b: string): string | undefined {
  if (!literalStartsAgree(a, b)) return undefined;
  const left = patternSteps(a).steps;
  const right = patternSteps(b).steps;
  const alphabet = [...new Set([...a, ...b, '/', OTHER])].filter((c) => c !== '*');
  const endLeft = left.length << 1;
  const endRight = right.length << 1;
  const key = (l: number, r: number): string => `${l},${r}`;
  const from = new Map<string, { readonly prev: string | undefined; readonly char: string }>();
  const queue: [number, number][] = [];
  for (const l of closure(left, [0])) {
    for (const r of closure(right, [0])) {
      if (!from.has(key(l, r))) {
        from.set(key(l, r), { prev: undefined, char: '' });
        queue.push([l, r]);
      }
    }
  }
  for (let head = 0; head < queue.length; head += 1) {
    const [l, r] = queue[head]!;
    if (l === endLeft && r === endRight) return spell(from, key(l, r));
    for (const char of alphabet) {
      const nextLeft = advance(left, l, char);
      const nextRight = nextLeft === undefined ? undefined : advance(right, r, char);
      if (nextLeft === undefined || nextRight === undefined) continue;
      for (const nl of closure(left, [nextLeft])) {
        for (const nr of closure(right, [nextRight])) {
          if (from.has(key(nl, nr))) continue;
          from.set(key(nl, nr), { prev: key(l, r), char });
          queue.push([nl, nr]);
        }
      }
    }
  }
  return undefined;
}

/** Whether some name matches both patterns. */
export const patternsOverlap = (a: string, b: string): boolean => commonName(a, b) !== undefined;

/**
 * One state's move on one character: exactly the transition `matches` in pattern.ts makes (a
 * state `2i` is before step i; inside `segments`, `2i + 1` is a segment begun that needs its `/`).
 */
function advance(steps: readonly Step[], state: number, c: string): number | undefined {
  const i = state >> 1;
  const step = steps[i];
  if (step === undefined) return undefined;
  switch (step.kind) {
    case 'char':
      return c === step.char ? (i + 1) << 1 : undefined;
    case 'any':
      return i << 1; // names hold no line terminators, and no representative is one
    case 'segment':
      return c === '/' ? undefined : i << 1;
    case 'segments':
      if (c !== '/') return (i << 1) | 1;
      return (state & 1) === 1 ? i << 1 : undefined;
  }
}

/**
 * Every name a pattern matches starts with the literal text before its first wildcard: two patterns
 * whose literal starts disagree share nothing. Most pairs are decided here, without a search.
 */
function literalStartsAgree(a: string, b: string): boolean {
  for (let i = 0; i < a.length && i < b.length; i++) {
    if (a[i] === '*' || b[i] === '*') return true;
    if (a[i] !== b[i]) return false;
  }
  return true;
}

function spell(from: ReadonlyMap<string, { readonly prev: string | undefined; readonly char: string }>, last: string): string {
  const chars: string[] = [];
  for (let at: string | undefined = last; at !== undefined;) {
    const step: { readonly prev: string | undefined; readonly char: string } = from.get(at)!;
    chars.push(step.char);
    at = step.prev;
  }
  return chars.reverse().join('');
}
