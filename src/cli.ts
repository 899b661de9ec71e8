#!/usr/bin/env node
// The `trustgate` command. `trustgate [serve]` is the proxy (what `node dist/main.js` runs); the
// other commands are tools for trying and testing it, and clients of its admin API. Exit codes:
// 0 ok, 1 failure, 2 usage, 3 the admin API cannot be reached (cli/api-error.ts).
// Commands are imported when run, so `--help` and the tools do not load the proxy.
import { noPositionals, parseFlags } from './cli/args.ts';
import { SERVE_USAGE, USAGE } from './cli/usage.ts';
import { ApiError } from './cli/api-error.ts';
import { UsageError } from './tools/usage-error.ts';

type Print = (line: string) => void;
const print: Print = (line) => void process.stdout.write(`${line}\n`);

/** Runs one command; `serving` when the proxy took over the process. */
async function run(argv: readonly string[]): Promise<number | 'serving'> {
  const [command, ...rest] = argv;
  switch (command) {
    case '--help':
    case '-h':
    case 'help':
      print(USAGE);
      return 0;
    case 'sign':
      return (await import('./cli/sign.ts')).signCommand(rest, print, process.env);
    case 'keygen':
      return (await import('./cli/keygen.ts')).keygenCommand(rest, print);
    case 'demo':
      return (await import('./cli/demo.ts')).demoCommand(rest, print);
    case 'revoke':
      return (await import('./cli/revoke.ts')).revokeCommand(rest, print, process.env);
    case 'scan-worker':
      return (await import('./cli/scan-worker.ts')).scanWorkerCommand(rest, print, process.env);
    case 'token':
      return (await import('./cli/token.ts')).tokenCommand(rest, print, process.env);
    case 'keys':
      return (await import('./cli/keys.ts')).keysCommand(rest, print, process.env);
    case 'policy':
      return (await import('./cli/policy.ts')).policyCommand(rest, print, process.env);
    case 'explain':
      return (await import('./cli/explain.ts')).explainCommand(rest, print, process.env);
    case 'robots':
      return (await import('./cli/robots.ts')).robotsCommand(rest, print, process.env);
    case 'breakglass':
      return (await import('./cli/breakglass.ts')).breakglassCommand(rest, print, process.env);
    case 'audit':
      return (await import('./cli/audit.ts')).auditCommand(rest, print, process.env);
    case 'doctor':
      return (await import('./cli/doctor.ts')).doctorCommand(rest, print, process.env);
    case 'serve':
      return startProxy(rest);
    default:
      if (command === undefined || command.startsWith('-')) return startProxy(argv);
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function startProxy(args: readonly string[]): Promise<number | 'serving'> {
  const { values, positionals } = parseFlags(args, { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    print(SERVE_USAGE);
    return 0;
  }
  noPositionals(positionals);
  const { serve } = await import('./runtime/serve.ts');
  void serve({ config: values.config }, process.env);
  return 'serving';
}

const COMMANDS = new Set(['serve', 'sign', 'keygen', 'demo', 'revoke', 'scan-worker', 'explain', 'audit', 'doctor']);
/** Commands with subcommands: messages name both (`trustgate keys add: …`); help is the group's. */
const GROUPS: Readonly<Record<string, readonly string[]>> = {
  token: ['mint'],
  keys: ['list', 'get', 'add', 'revoke', 'rotate'],
  policy: ['check', 'get', 'validate', 'apply', 'rollback'],
  robots: ['add', 'list', 'revoke'],
  breakglass: ['add', 'list', 'end'],
};

function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

const argv = process.argv.slice(2);
const group = argv[0] !== undefined && Object.hasOwn(GROUPS, argv[0]) ? argv[0] : undefined;
const sub = group !== undefined && argv[1] !== undefined && GROUPS[group]!.includes(argv[1]) ? ` ${argv[1]}` : '';
const known = argv[0] !== undefined && COMMANDS.has(argv[0]) ? argv[0] : group === undefined ? undefined : `${group}${sub}`;
run(argv).then(
  (code) => {
    if (code !== 'serving') exit(code);
  },
  (error: unknown) => {
    const who = known === undefined ? 'trustgate' : `trustgate ${known}`;
    if (error instanceof UsageError) {
      process.stderr.write(`${who}: ${error.message}\nRun "${group === undefined ? who : `trustgate ${group}`} --help" for usage.\n`);
      exit(2);
    } else if (error instanceof ApiError) {
      process.stderr.write(`${who}: ${error.message}\n`);
      exit(error.exitCode);
    } else {
      process.stderr.write(`${who}: ${error instanceof Error ? error.message : String(error)}\n`);
      exit(1);
    }
  },
);
