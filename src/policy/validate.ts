import { parseDocument } from 'yaml';
import { ConfigError } from '../input/config-error.ts';
import { policySchema } from './schema.ts';
import type { Policy } from './types.ts';

/** One problem with a policy text: the field path (`rules[0].mode`; empty for the document) and what is wrong. */
export interface PolicyProblem {
  readonly field: string;
  readonly message: string;
}

export type PolicyCheck =
  { readonly ok: true; readonly policy: Policy } | { readonly ok: false; readonly errors: readonly PolicyProblem[] };

const MAX_PROBLEMS = 50;

/**
 * Checks policy text without applying it (POST /admin/v1/policy/validate, PUT /admin/v1/policy):
 * every YAML and schema problem at once, then what compiling finds (patterns, identities,
 * thresholds, duplicate names; the first of those). `compile` is the compiler the policy holder uses.
 */
export function validatePolicy(text: string, source: string, compile: (text: string, source: string) => Policy): PolicyCheck {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors
        .slice(0, MAX_PROBLEMS)
        .map((e) => ({ field: '', message: `not valid YAML at line ${e.linePos?.[0]?.line ?? '?'}: ${e.code}` })),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS() ?? {};
  } catch (error) {
    return { ok: false, errors: [{ field: '', message: `not valid YAML: ${(error as Error).message}` }] };
  }
  const parsed = policySchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.slice(0, MAX_PROBLEMS).map((issue) => ({ field: fieldOf(issue.path), message: issue.message })),
    };
  }
  try {
    return { ok: true, policy: compile(text, source) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const prefix = `${source}: ${error.field === '' ? '' : `${error.field}: `}`;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return { ok: false, errors: [{ field: error.field, message }] };
  }
}

/** `rules[0].signatures.threshold`, as ConfigError names fields. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? String(part) : `${acc}.${String(part)}`),
    '',
  );
}
