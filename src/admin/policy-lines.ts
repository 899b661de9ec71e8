import { isNode, LineCounter, parseDocument } from 'yaml';
import type { PolicyProblem } from '../policy/validate.ts';

/** A validation problem with the 1-based line it is at in the text, when one is known (null otherwise). */
export type LinedProblem = PolicyProblem & { readonly line: number | null };

/** `rules[0].signatures.threshold` → ['rules', 0, 'signatures', 'threshold']. */
const pathOf = (field: string): (string | number)[] =>
  [...field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] === undefined ? m[1]! : Number(m[2])));

/**
 * Adds the line of each problem, for the console to show errors at their line: a YAML error's own
 * position, else the node its field names (or, when the field is missing, the nearest enclosing
 * node that exists). A text that does not parse gives its errors' lines from the parser.
 */
export function withLines(text: string, problems: readonly PolicyProblem[]): LinedProblem[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: counter });
  // Without prettyErrors the parser gives offsets (`pos`), not `linePos`: count the lines here.
  const yamlLines = doc.errors.map((e) => counter.linePos(e.pos[0]).line);
  return problems.map((problem, i) => {
    if (problem.field === '') {
      const line = doc.errors.length > 0 ? (yamlLines[i] ?? null) : null;
      return { ...problem, line };
    }
    const path = pathOf(problem.field);
    for (let n = path.length; n >= 1; n -= 1) {
      const node: unknown = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range !== undefined && node.range !== null) return { ...problem, line: counter.linePos(node.range[0]).line };
    }
    return { ...problem, line: null };
  });
}
