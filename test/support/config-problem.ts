import assert from 'node:assert/strict';
import { ConfigError, loadConfigText } from '../../src/config/index.ts';

/** Parses config text that must be refused (by either step, parsing or reading), and returns the ConfigError (which names the field). */
export function configProblem(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    loadConfigText(text, 'test.yaml', { env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}
