import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadConfigText, parseConfig } from '../../src/config/index.ts';
import { configProblem } from '../support/config-problem.ts';

const BASE = `
listen: { address: "127.0.0.1:0", plainHttp: true }
upstreams:
  - name: local
    url: http://127.0.0.1:5000
    default: true
    repositories: ["127.0.0.1:5000/**"]
`;

const problem = configProblem;

describe('configuration', () => {
  it('the shipped config/trustgate.yaml loads', () => {
    const config = loadConfig('config/trustgate.yaml');
    assert.equal(config.upstreams[0]?.registryHost, '127.0.0.1:5000');
    assert.equal(config.listen.port, 5050);
    assert.ok(Object.isFrozen(config.upstreams[0]));
  });

  it('fills defaults: 4 MiB manifests, anonymous auth, pass-through redirects', () => {
    const config = parseConfig(BASE, 'test.yaml');
    assert.equal(config.manifests.maxBytes, 4 * 1024 * 1024);
    assert.deepEqual(config.upstreams[0]?.credentials, { type: 'anonymous' });
    assert.equal(config.upstreams[0]?.blobRedirects.mode, 'pass');
  });

  it('a missing file names the file', () => {
    const error = (() => {
      try {
        loadConfig('/nonexistent/trustgate.yaml');
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    assert.match(error!.message, /\/nonexistent\/trustgate\.yaml: cannot read the file \(ENOENT\)/);
  });

  it('bad YAML names the line', () => {
    assert.match(problem('listen: [\n').message, /not valid YAML at line/);
  });

  it('an unknown field is named', () => {
    const error = problem(BASE.replace('default: true', 'default: true\n    colour: red'));
    assert.equal(error.field, 'upstreams[0]');
    assert.match(error.message, /colour/);
  });

  it('a bad URL is named with its index', () => {
    const error = problem(BASE.replace('http://127.0.0.1:5000', 'ftp://x'));
    assert.equal(error.field, 'upstreams[0].url');
  });

  it('plain HTTP must be asked for explicitly', () => {
    const error = problem(BASE.replace('plainHttp: true', 'plainHttp: false'));
    assert.equal(error.field, 'listen.tls');
  });

  it('an allowlist pattern must name its own upstream host', () => {
    const error = problem(BASE.replace('"127.0.0.1:5000/**"', '"docker.io/**"'));
    assert.equal(error.field, 'upstreams[0].repositories[0]');
    assert.match(error.message, /must start with this upstream's registry host "127\.0\.0\.1:5000\/"/);
  });

  it('an upstream with credentials refuses to start without allowAnonymousPulls', () => {
    const text = BASE.replace('default: true', 'default: true\n    auth: { type: basic, username: u, password: { env: PW } }');
    const error = problem(text, { PW: 'hunter2' });
    assert.equal(error.field, 'upstreams[0].allowAnonymousPulls');
    const ok = loadConfigText(text.replace('default: true', 'default: true\n    allowAnonymousPulls: true'), 'test.yaml', {
      env: { PW: 'hunter2' },
    });
    const creds = ok.upstreams[0]!.credentials;
    assert.equal(creds.type, 'basic');
    assert.equal(creds.type === 'basic' && creds.password.reveal(), 'hunter2');
    assert.ok(!JSON.stringify(ok).includes('hunter2'));
    assert.ok(!inspect(ok, { depth: 10 }).includes('hunter2'));
  });

  it('a secret from an unset environment variable names the variable, not a value', () => {
    const text = BASE.replace(
      'default: true',
      'default: true\n    allowAnonymousPulls: true\n    auth: { type: bearer, token: { env: NOPE } }',
    );
    const error = problem(text);
    assert.equal(error.field, 'upstreams[0].auth.token.env');
    assert.match(error.message, /NOPE is not set/);
  });

  it('a secret from a file is read and trimmed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-config-'));
    writeFileSync(join(dir, 'token'), 's3cret\n');
    writeFileSync(
      join(dir, 'c.yaml'),
      BASE.replace('default: true', 'default: true\n    allowAnonymousPulls: true\n    auth: { type: bearer, token: { file: token } }'),
    );
    const creds = loadConfig(join(dir, 'c.yaml')).upstreams[0]!.credentials;
    assert.equal(creds.type === 'bearer' && creds.token.reveal(), 's3cret');
  });

  it('duplicate names and namespaces are refused', () => {
    const twice = `${BASE}  - name: local\n    url: http://127.0.0.1:5001\n    repositories: ["127.0.0.1:5001/**"]\n`;
    assert.equal(problem(twice).field, 'upstreams[1].name');
    const sameHost = `${BASE}  - name: other\n    url: http://127.0.0.1:5000/\n    repositories: ["127.0.0.1:5000/**"]\n`;
    assert.equal(problem(sameHost).field, 'upstreams[1].registryHost');
  });

  it('environment overrides replace listen address, Redis URL and log level', () => {
    const config = parseConfig(BASE, 'test.yaml', {
      overrides: { listen: '0.0.0.0:6000', redisUrl: 'redis://127.0.0.1:6379', logLevel: 'debug' },
    });
    assert.equal(config.listen.host, '0.0.0.0');
    assert.equal(config.listen.port, 6000);
    assert.equal(config.redis.url, 'redis://127.0.0.1:6379');
    assert.equal(config.log.level, 'debug');
    assert.equal(problem(BASE.replace('"127.0.0.1:0"', '"nonsense"')).field, 'listen.address');
  });
});
