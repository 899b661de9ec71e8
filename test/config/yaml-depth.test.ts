import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/input/config-error.ts';
import { parseConfig } from '../../src/config/index.ts';
import { MAX_FLOW_DEPTH } from '../../src/input/yaml-depth.ts';
import { parsePolicy } from '../../src/policy/parse.ts';

const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('deeply nested YAML (a replica-stalling body for the policy API)', () => {
  it('a 200,000-deep flow sequence in a policy › refused at once, naming the limit', () => {
    const started = performance.now();
    assert.throws(
      () => parsePolicy(`rules: ${deep(200_000)}\n`, 'policy.yaml', () => undefined),
      (error: unknown) => error instanceof ConfigError && /nested more than 64 levels/.test(error.message),
    );
    assert.ok(performance.now() - started < 500, 'refused before parsing');
  });

  it('the same in a config file › a ConfigError', () => {
    assert.throws(() => parseConfig(`upstreams: ${deep(MAX_FLOW_DEPTH + 1)}\n`, 'c.yaml'), ConfigError);
  });

  it('nesting up to the limit is left to the schema', () => {
    assert.throws(
      () => parseConfig(`upstreams: ${deep(MAX_FLOW_DEPTH)}\n`, 'c.yaml'),
      (error: unknown) => error instanceof ConfigError && !/nested more than/.test(error.message),
    );
  });
});
