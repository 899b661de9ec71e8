// Config, policy and keys/ files (src/config, src/policy, src/trust/keys-dir.ts): YAML in, a
// compiled value or a ConfigError naming the field out. Also the policy's pure evaluation:
// pattern matching, rule selection, and signatures judged by a rule never allow what the findings
// and trust store cannot back.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError } from '../../../src/input/config-error.ts';
import { loadConfigText } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/types.ts';
import { evaluateSignatures } from '../../../src/policy/evaluate.ts';
import { parsePolicy } from '../../../src/policy/parse.ts';
import { compilePattern } from '../../../src/oci/pattern.ts';
import { selectRule } from '../../../src/policy/select.ts';
import type { Policy } from '../../../src/policy/types.ts';
import { validatePolicy } from '../../../src/policy/validate.ts';
import { compileTrust } from '../../../src/trust/compile.ts';
import { loadKeysDir } from '../../../src/trust-store/keys-dir.ts';
import type { TrustEntry } from '../../../src/trust/types.ts';
import { parseTrustedIdentity } from '../../../src/verify/notation/identity.ts';
import type { SignatureFinding } from '../../../src/verify/types.ts';
import { anyText, applyEdits, assertTyped, hostileYamlFragment, jsonEdit, settle, shallowJsonish } from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';

const checkIdentity = (identity: string): void => void parseTrustedIdentity(identity);
const compile = (text: string, source: string): Policy => parsePolicy(text, source, checkIdentity);
const PRINTABLE_FIELD = /^[\x20-\x7e]*$/;

// ---- config --------------------------------------------------------------------------------

const HOSTS = ['127.0.0.1:5000', 'registry.test', 'docker.io', 'ghcr.io', 'reg.example:8443', '[::1]:5001'];
const upstreamDoc = (host: string, i: number, isDefault: boolean) =>
  fc
    .record({
      scheme: fc.constantFrom('http', 'https'),
      auth: fc.constantFrom<Record<string, unknown>>(
        { type: 'anonymous' },
        { type: 'basic', username: 'u', password: { env: 'FUZZ_PASSWORD' } },
        { type: 'bearer', token: { file: 'token.txt' } },
      ),
      pattern: fc.constantFrom('**', 'library/*', 'team/**/app', 'x'),
      retries: fc.integer({ min: 0, max: 5 }),
    })
    .map(({ scheme, auth, pattern, retries }) => ({
      name: `up-${i}`,
      url: `${scheme}://${host}`,
      default: isDefault,
      repositories: [`${host}/${pattern}`],
      auth,
      ...(auth['type'] === 'anonymous' ? {} : { allowAnonymousPulls: true }),
      retries,
    }));

const configDoc: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    hosts: fc.shuffledSubarray(HOSTS, { minLength: 1, maxLength: 3 }),
    defaultIndex: fc.nat(),
    port: fc.integer({ min: 0, max: 65_535 }),
    logLevel: fc.constantFrom('info', 'debug', 'silent'),
    gate: fc.record(
      { blobGate: fc.boolean(), discovery: fc.record({ maxSignatures: fc.integer({ min: 1, max: 200 }) }) },
      { requiredKeys: [] },
    ),
  })
  .chain(({ hosts, defaultIndex, port, logLevel, gate }) =>
    fc.tuple(...hosts.map((h, i) => upstreamDoc(h, i, i === defaultIndex % (hosts.length + 1)))).map((upstreams) => ({
      listen: { address: `127.0.0.1:${port}`, plainHttp: true },
      log: { level: logLevel },
      upstreams,
      policy: { file: 'policy.yaml' },
      keys: { dir: 'keys' },
      gate,
    })),
  );

/** What any accepted config guarantees the rest of trustgate. */
function assertConfig(config: Config): void {
  assert.ok(
    Number.isInteger(config.listen.port) && config.listen.port >= 0 && config.listen.port <= 65_535,
    `listen port ${config.listen.port}`,
  );
  assert.ok(config.upstreams.length > 0);
  assert.ok(config.upstreams.filter((u) => u.isDefault).length <= 1);
  const namespaces = config.upstreams.flatMap((u) => u.namespaces);
  assert.equal(new Set(namespaces).size, namespaces.length);
  for (const u of config.upstreams) {
    const url = new URL(u.url);
    assert.ok(url.protocol === 'http:' || url.protocol === 'https:');
    assert.ok(u.allow.length > 0 && u.allow.every((p) => p.source.startsWith(`${u.registryHost}/`)));
  }
  assert.ok(isAbsolute(config.policyFile) && isAbsolute(config.keysDir));
  assert.ok(Object.isFrozen(config));
}

function checkConfig(text: string, source: string): void {
  const result = settle(() => loadConfigText(text, source, { env: { FUZZ_PASSWORD: 'secret' } }));
  if (!result.ok) {
    assertTyped(result.error, ConfigError);
    return assert.match((result.error as ConfigError).field, PRINTABLE_FIELD);
  }
  assertConfig(result.value);
}

// ---- policy --------------------------------------------------------------------------------

const IDS = ['ci', 'release', 'scanner', 'root-ca'];
const imagePattern = fc.constantFrom(
  '**',
  'registry.test/**',
  'registry.test/app/*',
  'registry.test/app/one',
  'other.test/**',
  'registry.test/**/one',
  '*',
);
const ruleDoc = fc.record(
  {
    images: fc.array(imagePattern, { minLength: 1, maxLength: 3 }),
    mode: fc.constantFrom('enforce', 'warn', 'off'),
    signatures: fc.record(
      {
        trust: fc.subarray(IDS, { minLength: 1 }),
        threshold: fc.integer({ min: 1, max: 2 }),
        signedIdentity: fc.constantFrom('any', 'repository', 'exact'),
        notation: fc.record({ trustedIdentities: fc.constantFrom(['*'], ['x509.subject: C=US, ST=WA, O=acme']) }),
      },
      { requiredKeys: [] },
    ),
    multiArch: fc.constantFrom('index', 'each'),
    scan: fc.record(
      {
        required: fc.boolean(),
        maxSeverity: fc.constantFrom('LOW', 'MEDIUM', 'HIGH', 'CRITICAL'),
        maxAge: fc.constantFrom('7d', '12h', '1w'),
        allow: fc.constant([{ id: 'CVE-2024-0001', expires: '2030-01-01T00:00:00Z' }]),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['images'] },
);
const policyDoc = fc.array(ruleDoc, { maxLength: 4 }).map((rules) => ({
  version: 1,
  rules: rules.map((r, i) => {
    const signatures = r.signatures as { trust?: string[]; threshold?: number } | undefined;
    // Keep thresholds satisfiable by the trust list, as a careful author would.
    const threshold =
      signatures?.trust !== undefined && signatures.threshold !== undefined
        ? Math.min(signatures.threshold, signatures.trust.length)
        : signatures?.threshold;
    return {
      name: `rule-${i}`,
      ...r,
      ...(signatures === undefined ? {} : { signatures: { ...signatures, ...(threshold === undefined ? {} : { threshold }) } }),
    };
  }),
}));

function checkPolicy(text: string): void {
  const parsed = settle(() => compile(text, 'policy.yaml'));
  if (!parsed.ok) {
    assertTyped(parsed.error, ConfigError);
    assert.match((parsed.error as ConfigError).field, PRINTABLE_FIELD);
  } else {
    assert.match(parsed.value.hash, /^[0-9a-f]{16}$/);
    assert.ok(Object.isFrozen(parsed.value) && Object.isFrozen(parsed.value.rules));
  }
  // validatePolicy (the admin API's check) agrees with the compiler and never throws.
  const checked = settle(() => validatePolicy(text, 'policy', compile));
  assert.ok(checked.ok, `validatePolicy threw ${String(!checked.ok && checked.error)}`);
  assert.equal(checked.value.ok, parsed.ok);
  if (!checked.value.ok) {
    assert.ok(checked.value.errors.length > 0);
    for (const e of checked.value.errors) assert.ok(typeof e.field === 'string' && typeof e.message === 'string');
  }
}

/** The regex image patterns were first compiled to (docs/design.md §2), kept as the oracle; undefined when refused. */
function referenceRegex(source: string): RegExp | undefined {
  if (!/^[a-zA-Z0-9.:_\-/*[\]]+$/.test(source) || /\*{3,}/.test(source) || source.includes('//')) return undefined;
  let regex = '';
  for (let i = 0; i < source.length; i += 1) {
    if (source.startsWith('/**/', i)) {
      regex += '(?:/[^/]+)*/';
      i += 3;
    } else if (source.startsWith('**', i)) {
      regex += '.*';
      i += 1;
    } else if (source[i] === '*') regex += '[^/]*';
    else regex += source[i]!.replace(/[.[\]\\^$+?(){}|-]/g, '\\$&');
  }
  return new RegExp(`^${regex}$`);
}

// ---- evaluation ----------------------------------------------------------------------------

const FAILURES = [
  'format',
  'crypto',
  'digest',
  'integrity',
  'authenticity',
  'expiry',
  'unsupported_algorithm',
  'certificate_only',
] as const;
const findingArb: fc.Arbitrary<SignatureFinding> = fc
  .record({
    scheme: fc.constantFrom('cosign' as const, 'sigstore-bundle' as const, 'notation' as const),
    verifiedBy: fc.subarray([...IDS, 'stranger']),
    failure: fc.option(fc.record({ kind: fc.constantFrom(...FAILURES), message: anyText }), { nil: undefined }),
    signedReference: fc.option(fc.constantFrom('registry.test/app/one:v1', 'registry.test/app/one', 'other.test/x:v1'), { nil: undefined }),
    signerSubject: fc.option(fc.constantFrom({ C: 'US', ST: 'WA', O: 'acme' }, { CN: 'x' }), { nil: undefined }),
    notAfter: fc.option(fc.integer({ min: 0, max: 2 * 10 ** 12 }), { nil: undefined }),
  })
  .map((f) => {
    const out: Record<string, unknown> = { scheme: f.scheme, source: 'fuzz', verifiedBy: f.verifiedBy };
    for (const key of ['failure', 'signedReference', 'signerSubject', 'notAfter'] as const) if (f[key] !== undefined) out[key] = f[key];
    return out as unknown as SignatureFinding;
  });

export const configTarget: FuzzTarget = {
  name: 'config-policy',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'tg-fuzz-config-'));
    writeFileSync(join(dir, 'token.txt'), 'a-token\n');
    const source = join(dir, 'trustgate.yaml');
    const keysDir = join(dir, 'keys');
    mkdirSync(keysDir);
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const entries = (purposes: readonly ('sign' | 'scan')[][], scopes: string[][], windows: (number | undefined)[]): TrustEntry[] =>
      IDS.map((id, i) => ({
        id,
        kind: 'key',
        pem,
        scopes: scopes[i % scopes.length]!,
        purposes: purposes[i % purposes.length]!,
        origin: 'file',
        ...(windows[i] === undefined ? {} : { notAfter: windows[i] }),
      }));
    return {
      properties: [
        {
          name: 'config: hostile YAML gives a Config or a ConfigError naming the field',
          weight: 0.5,
          property: fc.property(fc.array(hostileYamlFragment, { minLength: 1, maxLength: 3 }), (parts) =>
            checkConfig(parts.join('\n'), source),
          ),
        },
        {
          name: 'config: generated configs compile as written; edited ones compile to a sound Config or a ConfigError',
          weight: 0.5,
          property: fc.property(
            configDoc,
            fc.array(
              jsonEdit.filter((e) => !('value' in e) || e.value !== undefined),
              { maxLength: 3 },
            ),
            fc.array(shallowJsonish, { maxLength: 2 }),
            (doc, edits, values) => {
              const result = settle(() => loadConfigText(stringify(doc), source, { env: { FUZZ_PASSWORD: 'secret' } }));
              assert.ok(result.ok, `refused: ${String(!result.ok && result.error)}`);
              assertConfig(result.value);
              const upstreams = doc['upstreams'] as { name: string; url: string }[];
              assert.deepEqual(
                result.value.upstreams.map((u) => [u.name, u.url]),
                upstreams.map((u) => [u.name, u.url]),
              );
              assert.equal(result.value.listen.port, Number((doc['listen'] as { address: string }).address.split(':')[1]));
              // Edits replace values with shallow ones only: YAML's serializer recurses too.
              const shallowEdits = edits.map((e, i) =>
                'value' in e ? { ...e, value: values[i % Math.max(values.length, 1)] ?? null } : e,
              );
              checkConfig(stringify(applyEdits(doc, shallowEdits)) ?? '', source);
            },
          ),
        },
        {
          name: 'config: any listen address string is refused or compiles to a port from 0 to 65535',
          property: fc.property(
            fc.oneof(
              anyText,
              fc.tuple(fc.constantFrom('127.0.0.1', '[::1]', 'localhost', ''), fc.nat({ max: 999_999 })).map(([h, p]) => `${h}:${p}`),
            ),
            (address) =>
              checkConfig(
                stringify({
                  listen: { address, plainHttp: true },
                  upstreams: [{ name: 'up', url: 'http://127.0.0.1:5000', repositories: ['127.0.0.1:5000/**'] }],
                }),
                source,
              ),
          ),
        },
        {
          name: 'policy: hostile YAML gives a Policy or a ConfigError; validatePolicy agrees and never throws',
          property: fc.property(fc.array(hostileYamlFragment, { minLength: 1, maxLength: 3 }), (parts) =>
            checkPolicy(`version: 1\n${parts.join('\n')}`),
          ),
        },
        {
          name: 'policy: generated policies compile with their rules; edited ones give a Policy or a ConfigError, and validatePolicy agrees',
          weight: 0.5,
          property: fc.property(
            policyDoc,
            fc.array(jsonEdit, { maxLength: 3 }),
            fc.array(shallowJsonish, { maxLength: 2 }),
            (doc, edits, values) => {
              const text = stringify(doc);
              const policy = settle(() => compile(text, 'policy.yaml'));
              assert.ok(policy.ok, `refused: ${String(!policy.ok && policy.error)}`);
              assert.deepEqual(
                policy.value.rules.map((r) => r.name),
                doc.rules.map((r) => r.name),
              );
              assert.equal(compile(text, 'other.yaml').hash, policy.value.hash);
              const shallowEdits = edits.map((e, i) =>
                'value' in e ? { ...e, value: values[i % Math.max(values.length, 1)] ?? null } : e,
              );
              checkPolicy(stringify(applyEdits(doc, shallowEdits)) ?? '');
            },
          ),
        },
        {
          name: 'image patterns: any text compiles or is a TypeError; test() never throws; a literal matches only itself',
          property: fc.property(
            fc.oneof(anyText, imagePattern, fc.stringMatching(/^[a-z0-9.:_\-/*[\]]{1,40}$/)),
            fc.oneof(anyText, fc.constantFrom('registry.test/app/one', 'other.test/x')),
            (source, name) => {
              const pattern = settle(() => compilePattern(source));
              if (!pattern.ok) return assertTyped(pattern.error, TypeError);
              assert.equal(typeof pattern.value.test(name), 'boolean');
              if (!source.includes('*')) assert.equal(pattern.value.test(name), name === source);
              if (!source.includes('*')) assert.ok(pattern.value.test(source));
            },
          ),
        },
        {
          name: 'image patterns: the one-pass matcher answers as the pattern regex (* → [^/]*, ** → .*, /**/ → (?:/[^/]+)*/) does',
          property: fc.property(
            fc
              .array(fc.constantFrom('a', 'b', '.', '-', '/', '*', '**', '/**/', '[', ']'), { minLength: 1, maxLength: 8 })
              .map((parts) => parts.join('')),
            fc.array(fc.constantFrom('a', 'b', '.', '-', '/', '[', '*', '\n', 'é', '😀'), { maxLength: 12 }).map((parts) => parts.join('')),
            (source, name) => {
              const pattern = settle(() => compilePattern(source));
              const regex = referenceRegex(source);
              if (!pattern.ok) return assert.equal(regex, undefined, `refused ${source}`);
              assert.equal(pattern.value.test(name), regex!.test(name), `${JSON.stringify(source)} on ${JSON.stringify(name)}`);
            },
          ),
        },
        {
          name: 'image patterns: matching takes linear time, even many wildcards against a 255-character name',
          weight: 0.25,
          property: fc.property(
            fc
              .array(fc.constantFrom('**', '*', 'a', '/', '**a', '*a*'), { minLength: 2, maxLength: 30 })
              .map((parts) => `${parts.join('')}b`)
              .filter((p) => !/\*{3,}/.test(p) && !p.includes('//')),
            fc.constantFrom('a', 'a/', 'aa/a', '/a'),
            (source, unit) => {
              const pattern = compilePattern(source);
              const name = unit.repeat(255).slice(0, 255);
              const started = performance.now();
              pattern.test(name);
              // A backtracking regex of the same pattern can take minutes here (5 × "**a" took 36 s on 120 characters).
              assert.ok(performance.now() - started < 1_000, `${source} took ${(performance.now() - started).toFixed(0)} ms`);
            },
          ),
        },
        {
          name: 'evaluation: outcomes are allow/deny/warn; allow needs enough counting signatures from trusted, unrevoked signing keys',
          property: fc.property(
            policyDoc.filter((d) => d.rules.length > 0),
            fc.array(findingArb, { maxLength: 5 }),
            fc.array(fc.subarray(['sign', 'scan'] as ('sign' | 'scan')[], { minLength: 1 }), { minLength: 1, maxLength: 4 }),
            fc.array(fc.constantFrom<string[]>(['registry.test/**'], ['other.test/**'], ['**']), { minLength: 1, maxLength: 4 }),
            fc.array(fc.option(fc.integer({ min: 0, max: 2 * 10 ** 12 }), { nil: undefined }), { minLength: 4, maxLength: 4 }),
            fc.subarray(IDS),
            fc.constantFrom('registry.test/app/one', 'other.test/x', 'registry.test/deep/er/one'),
            (doc, findings, purposes, scopes, windows, revokedIds, canonicalName) => {
              const policy = compile(stringify(doc), 'policy.yaml');
              const rule = selectRule(policy, canonicalName);
              const matching = policy.rules.filter((r) => r.images.some((p) => p.test(canonicalName)));
              assert.equal(rule === undefined, matching.length === 0);
              const now = 10 ** 12;
              const trust = compileTrust({
                version: 1,
                entries: entries(purposes, scopes, windows),
                revocations: revokedIds.map((id) => ({ id, revokedAt: 0, reason: 'fuzz' })),
              });
              const decision = evaluateSignatures({
                rule,
                canonicalName,
                identity: `${canonicalName}:v1`,
                digest: `sha256:${'a'.repeat(64)}`,
                findings,
                trust,
                now,
              });
              assert.ok(['allow', 'deny', 'warn'].includes(decision.outcome));
              if (rule === undefined) return assert.equal(decision.outcome, 'deny');
              if (rule.mode === 'off') return assert.equal(decision.outcome, 'allow');
              if (rule.mode === 'enforce') assert.notEqual(decision.outcome, 'warn');
              if (decision.outcome !== 'allow') return assert.ok(decision.reasons.length > 0);
              // Written from docs/design.md §2 without evaluate.ts: who could possibly back an allow.
              const backers = new Set(
                findings
                  .filter((f) => f.failure === undefined)
                  .flatMap((f) => f.verifiedBy)
                  .filter((id) => {
                    const entry = trust.byId.get(id);
                    return (
                      entry !== undefined &&
                      !revokedIds.includes(id) &&
                      entry.entry.purposes.includes('sign') &&
                      entry.scopes.some((s) => s.test(canonicalName)) &&
                      (rule.signatures.trust === undefined || rule.signatures.trust.includes(id)) &&
                      (entry.entry.notAfter === undefined || now < entry.entry.notAfter)
                    );
                  }),
              );
              assert.ok(backers.size >= rule.signatures.threshold, `allowed with ${backers.size} of ${rule.signatures.threshold} signers`);
              assert.ok(rule.signatures.required.every((id) => backers.has(id)));
              assert.ok(decision.signers.every((id) => backers.has(id)));
            },
          ),
        },
        {
          name: 'keys/: hostile metadata YAML and PEM give entries or a ConfigError',
          weight: 0.5,
          property: fc.property(
            fc.oneof(
              hostileYamlFragment,
              fc.constantFrom(
                'scopes: ["**"]\n',
                'scopes: []\n',
                'scopes: ["[bad"]\npurposes: [sign, scan]\n',
                'scopes: ["**"]\nnotAfter: 2030-01-01T00:00:00Z\n',
              ),
            ),
            fc.oneof(fc.constant(pem), anyText, fc.constant('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n')),
            (metadata, keyText) => {
              rmSync(keysDir, { recursive: true, force: true });
              mkdirSync(keysDir);
              writeFileSync(join(keysDir, 'ci.pub'), keyText);
              writeFileSync(join(keysDir, 'ci.yaml'), metadata);
              const result = settle(() => loadKeysDir(keysDir));
              if (!result.ok) return assertTyped(result.error, ConfigError);
              assert.equal(result.value.length, 1);
              assert.ok(result.value[0]!.scopes.length > 0 && !/PRIVATE KEY/.test(result.value[0]!.pem));
            },
          ),
        },
      ],
      async close() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
