// The long fuzz run (issue #7 item 4): the properties of test/fuzz with many more cases (by default
// 100,000 per property at weight 1, and at least that many per target).
//   npm run fuzz -- [--runs N] [--only <target or property text>] [--seed S]
// One line per property: target, runs, failures, seconds (wall and CPU), property; then a total per
// target and a summary. Exits 1 on any failure, printing fast-check's report (seed and counterexample).
import { quietYamlWarnings, runProperty, targetScale, type PropertyResult } from '../test/fuzz/harness.ts';
import { TARGETS } from '../test/fuzz/targets.ts';

function flag(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i === -1) return undefined;
  const arg = args[i]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[i + 1];
}

const runs = Number(flag('runs') ?? 100_000);
const only = flag('only');
const seed = Number(flag('seed') ?? Date.now() % 2 ** 31);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--runs N] [--only <text>] [--seed S]');
  process.exit(2);
}

const pad = (text: string | number, width: number): string => String(text).padEnd(width);
const warnings = quietYamlWarnings();
console.log(`fuzz: ${runs} runs per property (weighted), seed ${seed}${only === undefined ? '' : `, only "${only}"`}`);
console.log(`${pad('target', 16)} ${pad('runs', 8)} ${pad('failed', 6)} ${pad('seconds', 8)} ${pad('cpu s', 8)} property`);
const all: PropertyResult[] = [];
const started = performance.now();
// --only names a target (part of its name), or else part of a property's name.
const byTarget = only !== undefined && TARGETS.some((t) => t.name.includes(only));
for (const target of TARGETS) {
  if (byTarget && !target.name.includes(only!)) continue;
  const session = await target.open();
  const mine: PropertyResult[] = [];
  try {
    const selected = session.properties.filter((p) => only === undefined || byTarget || p.name.includes(only));
    // Weights share the runs among a target's properties; together they make at least `runs` cases.
    const scale = targetScale(selected);
    for (const property of selected) {
      const result = await runProperty(target.name, property, { runs, seed, scale });
      mine.push(result);
      console.log(
        `${pad(target.name, 16)} ${pad(result.runs, 8)} ${pad(result.failed ? 1 : 0, 6)} ${pad(result.seconds.toFixed(1), 8)} ${pad(result.cpuSeconds.toFixed(1), 8)} ${property.name.slice(0, 100)}`,
      );
      if (result.report !== undefined) console.log(result.report.replace(/^/gm, '    '));
    }
  } finally {
    await session.close?.();
  }
  if (mine.length > 0) {
    const seconds = mine.reduce((a, r) => a + r.seconds, 0);
    const cpuSeconds = mine.reduce((a, r) => a + r.cpuSeconds, 0);
    const cases = mine.reduce((a, r) => a + r.runs, 0);
    console.log(
      `${pad(target.name, 16)} ${pad(cases, 8)} ${pad(mine.filter((r) => r.failed).length, 6)} ${pad(seconds.toFixed(1), 8)} ${pad(cpuSeconds.toFixed(1), 8)} = target total`,
    );
  }
  all.push(...mine);
}
const failed = all.filter((r) => r.failed);
const cases = all.reduce((a, r) => a + r.runs, 0);
console.log(
  `summary: ${all.length} properties, ${cases} cases, ${failed.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s, seed ${seed}` +
    `${warnings.count() > 0 ? ` (${warnings.count()} yaml warnings not shown)` : ''}`,
);
process.exit(failed.length === 0 ? 0 : 1);
