import { UsageError } from '../tools/usage-error.ts';
import { parseFlags } from './args.ts';
import { ROBOTS_USAGE } from './admin-usage.ts';
import { API_FLAGS, withApi } from './api-flags.ts';
import { columns, dispatch, help, onePositional, output, type Print } from './subcommands.ts';

// trustgate robots add|list|revoke: robot accounts for pull-side access control (/admin/v1/robots).

interface Robot {
  name: string;
  repositories: string[];
  createdAt: string;
  revokedAt?: string;
  secret?: string;
}

export function robotsCommand(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  return dispatch('robots', ROBOTS_USAGE, { add, list, revoke }, args, print, env);
}

/** The one command that prints a secret: the robot's, which the API returns once and never again. */
async function add(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, { ...API_FLAGS, repository: { type: 'string', multiple: true } });
  if (values.help) return help(print, ROBOTS_USAGE);
  const name = onePositional(positionals, 'robot');
  const repositories = values.repository ?? [];
  if (repositories.length === 0) throw new UsageError('give at least one --repository <pattern>');
  const robot = (await withApi(values, env, (api) => api.call({ method: 'POST', path: '/robots', json: { name, repositories } }))) as Robot;
  return output(print, values.json, robot, () => [
    `robot "${robot.name}" may pull ${robot.repositories.join(', ')}`,
    `secret (shown once; trustgate keeps only a hash): ${robot.secret ?? '?'}`,
    `log in as "${robot.name}" with this secret, e.g. skopeo --creds ${robot.name}:<secret>`,
  ]);
}

async function list(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, ROBOTS_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const body = (await withApi(values, env, (api) => api.call({ method: 'GET', path: '/robots' }))) as { robots: Robot[] };
  return output(print, values.json, body, () =>
    body.robots.length === 0
      ? ['no robot accounts']
      : columns([
          ['NAME', 'CREATED', 'REVOKED', 'REPOSITORIES'],
          ...body.robots.map((r) => [r.name, r.createdAt, r.revokedAt ?? '-', r.repositories.join(' ')]),
        ]),
  );
}

async function revoke(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, ROBOTS_USAGE);
  const name = onePositional(positionals, 'robot');
  const robot = (await withApi(values, env, (api) => api.call({ method: 'DELETE', path: `/robots/${encodeURIComponent(name)}` }))) as Robot;
  return output(print, values.json, robot, () => [`revoked robot "${robot.name}" at ${robot.revokedAt ?? '?'}`]);
}
