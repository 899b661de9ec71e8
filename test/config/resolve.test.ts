import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { configFlags, ConfigError, DEFAULT_CONFIG_PATH, planConfig, resolveConfig } from '../../src/config/index.ts';

// The resolver: which file (--config, else TRUSTGATE_CONFIG, else config/trustgate.yaml) and which
// overrides (TRUSTGATE_LISTEN, TRUSTGATE_REDIS_URL, TRUSTGATE_LOG_LEVEL over the file's values,
// which are over the schema's defaults), as a pure function of (argv, env).
const plan = (argv: string[], env: Record<string, string> = {}) => planConfig(configFlags(argv), env);

describe('the config resolver', () => {
  it('the config path › --config over TRUSTGATE_CONFIG over the default', () => {
    assert.equal(plan([]).path, DEFAULT_CONFIG_PATH);
    assert.equal(plan([], { TRUSTGATE_CONFIG: 'from-env.yaml' }).path, 'from-env.yaml');
    assert.equal(plan(['--config', 'flag.yaml'], { TRUSTGATE_CONFIG: 'from-env.yaml' }).path, 'flag.yaml');
    assert.equal(plan(['--config=flag.yaml'], { TRUSTGATE_CONFIG: 'from-env.yaml' }).path, 'flag.yaml');
    assert.equal(planConfig({ config: 'flag.yaml' }, { TRUSTGATE_CONFIG: 'from-env.yaml' }).path, 'flag.yaml');
  });

  it("the proxy's argv › only --config counts; anything else is ignored, as before", () => {
    assert.deepEqual(configFlags(['--verbose', 'x', '--config', 'c.yaml']), { config: 'c.yaml' });
    assert.deepEqual(configFlags(['--other']), {});
  });

  it('each override › its variable when set and non-empty, else none (the file and its defaults apply)', () => {
    const env = { TRUSTGATE_LISTEN: '0.0.0.0:6000', TRUSTGATE_REDIS_URL: 'redis://r:6379', TRUSTGATE_LOG_LEVEL: 'debug' };
    assert.deepEqual(plan([], env).overrides, { listen: '0.0.0.0:6000', redisUrl: 'redis://r:6379', logLevel: 'debug' });
    assert.deepEqual(plan([], {}).overrides, {});
    assert.deepEqual(plan([], { TRUSTGATE_LISTEN: '', TRUSTGATE_REDIS_URL: '', TRUSTGATE_LOG_LEVEL: '' }).overrides, {});
    assert.deepEqual(plan([], { TRUSTGATE_LOG_LEVEL: 'warn', TRUSTGATE_API: 'http://x', REDIS_URL: 'redis://y' }).overrides, {
      logLevel: 'warn',
    });
  });

  describe('resolveConfig', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-resolve-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, extra: string): string => {
      const file = join(dir, name);
      writeFileSync(
        file,
        `listen: { address: "127.0.0.1:7001", plainHttp: true }\n${extra}upstreams:\n  - { name: up, url: "http://127.0.0.1:5000", repositories: ["127.0.0.1:5000/**"], allowAnonymousPulls: true, auth: { type: bearer, token: { env: UP_TOKEN } } }\n`,
      );
      return file;
    };
    const flagFile = write('flag.yaml', 'log: { level: warn }\nredis: { url: "redis://file:6379" }\n');
    const envFile = write('env.yaml', '');

    it('reads the file the flag names over the one the variable names, absolute', () => {
      const env = { TRUSTGATE_CONFIG: envFile, UP_TOKEN: 't' };
      assert.equal(resolveConfig({ config: flagFile }, env).source, flagFile);
      assert.equal(resolveConfig({}, env).source, envFile);
      // A relative path is relative to the working directory, and the Config names the file absolutely.
      const fromCwd = resolveConfig({}, { TRUSTGATE_CONFIG: relative(process.cwd(), envFile), UP_TOKEN: 't' });
      assert.equal(fromCwd.source, envFile);
    });

    it('overrides beat the file, the file beats the defaults', () => {
      const fromFile = resolveConfig({ config: flagFile }, { UP_TOKEN: 't' });
      assert.deepEqual([fromFile.listen.port, fromFile.redis.url, fromFile.log.level], [7001, 'redis://file:6379', 'warn']);
      const defaults = resolveConfig({ config: envFile }, { UP_TOKEN: 't' });
      assert.deepEqual([defaults.redis.url, defaults.log.level], [undefined, 'info']);
      const env = {
        UP_TOKEN: 't',
        TRUSTGATE_LISTEN: '0.0.0.0:7002',
        TRUSTGATE_REDIS_URL: 'redis://env:6379',
        TRUSTGATE_LOG_LEVEL: 'error',
      };
      const overridden = resolveConfig({ config: flagFile }, env);
      assert.deepEqual(
        [overridden.listen.host, overridden.listen.port, overridden.redis.url, overridden.log.level],
        ['0.0.0.0', 7002, 'redis://env:6379', 'error'],
      );
    });

    it('secrets come from the same env map; a bad override is named as its field', () => {
      const creds = resolveConfig({ config: envFile }, { UP_TOKEN: 's3cret' }).upstreams[0]!.credentials;
      assert.equal(creds.type === 'bearer' && creds.token.reveal(), 's3cret');
      assert.throws(
        () => resolveConfig({ config: envFile }, {}),
        (e: unknown) => e instanceof ConfigError && e.field === 'upstreams[0].auth.token.env',
      );
      assert.throws(
        () => resolveConfig({ config: envFile }, { UP_TOKEN: 't', TRUSTGATE_LISTEN: 'nonsense' }),
        (e: unknown) => e instanceof ConfigError && e.field === 'listen.address',
      );
      assert.throws(
        () => resolveConfig({ config: envFile }, { UP_TOKEN: 't', TRUSTGATE_LOG_LEVEL: 'loud' }),
        (e: unknown) => e instanceof ConfigError && e.field === 'log.level',
      );
    });
  });
});
