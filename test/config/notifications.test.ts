import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigText } from '../../src/config/index.ts';
import { configProblem } from '../support/config-problem.ts';

// `notifications:` (config/README.md "notifications"): every field's problem names that field, and
// no error ever repeats a webhook URL (it is a secret).
const BASE =
  'listen: { plainHttp: true }\nupstreams:\n  - { name: up, url: "http://127.0.0.1:5000", repositories: ["127.0.0.1:5000/**"] }\n';
const ENV = { HOOK_URL: 'https://hooks.example.com/services/T000/B000/SECRETTOKEN', HOOK_SECRET: 'a-signing-secret-of-32-characters' };
const endpoint = (extra = ''): string => `{ name: ops, url: { env: HOOK_URL }, secret: { env: HOOK_SECRET }${extra} }`;
const withSection = (section: string): string => `${BASE}notifications:\n${section}`;
const fieldOf = (section: string, env: Record<string, string> = ENV): string => configProblem(withSection(section), env).field;

describe('config › notifications', () => {
  it('an endpoint reads its URL and secret as secrets, with every default', () => {
    const config = loadConfigText(withSection(`  endpoints: [${endpoint()}]\n`), 'test.yaml', { env: ENV });
    const [ops] = config.notifications!.endpoints;
    assert.equal(ops!.url.reveal(), ENV.HOOK_URL);
    assert.equal(ops!.secret!.reveal(), ENV.HOOK_SECRET);
    assert.equal(JSON.stringify(ops), JSON.stringify({ ...ops }), 'serializable');
    assert.doesNotMatch(JSON.stringify(config), /SECRETTOKEN|signing-secret/);
    assert.deepEqual([ops!.format, ops!.events, ops!.timeoutMs], ['generic', ['*'], 5000]);
    assert.equal(config.notifications!.queue.maxPending, 10_000);
  });

  it('absent › no notifications', () => {
    assert.equal(loadConfigText(BASE, 'test.yaml').notifications, undefined);
  });

  const cases: [string, string, string][] = [
    ['no endpoints', '  endpoints: []\n', 'notifications.endpoints'],
    [
      'a bad name',
      `  endpoints: [{ name: "Ops!", url: { env: HOOK_URL }, secret: { env: HOOK_SECRET } }]\n`,
      'notifications.endpoints[0].name',
    ],
    ['a duplicate name', `  endpoints: [${endpoint()}, ${endpoint()}]\n`, 'notifications.endpoints[1].name'],
    [
      'a URL written in the file',
      `  endpoints: [{ name: ops, url: "https://hooks.example.com/x", secret: { env: HOOK_SECRET } }]\n`,
      'notifications.endpoints[0].url',
    ],
    ['generic without a secret', '  endpoints: [{ name: ops, url: { env: HOOK_URL } }]\n', 'notifications.endpoints[0].secret'],
    ['an unknown format', `  endpoints: [${endpoint(', format: discord')}]\n`, 'notifications.endpoints[0].format'],
    ['an unknown event', `  endpoints: [${endpoint(', events: ["pull.allowed"]')}]\n`, 'notifications.endpoints[0].events[0]'],
    ['an unknown group', `  endpoints: [${endpoint(', events: ["robot.*"]')}]\n`, 'notifications.endpoints[0].events[0]'],
    ['a tiny timeout', `  endpoints: [${endpoint(', timeoutMs: 10')}]\n`, 'notifications.endpoints[0].timeoutMs'],
    ['an unknown field', `  endpoints: [${endpoint(', method: GET')}]\n`, 'notifications.endpoints[0]'],
    ['a bad network', `  endpoints: [${endpoint()}]\n  allowedNetworks: ["10.0.0.0/33"]\n`, 'notifications.allowedNetworks[0]'],
    ['a bad queue bound', `  endpoints: [${endpoint()}]\n  queue: { maxPending: 0 }\n`, 'notifications.queue.maxPending'],
    ['zero attempts', `  endpoints: [${endpoint()}]\n  queue: { maxAttempts: 0 }\n`, 'notifications.queue.maxAttempts'],
    ['a bad backoff', `  endpoints: [${endpoint()}]\n  queue: { backoffMs: 5 }\n`, 'notifications.queue.backoffMs'],
    [
      'a cap below the backoff',
      `  endpoints: [${endpoint()}]\n  queue: { backoffMs: 5000, maxBackoffMs: 1000 }\n`,
      'notifications.queue.maxBackoffMs',
    ],
    ['a short denial window', `  endpoints: [${endpoint()}]\n  denials: { windowMs: 10 }\n`, 'notifications.denials.windowMs'],
    ['no denial keys', `  endpoints: [${endpoint()}]\n  denials: { maxKeys: 0 }\n`, 'notifications.denials.maxKeys'],
    ['a bad warning day', `  endpoints: [${endpoint()}]\n  keyExpiry: { warnDays: [0] }\n`, 'notifications.keyExpiry.warnDays[0]'],
    [
      'a fast expiry check',
      `  endpoints: [${endpoint()}]\n  keyExpiry: { checkIntervalMs: 1000 }\n`,
      'notifications.keyExpiry.checkIntervalMs',
    ],
    ['a short stall', `  endpoints: [${endpoint()}]\n  scanStall: { afterMs: 1000 }\n`, 'notifications.scanStall.afterMs'],
    [
      'a fast stall check',
      `  endpoints: [${endpoint()}]\n  scanStall: { checkIntervalMs: 10 }\n`,
      'notifications.scanStall.checkIntervalMs',
    ],
    ['an empty instance', `  endpoints: [${endpoint()}]\n  instance: ""\n`, 'notifications.instance'],
  ];
  for (const [what, section, field] of cases) {
    it(`${what} › names ${field}`, () => {
      const got = fieldOf(section);
      assert.ok(got === field || got.startsWith(`${field}.`) || got.startsWith(`${field}[`), `${got} is not ${field}`);
    });
  }

  const urlCases: [string, string, string][] = [
    ['plain http to a remote host', 'http://hooks.example.com/services/SECRETTOKEN', 'must be https://'],
    ['not a URL', 'hooks.example.com/SECRETTOKEN', 'not an absolute URL'],
    ['credentials in it', 'https://user:SECRETTOKEN@hooks.example.com/x', 'no credentials'],
    ['a fragment', 'https://hooks.example.com/x#SECRETTOKEN', 'no fragment'],
  ];
  for (const [what, url, message] of urlCases) {
    it(`a URL with ${what} › names the url field and never repeats the URL`, () => {
      const error = configProblem(withSection(`  endpoints: [${endpoint()}]\n`), { ...ENV, HOOK_URL: url });
      assert.equal(error.field, 'notifications.endpoints[0].url.env');
      assert.match(error.message, new RegExp(message));
      assert.doesNotMatch(error.message, /SECRETTOKEN|hooks\.example/);
    });
  }

  it('an unset URL variable › names the variable, and a short secret › names the secret', () => {
    assert.equal(fieldOf(`  endpoints: [${endpoint()}]\n`, { HOOK_SECRET: ENV.HOOK_SECRET }), 'notifications.endpoints[0].url.env');
    assert.equal(fieldOf(`  endpoints: [${endpoint()}]\n`, { ...ENV, HOOK_SECRET: 'short' }), 'notifications.endpoints[0].secret.env');
  });

  it('plain http to a loopback receiver, and slack without a secret › accepted', () => {
    const config = loadConfigText(
      withSection('  endpoints: [{ name: chat, url: { env: HOOK_URL }, format: slack, events: ["breakglass.*"] }]\n'),
      'test.yaml',
      {
        env: { HOOK_URL: 'http://127.0.0.1:9/hook' },
      },
    );
    assert.equal(config.notifications!.endpoints[0]!.secret, undefined);
  });
});
