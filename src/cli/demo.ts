import { resolve } from 'node:path';
import { runDemo } from '../tools/demo.ts';
import { DEMO_USAGE } from './usage.ts';
import { noPositionals, parseFlags } from './args.ts';

export async function demoCommand(args: readonly string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    keep: { type: 'boolean' },
    workdir: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    print(DEMO_USAGE);
    return 0;
  }
  noPositionals(positionals);
  const untilStopped = (): Promise<void> =>
    new Promise((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
  return runDemo({
    workdir: resolve(values.workdir ?? '.data/demo'),
    print,
    ...(values.keep ? { keep: { untilStopped } } : {}),
  });
}
