// node:test glue: one test per target, one subtest per property, each a bounded fast-check run.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CI_RUNS, CI_SEED, quietYamlWarnings, runProperty, type FuzzTarget } from './harness.ts';

export function fuzzTargets(targets: readonly FuzzTarget[]): void {
  quietYamlWarnings();
  for (const target of targets) {
    it(target.name, async (t) => {
      const session = await target.open();
      try {
        for (const property of session.properties) {
          await t.test(property.name, async () => {
            const result = await runProperty(target.name, property, { runs: CI_RUNS, seed: CI_SEED });
            assert.equal(result.failed, false, result.report);
          });
        }
      } finally {
        await session.close?.();
      }
    });
  }
}
