import { readFileSync } from 'node:fs';
import { holdsPrivateKey } from '../trust/trust-pem.ts';
import { UsageError } from '../tools/usage-error.ts';
import { parseFlags, required } from './args.ts';
import { KEYS_USAGE } from './admin-usage.ts';
import { API_FLAGS, withApi } from './api-flags.ts';
import { describeKey as describe, type KeyView } from './key-lines.ts';
import { columns, dispatch, help, onePositional, output, timeFlag, type Print } from './subcommands.ts';

// trustgate keys list|get|add|revoke|rotate: the trust store through /admin/v1/keys.

export function keysCommand(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  return dispatch('keys', KEYS_USAGE, { list, get, add, revoke, rotate }, args, print, env);
}

async function list(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, KEYS_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const body = (await withApi(values, env, (api) => api.call({ method: 'GET', path: '/keys' }))) as {
    version: number;
    durable: boolean;
    keys: KeyView[];
    revokedUnknown?: { id: string; reason: string }[];
  };
  return output(print, values.json, body, () => [
    `trust store version ${body.version}${body.durable ? '' : ' (in memory: changes are refused without Redis)'}, ${body.keys.length} entr${body.keys.length === 1 ? 'y' : 'ies'}`,
    ...columns([
      ['ID', 'KIND', 'STATUS', 'VALID', 'PURPOSES', 'NOT AFTER', 'SCOPES'],
      ...body.keys.map((k) => [
        k.id,
        k.kind,
        k.status,
        k.validNow === false ? 'no' : 'yes',
        k.purposes.join(','),
        k.notAfter ?? '-',
        k.scopes.join(' '),
      ]),
    ]),
    ...(body.revokedUnknown ?? []).map((r) => `revoked before it was added: ${r.id} (${r.reason})`),
  ]);
}

async function get(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, KEYS_USAGE);
  const id = onePositional(positionals, 'key id');
  const key = (await withApi(values, env, (api) => api.call({ method: 'GET', path: `/keys/${encodeURIComponent(id)}` }))) as KeyView;
  return output(print, values.json, key, () => describe(key));
}

async function add(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...API_FLAGS,
    id: { type: 'string' },
    'pem-file': { type: 'string' },
    kind: { type: 'string' },
    scope: { type: 'string', multiple: true },
    purpose: { type: 'string', multiple: true },
    'not-before': { type: 'string' },
    'not-after': { type: 'string' },
  });
  if (values.help) return help(print, KEYS_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const id = required(values.id, '--id');
  const pem = publicPem(required(values['pem-file'], '--pem-file'));
  if ((values.scope ?? []).length === 0) throw new UsageError('give at least one --scope <pattern>');
  if (values.kind !== undefined && !['key', 'notation-root'].includes(values.kind))
    throw new UsageError('--kind: "key" or "notation-root"');
  const body = {
    id,
    pem,
    ...(values.kind === undefined ? {} : { kind: values.kind }),
    scopes: values.scope,
    ...(values.purpose === undefined ? {} : { purposes: values.purpose }),
    ...(values['not-before'] === undefined ? {} : { notBefore: timeFlag('--not-before', values['not-before']) }),
    ...(values['not-after'] === undefined ? {} : { notAfter: timeFlag('--not-after', values['not-after']) }),
  };
  const key = (await withApi(values, env, (api) => api.call({ method: 'POST', path: '/keys', json: body }))) as KeyView;
  return output(print, values.json, key, () => [`added "${key.id}"`, ...describe(key)]);
}

async function revoke(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, { ...API_FLAGS, reason: { type: 'string' } });
  if (values.help) return help(print, KEYS_USAGE);
  const id = onePositional(positionals, 'key id');
  const reason = required(values.reason, '--reason');
  const key = (await withApi(values, env, (api) =>
    api.call({ method: 'POST', path: `/keys/${encodeURIComponent(id)}/revoke`, json: { reason } }),
  )) as KeyView;
  return output(print, values.json, key, () => [
    `revoked "${key.id}" at ${key.revokedAt ?? '?'}: ${key.reason ?? reason}`,
    'every replica stops accepting its signatures within a second; nothing undoes a revocation',
  ]);
}

async function rotate(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...API_FLAGS,
    'new-id': { type: 'string' },
    'pem-file': { type: 'string' },
    'keep-old-until': { type: 'string' },
  });
  if (values.help) return help(print, KEYS_USAGE);
  const id = onePositional(positionals, 'key id');
  const body = {
    newId: required(values['new-id'], '--new-id'),
    pem: publicPem(required(values['pem-file'], '--pem-file')),
    keepOldUntil: timeFlag('--keep-old-until', required(values['keep-old-until'], '--keep-old-until')),
  };
  const answer = (await withApi(values, env, (api) =>
    api.call({ method: 'POST', path: `/keys/${encodeURIComponent(id)}/rotate`, json: body }),
  )) as { old: KeyView; new: KeyView };
  return output(print, values.json, answer, () => [
    `rotated "${answer.old.id}" to "${answer.new.id}": "${answer.old.id}" counts until ${answer.old.notAfter ?? '?'}`,
    ...describe(answer.new),
  ]);
}

/** The PEM file's text; a private key is refused here, before anything is sent. */
function publicPem(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--pem-file: cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (holdsPrivateKey(text))
    throw new UsageError(`--pem-file "${file}" holds a private key; give its public half (a .pub or certificate); nothing was sent`);
  return text;
}
