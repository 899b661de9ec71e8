import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import { assertShallowYaml } from '../input/yaml-depth.ts';
import { ConfigError } from '../input/config-error.ts';
import { fromZod } from '../input/zod-error.ts';
import { compilePattern } from '../oci/pattern.ts';
import { policySchema, type PolicyFile } from './schema.ts';
import type { KeylessAuthority, Policy, Rule, ValueMatch } from './types.ts';
import { isBuiltInRule, policyRuleName, type PolicyRuleName } from '../decision/decision.ts';
import type { ScanRequirement } from '../scan/types.ts';
import { parseDuration } from '../scan/duration.ts';

/** Checks a trusted-identity entry; throws TypeError naming the problem. Injected to keep policy/ free of verify/ internals. */
export type IdentityCheck = (identity: string) => void;

/** Whether trust entry `id` is a sigstore root with transparency logs (`logged`), without (`pki`), or not one (undefined). */
export type SigstoreRootKind = (id: string) => 'logged' | 'pki' | undefined;

/**
 * Validates and compiles a policy once; the result is frozen and hashed. With `rootKind` (the trust
 * store as it stands), a keyless authority asking for `transparencyLog: off` under a root that
 * lists logs is refused (docs/keyless.md "Policy"); evaluation reads such a rule as `required` anyway.
 */
export function parsePolicy(text: string, source: string, checkIdentity: IdentityCheck, rootKind?: SigstoreRootKind): Policy {
  assertShallowYaml(text, source);
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, '', `not valid YAML at line ${doc.errors[0]!.linePos?.[0]?.line ?? '?'}: ${doc.errors[0]!.code}`);
  }
  let value: unknown;
  try {
    value = doc.toJS() ?? {};
  } catch (error) {
    // yaml throws (ReferenceError) on an alias bomb or an alias without its anchor: still just a bad file.
    throw new ConfigError(source, '', `not valid YAML: ${(error as Error).message}`);
  }
  const parsed = policySchema.safeParse(value);
  if (!parsed.success) throw fromZod(source, parsed.error);
  const rules = parsed.data.rules.map((rule, i) => compileRule(rule, i, source, checkIdentity));
  const names = new Set<string>();
  rules.forEach((rule, i) => {
    if (names.has(rule.name)) throw new ConfigError(source, `rules[${i}].name`, `duplicate rule name "${rule.name}"`);
    names.add(rule.name);
  });
  const hash = createHash('sha256').update(JSON.stringify(parsed.data)).digest('hex').slice(0, 16);
  const policy: Policy = Object.freeze({ rules: Object.freeze(rules), hash, source, text });
  if (rootKind !== undefined) checkKeylessRoots(policy, rootKind);
  return policy;
}

/** Throws a ConfigError naming the first keyless authority that turns the log off under a root with logs. */
export function checkKeylessRoots(policy: Policy, rootKind: SigstoreRootKind): void {
  for (const rule of policy.rules) {
    rule.signatures.keyless.forEach((authority, j) => {
      if (authority.transparencyLog === 'off' && rootKind(authority.root) === 'logged') {
        throw new ConfigError(
          policy.source,
          `rules[${rule.order}].signatures.keyless[${j}].transparencyLog`,
          `"off" is only for a bring-your-own PKI root; sigstore root "${authority.root}" lists transparency logs`,
        );
      }
    });
  }
}

function compileRule(rule: PolicyFile['rules'][number], index: number, source: string, checkIdentity: IdentityCheck): Rule {
  const field = `rules[${index}]`;
  const sig = rule.signatures;
  const keyless = sig.keyless.map((authority, j) => compileKeyless(authority, `${field}.signatures.keyless[${j}]`, source));
  const keylessSigners = keyless.flatMap((authority) => authority.identities.map((identity) => identity.signer));
  keylessSigners.forEach((signer, j) => {
    if (keylessSigners.indexOf(signer) !== j) {
      throw new ConfigError(source, `${field}.signatures.keyless`, `two identities are named "${signer}"; give each a distinct name`);
    }
  });
  const images = rule.images.map((pattern, j) => {
    try {
      return compilePattern(pattern);
    } catch (error) {
      throw new ConfigError(source, `${field}.images[${j}]`, (error as Error).message);
    }
  });
  sig.notation.trustedIdentities.forEach((identity, j) => {
    try {
      checkIdentity(identity);
    } catch (error) {
      throw new ConfigError(source, `${field}.signatures.notation.trustedIdentities[${j}]`, (error as Error).message);
    }
  });
  sig.required.forEach((id, j) => {
    if (id.includes('/') && !keylessSigners.includes(id)) {
      throw new ConfigError(source, `${field}.signatures.required[${j}]`, `"${id}" is required but is no keyless identity of this rule`);
    }
    if (!id.includes('/') && sig.trust !== undefined && !sig.trust.includes(id))
      throw new ConfigError(source, `${field}.signatures.required[${j}]`, `"${id}" is required but not listed in signatures.trust`);
  });
  if (sig.trust !== undefined && sig.threshold > sig.trust.length + keylessSigners.length) {
    throw new ConfigError(
      source,
      `${field}.signatures.threshold`,
      `${sig.threshold} signers needed but only ${sig.trust.length + keylessSigners.length} trusted`,
    );
  }
  if (sig.required.length > sig.threshold) {
    throw new ConfigError(source, `${field}.signatures.threshold`, `must be at least the ${sig.required.length} required signers`);
  }
  return Object.freeze({
    scan: rule.scan === undefined ? undefined : compileScan(rule.scan, `${field}.scan`, source),
    name: ruleName(rule.name, `${field}.name`, source),
    images,
    mode: rule.mode,
    multiArch: rule.multiArch,
    order: index,
    signatures: Object.freeze({
      trust: sig.trust,
      threshold: sig.threshold,
      required: sig.required,
      signedIdentity: sig.signedIdentity,
      trustedIdentities: sig.notation.trustedIdentities,
      signatureRepository: sig.signatureRepository,
      keyless: Object.freeze(keyless),
      keyTransparencyLogRoot: sig.rekor?.root,
    }),
  });
}

type KeylessFile = PolicyFile['rules'][number]['signatures']['keyless'][number];

/** A keyless authority: identities required, one subject form, anchored RegExps (docs/keyless.md "Policy"). */
function compileKeyless(authority: KeylessFile, field: string, source: string): KeylessAuthority {
  const identities = authority.identities ?? [];
  if (identities.length === 0) {
    throw new ConfigError(
      source,
      `${field}.identities`,
      "required and non-empty: a keyless authority without identities would accept anyone's certificate",
    );
  }
  return Object.freeze({
    root: authority.root,
    transparencyLog: authority.transparencyLog,
    identities: Object.freeze(
      identities.map((identity, k) => {
        const at = `${field}.identities[${k}]`;
        const issuer = valueMatch(identity.issuer, identity.issuerRegExp, `${at}.issuer`, source);
        const subject = valueMatch(identity.subject, identity.subjectRegExp, `${at}.subject`, source);
        if (subject === undefined) throw new ConfigError(source, `${at}.subject`, 'required: subject or subjectRegExp');
        return Object.freeze({
          signer: `${authority.root}/${identity.name ?? k}`,
          issuer,
          subject,
          githubWorkflow: Object.freeze({ ...identity.githubWorkflow }),
        });
      }),
    ),
  });
}

/**
 * `exact` or `…RegExp`, not both. A RegExp must match the whole value, so it must start with `^`,
 * end with `$` and have no top-level `|`: stricter than cosign, which matches anywhere.
 */
function valueMatch(exact: string | undefined, pattern: string | undefined, field: string, source: string): ValueMatch | undefined {
  if (exact !== undefined && pattern !== undefined) throw new ConfigError(source, field, 'give the exact value or the RegExp, not both');
  if (exact !== undefined) return Object.freeze({ exact });
  if (pattern === undefined) return undefined;
  const problem = anchoringProblem(pattern);
  if (problem !== undefined) throw new ConfigError(source, `${field}RegExp`, problem);
  try {
    return Object.freeze({ regExp: new RegExp(`^(?:${pattern})$`, 'u') });
  } catch (error) {
    throw new ConfigError(source, `${field}RegExp`, `not a valid regular expression: ${(error as Error).message}`);
  }
}

function anchoringProblem(pattern: string): string | undefined {
  const unanchored = 'unanchored: the pattern must match the whole value, so start it with "^" and end it with "$"';
  if (!pattern.startsWith('^') || !pattern.endsWith('$') || endsEscaped(pattern)) return unanchored;
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return `${unanchored}; a top-level "|" unanchors one side (group it: "^(?:a|b)$")`;
  }
  return undefined;
}

/** `…\\$` is a literal dollar, not an anchor (an odd run of backslashes escapes it). */
function endsEscaped(pattern: string): boolean {
  let backslashes = 0;
  for (let i = pattern.length - 2; i >= 0 && pattern[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

function compileScan(scan: NonNullable<PolicyFile['rules'][number]['scan']>, field: string, source: string): ScanRequirement {
  let maxAgeMs: number;
  try {
    maxAgeMs = parseDuration(scan.maxAge);
  } catch (error) {
    throw new ConfigError(source, `${field}.maxAge`, (error as Error).message);
  }
  const allow = scan.allow.map((entry, i) => {
    if (entry.repository !== undefined) {
      try {
        compilePattern(entry.repository);
      } catch (error) {
        throw new ConfigError(source, `${field}.allow[${i}].repository`, (error as Error).message);
      }
    }
    return Object.freeze({
      id: entry.id,
      expires: Date.parse(entry.expires),
      ...(entry.repository === undefined ? {} : { repository: entry.repository }),
      ...(entry.reason === undefined ? {} : { reason: entry.reason }),
    });
  });
  return Object.freeze({
    required: scan.required,
    maxSeverity: scan.maxSeverity,
    blockUnknown: scan.blockUnknown,
    maxAgeMs,
    ignoreUnfixed: scan.ignoreUnfixed,
    allow: Object.freeze(allow),
  });
}

/** Built-in check names are reserved: a decision's rule must say which kind of check made it. */
function ruleName(name: string, field: string, source: string): PolicyRuleName {
  if (isBuiltInRule(name)) throw new ConfigError(source, field, `"${name}" is the name of a built-in check; choose another name`);
  return policyRuleName(name);
}
