import { readFileSync } from 'node:fs';
import { parsePolicy } from '../policy/parse.ts';
import { validatePolicy, type PolicyProblem } from '../policy/validate.ts';
import { parseTrustedIdentity } from '../verify/notation/index.ts';
import { UsageError } from '../tools/usage-error.ts';
import { parseFlags } from './args.ts';
import { POLICY_USAGE } from './admin-usage.ts';
import { ApiError } from './api-error.ts';
import { API_FLAGS, withApi } from './api-flags.ts';
import { dispatch, help, onePositional, output, type Print } from './subcommands.ts';

// trustgate policy check (offline) | get | validate | apply | rollback (/admin/v1/policy).

export function policyCommand(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  return dispatch('policy', POLICY_USAGE, { check, get, validate, apply, rollback }, args, print, env);
}

/**
 * Offline: the proxy's own checks (policy/validate.ts over policy/load.ts parsePolicy, with the
 * notation identity check the runtime uses). Every problem as `file: field: problem`, exit 1.
 */
async function check(args: readonly string[], print: Print): Promise<number> {
  const { values, positionals } = parseFlags(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return help(print, POLICY_USAGE);
  const file = onePositional(positionals, 'policy file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(print, values.json, file, [
      { field: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})` },
    ]);
  }
  const result = validatePolicy(text, file, (t, source) => parsePolicy(t, source, (identity) => void parseTrustedIdentity(identity)));
  if (!result.ok) return fail(print, values.json, file, result.errors);
  const { hash } = result.policy;
  const rules = result.policy.rules.map((r) => r.name);
  return output(print, values.json, { ok: true, file, hash, rules }, () => [
    `${file}: ok, ${rules.length} rule${rules.length === 1 ? '' : 's'} (${rules.join(', ')}), hash ${hash}`,
  ]);
}

function fail(print: Print, json: boolean | undefined, file: string, errors: readonly PolicyProblem[]): number {
  if (json === true) print(JSON.stringify({ ok: false, file, errors }, null, 2));
  else for (const e of errors) process.stderr.write(`${file}: ${e.field === '' ? '' : `${e.field}: `}${e.message}\n`);
  return 1;
}

function readPolicyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

interface PolicyAnswer {
  source?: string;
  hash?: string;
  version?: number | null;
  text?: string | null;
  rules?: number;
  appliedBy?: string;
  appliedAt?: string;
  rolledBackFrom?: number;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "api v3" or "the policy file". */
const origin = (p: PolicyAnswer): string => (p.source === 'api' ? `api v${p.version ?? '?'}` : 'the policy file');

async function get(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, POLICY_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const p = (await withApi(values, env, (api) => api.call({ method: 'GET', path: '/policy' }))) as PolicyAnswer;
  const applied = p.appliedBy === undefined ? '' : `, applied by ${p.appliedBy}${p.appliedAt === undefined ? '' : ` at ${p.appliedAt}`}`;
  return output(print, values.json, p, () => [
    `# policy ${p.hash ?? '?'} from ${origin(p)}${applied}${p.rules === undefined ? '' : `, ${plural(p.rules, 'rule')}`}`,
    ...(typeof p.text === 'string' ? [p.text.trimEnd()] : ['# (its text is not available)']),
  ]);
}

/** POST /policy/validate or PUT /policy; a refused policy's problems are printed as `file: field: problem`. */
async function send(args: readonly string[], print: Print, env: NodeJS.ProcessEnv, method: 'POST' | 'PUT'): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, POLICY_USAGE);
  const file = onePositional(positionals, 'policy file');
  const yaml = readPolicyFile(file);
  let p: PolicyAnswer;
  try {
    p = (await withApi(values, env, (api) =>
      api.call({ method, path: method === 'PUT' ? '/policy' : '/policy/validate', yaml }),
    )) as PolicyAnswer;
  } catch (error) {
    const errors = error instanceof ApiError && error.status === 400 ? (error.body as { errors?: unknown } | undefined)?.errors : undefined;
    if (!Array.isArray(errors) || !errors.every((e) => typeof (e as PolicyProblem).message === 'string')) throw error;
    return fail(print, values.json, file, errors as PolicyProblem[]);
  }
  if (method === 'POST')
    return output(print, values.json, p, () => [`${file}: valid on the server, ${plural(p.rules ?? 0, 'rule')}, hash ${p.hash ?? '?'}`]);
  return output(print, values.json, p, () => [`applied ${file}: policy ${p.hash ?? '?'} is api v${p.version ?? '?'}, on every replica`]);
}

const validate = (args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> => send(args, print, env, 'POST');
const apply = (args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> => send(args, print, env, 'PUT');

async function rollback(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, POLICY_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const p = (await withApi(values, env, (api) => api.call({ method: 'POST', path: '/policy/rollback' }))) as PolicyAnswer;
  return output(print, values.json, p, () => [
    `rolled back from api v${p.rolledBackFrom ?? '?'} to api v${p.version ?? '?'}: policy ${p.hash ?? '?'}`,
  ]);
}
