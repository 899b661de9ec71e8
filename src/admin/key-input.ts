import { z } from 'zod';
import { TrustgateError } from '../errors/errors.ts';
import { compilePattern } from '../oci/pattern.ts';
import { KEY_ID } from '../trust/key-id.ts';
import type { Purpose, TrustKind } from '../trust/types.ts';

// Bodies of the key routes (config/README.md, "admin"). Times are RFC 3339, as in keys/*.yaml.
const id = z.string().regex(KEY_ID, 'must be lowercase letters, digits, ".", "_" or "-" (at most 63)');
const time = z.iso.datetime({ offset: true });
const scopes = z.array(z.string().min(1).max(512)).min(1).max(100);
const purposes = z.array(z.enum(['sign', 'scan'])).min(1);
const pem = z.string().min(1).max(32_768);

/** A sigstore trusted_root.json, as a JSON object or its text (docs/keyless.md "Trust roots"). */
const trustedRoot = z.union([z.string().min(2).max(262_144), z.record(z.string(), z.unknown())]);

const addSchema = z.strictObject({
  id,
  pem: pem.optional(),
  trustedRoot: trustedRoot.optional(),
  kind: z.enum(['key', 'notation-root', 'sigstore-root', 'tsa']).default('key'),
  scopes,
  purposes: purposes.default(['sign']),
  notBefore: time.optional(),
  notAfter: time.optional(),
});
const patchSchema = z
  .strictObject({
    scopes: scopes.optional(),
    purposes: purposes.optional(),
    notBefore: time.nullable().optional(),
    notAfter: time.nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of scopes, purposes, notBefore, notAfter');
const revokeSchema = z.strictObject({ reason: z.string().trim().min(1).max(1_000) });
const rotateSchema = z.strictObject({ newId: id, pem, keepOldUntil: time });

export interface AddKey {
  readonly id: string;
  /** Empty when a sigstore-root is given as `trustedRoot`. */
  readonly pem: string;
  /** A sigstore-root's trusted_root.json text. */
  readonly trustedRoot?: string;
  readonly kind: TrustKind;
  readonly scopes: readonly string[];
  readonly purposes: readonly Purpose[];
  readonly notBefore?: number;
  readonly notAfter?: number;
}
/** `null` clears a bound of the validity window; absent leaves it. */
export interface PatchKey {
  readonly scopes?: readonly string[];
  readonly purposes?: readonly Purpose[];
  readonly notBefore?: number | null;
  readonly notAfter?: number | null;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  throw new TrustgateError('BAD_REQUEST', field === '' ? issue.message : `"${field}": ${issue.message}`);
}

const ms = <T extends string | null | undefined>(t: T): number | Exclude<T, string> =>
  typeof t === 'string' ? Date.parse(t) : (t as Exclude<T, string>);

function checkScopes(list: readonly string[] | undefined): void {
  list?.forEach((scope, i) => {
    try {
      compilePattern(scope);
    } catch (error) {
      throw new TrustgateError('BAD_REQUEST', `"scopes[${i}]": ${(error as Error).message}`);
    }
  });
}

export function checkWindow(notBefore: number | undefined, notAfter: number | undefined): void {
  if (notBefore !== undefined && notAfter !== undefined && notAfter <= notBefore)
    throw new TrustgateError('BAD_REQUEST', '"notAfter" must be later than "notBefore"');
}

export function parseAdd(body: unknown): AddKey {
  const b = parse(addSchema, body);
  checkScopes(b.scopes);
  if (b.trustedRoot !== undefined && b.kind !== 'sigstore-root')
    throw new TrustgateError('BAD_REQUEST', '"trustedRoot": only for kind "sigstore-root"');
  if ((b.pem === undefined) === (b.trustedRoot === undefined)) {
    throw new TrustgateError('BAD_REQUEST', b.kind === 'sigstore-root' ? 'give exactly one of "pem" and "trustedRoot"' : '"pem": required');
  }
  const root = b.trustedRoot;
  const out = {
    id: b.id,
    pem: b.pem ?? '',
    ...(root === undefined ? {} : { trustedRoot: typeof root === 'string' ? root : JSON.stringify(root) }),
    kind: b.kind,
    scopes: b.scopes,
    purposes: [...new Set(b.purposes)],
    ...(b.notBefore === undefined ? {} : { notBefore: ms(b.notBefore) }),
    ...(b.notAfter === undefined ? {} : { notAfter: ms(b.notAfter) }),
  };
  checkWindow(out.notBefore, out.notAfter);
  return out;
}

export function parsePatch(body: unknown): PatchKey {
  const b = parse(patchSchema, body);
  checkScopes(b.scopes);
  return {
    ...(b.scopes === undefined ? {} : { scopes: b.scopes }),
    ...(b.purposes === undefined ? {} : { purposes: [...new Set(b.purposes)] }),
    ...(b.notBefore === undefined ? {} : { notBefore: ms(b.notBefore) }),
    ...(b.notAfter === undefined ? {} : { notAfter: ms(b.notAfter) }),
  };
}

export const parseRevoke = (body: unknown): { reason: string } => parse(revokeSchema, body);

export function parseRotate(body: unknown): { newId: string; pem: string; keepOldUntil: number } {
  const b = parse(rotateSchema, body);
  return { newId: b.newId, pem: b.pem, keepOldUntil: Date.parse(b.keepOldUntil) };
}
