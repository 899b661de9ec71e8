import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import { assertShallowYaml } from '../input/yaml-depth.ts';
import { ConfigError } from '../input/config-error.ts';
import { fromZod } from '../input/zod-error.ts';
import { compilePattern } from '../oci/pattern.ts';
import { policySchema, type PolicyFile } from './schema.ts';
import type { Policy, Rule } from './types.ts';
import { isBuiltInRule, policyRuleName, type PolicyRuleName } from '../decision/decision.ts';
import type { ScanRequirement } from '../scan/types.ts';
import { parseDuration } from '../scan/duration.ts';

/** Checks a trusted-identity entry; throws TypeError naming the problem. Injected to keep policy/ free of verify/ internals. */
export type IdentityCheck = (identity: string) => void;

/** Validates and compiles a policy once; the result is frozen and hashed. */
export function parsePolicy(text: string, source: string, checkIdentity: IdentityCheck): Policy {
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
  return Object.freeze({ rules: Object.freeze(rules), hash, source, text });
}

function compileRule(rule: PolicyFile['rules'][number], index: number, source: string, checkIdentity: IdentityCheck): Rule {
  const field = `rules[${index}]`;
  const sig = rule.signatures;
  if (sig.keyless !== undefined || sig.rekor !== undefined) {
    const key = sig.keyless !== undefined ? 'keyless' : 'rekor';
    throw new ConfigError(
      source,
      `${field}.signatures.${key}`,
      'not supported yet: this version verifies key-based cosign signatures and notation signatures only',
    );
  }
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
  if (sig.trust !== undefined) {
    sig.required.forEach((id, j) => {
      if (!sig.trust!.includes(id))
        throw new ConfigError(source, `${field}.signatures.required[${j}]`, `"${id}" is required but not listed in signatures.trust`);
    });
    if (sig.threshold > sig.trust.length) {
      throw new ConfigError(
        source,
        `${field}.signatures.threshold`,
        `${sig.threshold} signers needed but only ${sig.trust.length} trusted`,
      );
    }
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
    }),
  });
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
