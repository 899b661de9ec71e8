#!/usr/bin/env node
// The `trustgate` command. `trustgate [serve]` is the proxy (what `node dist/main.js` runs); the
// other commands are tools for trying and testing it. Exit codes: 0 ok, 1 failure, 2 usage.
// Commands are imported when run, so `--help` and the tools do not load the proxy.
import { noPositionals, parseFlags } from './cli/args.ts';
import { SERVE_USAGE, USAGE } from './cli/usage.ts';
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
  const { serve } = await import('./serve.ts');
  void serve(values.config === undefined ? [] : ['--config', values.config]);
  return 'serving';
}

const COMMANDS = new Set(['serve', 'sign', 'keygen', 'demo', 'revoke', 'scan-worker']);

function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

const argv = process.argv.slice(2);
const known = argv[0] !== undefined && COMMANDS.has(argv[0]) ? argv[0] : undefined;
run(argv).then(
  (code) => {
    if (code !== 'serving') exit(code);
  },
  (error: unknown) => {
    const who = known === undefined ? 'trustgate' : `trustgate ${known}`;
    if (error instanceof UsageError) {
      process.stderr.write(`${who}: ${error.message}\nRun "${who} --help" for usage.\n`);
      exit(2);
    } else {
      process.stderr.write(`${who}: ${error instanceof Error ? error.message : String(error)}\n`);
      exit(1);
    }
  },
);
