import { UsageError } from '../tools/usage-error.ts';

export type Print = (line: string) => void;
export type Subcommand = (args: readonly string[], print: Print, env: NodeJS.ProcessEnv) => Promise<number>;

/** `trustgate <group> <subcommand> …`: runs the subcommand; `--help` anywhere before it prints the group's usage. */
export function dispatch(
  group: string,
  usage: string,
  subs: Readonly<Record<string, Subcommand>>,
  args: readonly string[],
  print: Print,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    print(usage);
    return Promise.resolve(0);
  }
  const names = Object.keys(subs).join(', ');
  if (sub === undefined) throw new UsageError(`name a subcommand: ${names}`);
  const run = Object.hasOwn(subs, sub) ? subs[sub] : undefined;
  if (run === undefined) throw new UsageError(`unknown ${group} subcommand "${sub}" (one of: ${names})`);
  return run(rest, print, env);
}

/** `--help` after a subcommand: the group's usage, exit 0. */
export function help(print: Print, usage: string): number {
  print(usage);
  return 0;
}

/** The one positional argument a subcommand takes. */
export function onePositional(positionals: readonly string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`name the ${what}`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}" (name one ${what})`);
  return positionals[0]!;
}

/** Aligned columns, two spaces apart. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** `--json`: the raw answer; otherwise the human lines. */
export function output(print: Print, json: boolean | undefined, body: unknown, human: () => readonly string[]): number {
  if (json === true) print(JSON.stringify(body, null, 2));
  else for (const line of human()) print(line);
  return 0;
}

const MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A time flag: RFC 3339, a date (midnight UTC), or a duration from now (`90d`, `12h`); as RFC 3339 UTC. */
export function timeFlag(flag: string, text: string, now = Date.now()): string {
  const relative = /^(\d{1,6})([mhdw])$/.exec(text);
  const ms =
    relative !== null
      ? now + Number(relative[1]) * MS[relative[2]!]!
      : /^\d{4}-\d{2}-\d{2}$/.test(text)
        ? Date.parse(`${text}T00:00:00Z`)
        : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)
          ? Date.parse(text)
          : NaN;
  if (!Number.isFinite(ms))
    throw new UsageError(
      `${flag} "${text}": an RFC 3339 time (2027-01-31T12:00:00Z), a date (2027-01-31) or a duration from now (90d, 12h, 30m, 2w)`,
    );
  return new Date(ms).toISOString();
}
