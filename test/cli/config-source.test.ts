import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

// One resolver (src/config/resolve.ts) turns flags and the environment into the Config for the
// proxy and every command. These checks read the source so a command cannot quietly grow its own
// reading of TRUSTGATE_* again, or load a config some other way.

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : name.endsWith('.ts') ? [full] : [];
  });
}

/** Source without comments: help texts may name the variables; code must not read them. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every TRUSTGATE_* name a file uses as a string of its own (`env['TRUSTGATE_X']`, `'TRUSTGATE_X'`) or a property (`env.TRUSTGATE_X`). */
function variablesRead(text: string): string[] {
  return [...text.matchAll(/['"`]TRUSTGATE_[A-Z_]*|\.TRUSTGATE_[A-Z_]*/g)].map((m) => m[0].slice(1)).sort();
}

const SRC = 'src';
const resolver = join(SRC, 'config', 'resolve.ts');
/** TRUSTGATE_* variables that are not configuration: the admin CLI's connection, the scan worker's token, the warm-up switch. */
const NOT_CONFIG: Readonly<Record<string, readonly string[]>> = {
  [join(SRC, 'cli', 'api-flags.ts')]: ['TRUSTGATE_API', 'TRUSTGATE_TOKEN'],
  // Its token, and the prefix it strips from trivy's environment.
  [join(SRC, 'cli', 'scan-worker.ts')]: ['TRUSTGATE_', 'TRUSTGATE_SCANNER_TOKEN'],
  // The switch for the blob path's warm-up at start (config/README.md): how the process starts, not what it enforces.
  [join(SRC, 'runtime', 'warmup.ts')]: ['TRUSTGATE_WARMUP'],
};
const CONFIG_VARIABLES = ['TRUSTGATE_CONFIG', 'TRUSTGATE_LISTEN', 'TRUSTGATE_LOG_LEVEL', 'TRUSTGATE_REDIS_URL'];
const COMPOSITION = [join(SRC, 'cli'), join(SRC, 'runtime'), join(SRC, 'tools'), join(SRC, 'main.ts'), join(SRC, 'cli.ts')];

describe('one config resolver', () => {
  it('the resolver reads exactly the documented configuration variables', () => {
    assert.deepEqual([...new Set(variablesRead(code(resolver)))], CONFIG_VARIABLES);
    const readme = readFileSync('config/README.md', 'utf8');
    for (const name of CONFIG_VARIABLES) assert.match(readme, new RegExp(`\\| \`${name}\` \\|`), `config/README.md lists ${name}`);
  });

  it('no other file in src/ reads a TRUSTGATE_* variable, but the three that are not configuration', () => {
    for (const file of files(SRC).filter((f) => f !== resolver)) {
      assert.deepEqual(variablesRead(code(file)), NOT_CONFIG[file] ?? [], `${relative('.', file)} reads TRUSTGATE_* itself`);
    }
  });

  it('the proxy and every command load their config through the resolver', () => {
    const users: string[] = [];
    for (const file of COMPOSITION.flatMap((p) => (p.endsWith('.ts') ? [p] : files(p)))) {
      const text = code(file);
      if (/\bresolve(Parsed)?Config\(/.test(text)) users.push(relative(SRC, file));
      // The demo loads the config it has just written for itself, with no environment at all.
      if (file === join(SRC, 'tools', 'demo.ts')) continue;
      assert.doesNotMatch(
        text,
        /\b(loadConfig|loadConfigText|parseConfig|readReferences)\(/,
        `${relative('.', file)} loads a config itself`,
      );
    }
    assert.deepEqual(users.sort(), [
      'cli/doctor.ts',
      'cli/policy.ts',
      'cli/revoke.ts',
      'cli/scan-worker.ts',
      'cli/token.ts',
      'runtime/serve.ts',
    ]);
  });

  it('the check sees the ways a command used to read them', () => {
    const before = "const p = values.config ?? env['TRUSTGATE_CONFIG'] ?? X; const o = env.TRUSTGATE_REDIS_URL;";
    assert.deepEqual(variablesRead(before), ['TRUSTGATE_CONFIG', 'TRUSTGATE_REDIS_URL']);
    assert.deepEqual(variablesRead('const usage = `default $TRUSTGATE_CONFIG`;'), []);
  });
});
