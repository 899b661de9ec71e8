import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { loadPolicy } from '../../src/policy-store/policy-file.ts';
import { parseTrustedIdentity } from '../../src/verify/notation/index.ts';

// The files users start from must stay valid as the schema grows.
describe('the shipped configuration files', () => {
  for (const [config, policy] of [
    ['config/trustgate.yaml', 'config/policy.yaml'],
    ['config/trustgate.compose.yaml', 'config/policy.compose.yaml'],
  ] as const) {
    it(`${config} and ${policy} load`, () => {
      const loaded = loadConfig(config);
      assert.ok(loaded.policyFile.endsWith('policy.yaml'));
      const rules = loadPolicy(policy, (identity) => void parseTrustedIdentity(identity)).rules;
      assert.ok(rules.length > 0);
      assert.ok(rules.every((rule) => rule.images.some((p) => p.source.startsWith(loaded.upstreams[0]!.registryHost))));
    });
  }
});
