import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.ts';

// The defaults are written once, on their fields in src/config/schema.ts, and documented once, in
// config/README.md's field tables. These tests hold the two to each other.

/** Only the required fields; every other value the schema returns is a default. */
const MINIMAL = {
  upstreams: [{ name: 'up', url: 'http://127.0.0.1:5000', repositories: ['127.0.0.1:5000/**'] }],
  admin: { issuer: 'https://issuer.test', audience: 'trustgate', bootstrap: {} },
  pullAuth: { signingKey: { env: 'KEY' }, oidc: { issuer: 'https://k8s.test', jwksUrl: 'https://k8s.test/jwks', audience: 'trustgate' } },
  notifications: { endpoints: [{ name: 'ops', url: { env: 'HOOK_URL' }, secret: { env: 'HOOK_SECRET' } }] },
};

/** Where each README section's fields sit in the file. */
const SECTIONS: Readonly<Record<string, string>> = {
  '`listen`': 'listen',
  '`log`': 'log',
  '`redis`': 'redis',
  '`manifests`': 'manifests',
  '`blobCache`': 'blobCache',
  '`policy`, `keys`': '',
  '`gate`': 'gate',
  '`admin`': 'admin',
  '`audit`': 'audit',
  '`pullAuth`': 'pullAuth',
  '`scans`': 'scans',
  '`upstreams[]`': 'upstreams.0',
  '`notifications`': 'notifications',
  '`notifications.endpoints[]`': 'notifications.endpoints.0',
};

/** Path → the default cell of every `| field | default | meaning |` row naming one field. */
function documentedDefaults(): Map<string, string> {
  const out = new Map<string, string>();
  let prefix: string | undefined;
  let inTable = false;
  for (const line of readFileSync('config/README.md', 'utf8').split('\n')) {
    const heading = /^### (.+)$/.exec(line);
    if (heading !== null) prefix = SECTIONS[heading[1]!];
    if (/^\| field \| default \| meaning \|/.test(line)) inTable = true;
    else if (!line.startsWith('|')) inTable = false;
    const row = /^\| `([A-Za-z.]+)` \| (.+?) \| /.exec(line);
    if (!inTable || row === null || prefix === undefined) continue;
    out.set(prefix === '' ? row[1]! : `${prefix}.${row[1]}`, row[2]!);
  }
  return out;
}

function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);
}

/** Leaf paths of what the schema filled in: not given in MINIMAL, descending into objects no README row names. */
function defaultedLeaves(value: unknown, given: unknown, documented: ReadonlySet<string>, path = ''): string[] {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) return [];
  if (documented.has(path) || typeof value !== 'object' || value === null || Array.isArray(value)) return [path];
  return Object.entries(value).flatMap(([key, child]) =>
    defaultedLeaves(child, (given as Record<string, unknown> | undefined)?.[key], documented, path === '' ? key : `${path}.${key}`),
  );
}

/** Source without comments, whitespace collapsed. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
    .replace(/\s+/g, ' ');
}

/** Section defaults that list values (repeating their fields' own defaults) or parse a schema for them. */
function sectionDefaults(text: string): string[] {
  // `{ type: 'anonymous' }` is the one object default with no field defaults inside it to repeat.
  return [...code(text).matchAll(/\.default\(\s*(\{[^)]*\}|\w+\.parse\()/g)]
    .map((m) => m[1]!)
    .filter((arg) => arg !== "{ type: 'anonymous' }");
}

describe('configuration defaults', () => {
  const parsed = configSchema.parse(MINIMAL);
  const documented = documentedDefaults();

  it('the README documents the sections this test reads', () => {
    for (const path of ['listen.address', 'redis.prefix', 'policy.file', 'upstreams.0.retries', 'pullAuth.oidc.usernameClaim']) {
      assert.ok(documented.has(path), `config/README.md has no row for ${path}`);
    }
  });

  it('every literal default in config/README.md is what the schema fills in', () => {
    let compared = 0;
    for (const [path, cell] of documented) {
      const literal = /^`([^`]+)`/.exec(cell)?.[1];
      if (literal === undefined) continue; // "required", "unset", "host of `url`": not a value
      const actual = at(parsed, path);
      // `{trustgate}:` is text that YAML would read as a mapping: compare text first.
      if (String(actual) !== literal) assert.deepEqual(actual, parse(literal), `${path}: README says ${literal}`);
      compared += 1;
    }
    assert.ok(compared >= 45, `only ${compared} defaults compared`);
  });

  it('every default the schema fills in has a row in config/README.md', () => {
    const missing = defaultedLeaves(parsed, MINIMAL, new Set(documented.keys())).filter((path) => !documented.has(path));
    assert.deepEqual(missing, []);
  });

  it('an absent section is its fields’ defaults (prefault), the same as an empty one', () => {
    const empty = configSchema.parse({
      ...MINIMAL,
      listen: {},
      log: {},
      redis: {},
      manifests: {},
      policy: {},
      keys: {},
      gate: { verdicts: {}, discovery: {}, decisionLog: {} },
      scans: {},
      audit: {},
    });
    assert.deepEqual(empty, parsed);
    assert.deepEqual(parsed.gate.verdicts, { allowTtlMs: 3_600_000, denyTtlMs: 30_000, memoryEntries: 10_000 });
    assert.deepEqual(parsed.upstreams[0]!.timeouts, { connectMs: 5_000, headersMs: 30_000, bodyIdleMs: 30_000 });
  });

  it('each default is written once: on its field in schema.ts, never again as a section default', () => {
    const dir = 'src/config';
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, name), 'utf8');
      if (name !== 'schema.ts') assert.doesNotMatch(code(text), /\.(default|prefault)\(/, `${name}: defaults belong in schema.ts`);
      assert.deepEqual(sectionDefaults(text), [], `${name}: section defaults written out`);
    }
  });

  it('the check above catches the two ways a default was written twice', () => {
    const before =
      'timeouts: z.strictObject({ connectMs: ms.default(5_000) }).default({ connectMs: 5_000 }),\n listen: listen.default(listen.parse({})),';
    assert.deepEqual(sectionDefaults(before), ['{ connectMs: 5_000 }', 'listen.parse(']);
    assert.deepEqual(sectionDefaults("auth: upstreamAuth.default({ type: 'anonymous' }), tls: t.prefault({})"), []);
  });
});
