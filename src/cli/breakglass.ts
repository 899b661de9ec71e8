import { UsageError } from '../tools/usage-error.ts';
import { parseFlags, required } from './args.ts';
import { BREAKGLASS_USAGE } from './admin-usage.ts';
import { API_FLAGS, withApi } from './api-flags.ts';
import { columns, dispatch, help, onePositional, output, timeFlag, type Print } from './subcommands.ts';

// trustgate breakglass add|list|end: time-boxed exceptions to the policy (/admin/v1/breakglass).

interface BreakGlass {
  id: string;
  image?: string;
  reason?: string;
  expires?: string;
  actor?: string;
  createdAt?: string;
  endedAt?: string;
  endedBy?: string;
  shared?: boolean;
}

const ONLY_HERE = 'note: this trustgate has no Redis, so the exception holds on this replica only and ends at its restart';

export function breakglassCommand(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  return dispatch('breakglass', BREAKGLASS_USAGE, { add, list, end }, args, print, env);
}

async function add(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, { ...API_FLAGS, reason: { type: 'string' }, expires: { type: 'string' } });
  if (values.help) return help(print, BREAKGLASS_USAGE);
  const image = onePositional(positionals, 'image (<registry host>/<repository pattern>, or <registry host>/<repository>@<digest>)');
  const reason = required(values.reason, '--reason');
  const expires = timeFlag('--expires', required(values.expires, '--expires'));
  const entry = (await withApi(values, env, (api) =>
    api.call({ method: 'POST', path: '/breakglass', json: { image, reason, expires } }),
  )) as BreakGlass;
  return output(print, values.json, entry, () => [
    `break glass ${entry.id}: ${entry.image ?? image} is let through the policy until ${entry.expires ?? expires}: ${entry.reason ?? reason}`,
    ...(entry.shared === false ? [ONLY_HERE] : []),
    `end it early with: trustgate breakglass end ${entry.id}`,
  ]);
}

async function list(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, BREAKGLASS_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const body = (await withApi(values, env, (api) => api.call({ method: 'GET', path: '/breakglass' }))) as {
    shared: boolean;
    entries: BreakGlass[];
  };
  return output(print, values.json, body, () => [
    ...(body.entries.length === 0
      ? ['no active break-glass exceptions']
      : columns([
          ['ID', 'EXPIRES', 'BY', 'IMAGE', 'REASON'],
          ...body.entries.map((e) => [e.id, e.expires ?? '-', e.actor ?? '-', e.image ?? '-', e.reason ?? '']),
        ])),
    ...(body.shared ? [] : [ONLY_HERE]),
  ]);
}

async function end(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, BREAKGLASS_USAGE);
  const id = onePositional(positionals, 'break-glass id');
  const body = (await withApi(values, env, (api) =>
    api.call({ method: 'DELETE', path: `/breakglass/${encodeURIComponent(id)}` }),
  )) as BreakGlass;
  return output(print, values.json, body, () => [
    `ended break glass ${body.id}${body.image === undefined ? '' : ` on ${body.image}`} at ${body.endedAt ?? '?'}`,
  ]);
}
