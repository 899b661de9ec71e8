import { UsageError } from '../tools/usage-error.ts';
import { printable } from '../oci/reference.ts';
import { parseFlags } from './args.ts';
import { AUDIT_USAGE } from './admin-usage.ts';
import { API_FLAGS, withApi } from './api-flags.ts';
import { columns, help, output, type Print } from './subcommands.ts';

interface AuditEntry {
  id: string;
  time: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  message?: string;
}

/** trustgate audit [--actor] [--action] [--limit] [--after]: the audit log, newest first. */
export async function auditCommand(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...API_FLAGS,
    actor: { type: 'string' },
    action: { type: 'string' },
    limit: { type: 'string' },
    after: { type: 'string' },
  });
  if (values.help) return help(print, AUDIT_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.limit !== undefined && !/^\d{1,4}$/.test(values.limit)) throw new UsageError('--limit: a whole number from 1 to 1000');
  const query = { limit: values.limit, after: values.after, actor: values.actor, action: values.action };
  const body = (await withApi(values, env, (api) => api.call({ method: 'GET', path: '/audit', query }))) as {
    entries: AuditEntry[];
    next?: string;
  };
  return output(print, values.json, body, () => [
    ...(body.entries.length === 0
      ? ['no audit entries']
      : columns([
          ['TIME', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME'],
          ...body.entries.map((e) => [
            e.time,
            printable(e.actor, 64),
            e.action,
            printable(e.target, 80),
            e.message === undefined ? e.outcome : `${e.outcome}: ${printable(e.message, 160)}`,
          ]),
        ])),
    ...(body.next === undefined ? [] : [`more: --after ${body.next}`]),
  ]);
}
