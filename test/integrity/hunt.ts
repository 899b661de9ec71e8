// Finds each attack class separately: for every class, runs the integrity property failing only on
// that class, and prints how many graphs it took, fast-check's seed and path, and the shrunk request
// sequence. `npx tsx test/integrity/hunt.ts [--runs N] [--seed S] [--class C] [--match <text of the violation>]`
import fc from 'fast-check';
import { ATTACK_CLASSES, type ViolationClass } from './model.ts';
import { integrityProperty, openOracle } from './oracle.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const runs = Number(arg('runs') ?? 300);
const seed = Number(arg('seed') ?? 20_240_607);
const classes = arg('class') === undefined ? [...ATTACK_CLASSES, 'liveness' as ViolationClass] : [arg('class') as ViolationClass];
const match = arg('match');
const oracle = await openOracle();
try {
  for (const cls of classes) {
    const started = performance.now();
    const details = await fc.check(integrityProperty(oracle, cls, match), { numRuns: runs, seed });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (!details.failed) {
      console.log(`${cls}: not found in ${details.numRuns} graphs (seed ${seed}, ${seconds} s)`);
      continue;
    }
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    console.log(
      `${cls}: found after ${details.numRuns} graph(s), seed ${details.seed}, path "${details.counterexamplePath}", shrunk ${details.numShrinks}× (${seconds} s)`,
    );
    console.log(error.replace(/^/gm, '    '));
  }
} finally {
  await oracle.close();
}
