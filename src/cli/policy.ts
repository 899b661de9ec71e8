import { readFileSync } from 'node:fs';
import { resolveParsedConfig } from '../config/resolve.ts';
import { ConfigError } from '../input/config-error.ts';
import { parsePolicy } from '../policy/parse.ts';
import { checkSetup, formatProblem, hasErrors, type SetupProblem } from '../policy/setup-check.ts';
import type { Policy } from '../policy/types.ts';
import { validatePolicy, type PolicyProblem } from '../policy/validate.ts';
import { setupFacts } from '../runtime/setup-check.ts';
import { readProspectiveTrust, TrustReadError, type ProspectiveTrust } from '../trust-store/prospective-trust.ts';
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
 * With `--config`, then the checks at start against that config's keys.dir and the trust store as
 * a start would leave it (Redis read, never written, when the config sets redis.url).
 */
async function check(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    json: { type: 'boolean' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return help(print, POLICY_USAGE);
  if (values.config !== undefined) return checkWithConfig(values.config, positionals, values.json, print, env);
  const file = onePositional(positionals, 'policy file');
  const policy = compileFile(file, values.json, print);
  if (typeof policy === 'number') return policy;
  const { hash } = policy;
  const rules = policy.rules.map((r) => r.name);
  return output(print, values.json, { ok: true, file, hash, rules }, () => [
    `${file}: ok, ${rules.length} rule${rules.length === 1 ? '' : 's'} (${rules.join(', ')}), hash ${hash}`,
  ]);
}

/** The policy file compiled as the proxy compiles it, or the exit code after its problems were printed. */
function compileFile(file: string, json: boolean | undefined, print: Print): Policy | number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(print, json, file, [{ field: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  const result = validatePolicy(text, file, (t, source) => parsePolicy(t, source, (identity) => void parseTrustedIdentity(identity)));
  if (!result.ok) return fail(print, json, file, result.errors);
  return result.policy;
}

/**
 * `policy check --config <file> [<policy file>]`: the policy file (default: the config's
 * policy.file) compiled, then checked as a start would check it. The config is parsed without
 * reading its secrets (none is needed here); TRUSTGATE_REDIS_URL applies as for serve. Each
 * problem on a line of its own, `<severity>: <field>: <message>`, then a summary; exit 1 on any error.
 */
async function checkWithConfig(
  configFlag: string,
  positionals: readonly string[],
  json: boolean | undefined,
  print: Print,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}" (name one policy file)`);
  const config = resolveParsedConfig({ config: configFlag }, env);
  const configFile = config.source;
  const file = positionals[0] ?? config.policyFile;
  const policy = compileFile(file, json, print);
  if (typeof policy === 'number') return policy;
  const read: ProspectiveTrust | SetupProblem = await readProspectiveTrust(config).catch((error: unknown) => {
    if (error instanceof ConfigError) return { severity: 'error', field: 'keys.dir', message: error.message } as const;
    if (error instanceof TrustReadError) return { severity: 'error', field: 'redis.url', message: error.message } as const;
    throw error;
  });
  const problems = 'snapshot' in read ? checkSetup(policy, setupFacts(config, read.snapshot, Date.now())) : [read];
  const ok = !hasErrors(problems);
  const rules = policy.rules.map((r) => r.name);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const counted = `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
  const against =
    'snapshot' in read
      ? `${read.sources.join(' and ')}; ${plural(read.snapshot.entries.length, 'trust entry', 'trust entries')}`
      : 'the trust store could not be read';
  print(
    json === true
      ? JSON.stringify({ ok, file, config: configFile, hash: policy.hash, rules, problems }, null, 2)
      : [
          ...problems.map(formatProblem),
          `${file}: ${ok ? 'ok' : 'refused'} against ${configFile} (${against}), ${plural(rules.length, 'rule')} (${rules.join(', ')}), hash ${policy.hash}; ${counted}${ok ? '' : ': trustgate would refuse to start'}`,
        ].join('\n'),
  );
  return ok ? 0 : 1;
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

const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

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
