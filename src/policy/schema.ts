import { z } from 'zod';

// The policy file (default config/policy.yaml). Every field is documented in config/README.md.
const identity = z.string().min(1);

const signatures = z.strictObject({
  /** Trust-store ids (keys or notation roots) this rule accepts; omitted: any entry whose scope covers the image. */
  trust: z.array(z.string().min(1)).min(1).optional(),
  threshold: z.number().int().min(1).max(16).default(1),
  required: z.array(z.string().min(1)).default([]),
  /** cosign `critical.identity.docker-reference`: `any` (cosign's own behaviour), `repository`, or `exact`. */
  signedIdentity: z.enum(['any', 'repository', 'exact']).default('any'),
  notation: z.strictObject({ trustedIdentities: z.array(identity).min(1).default(['*']) }).default({ trustedIdentities: ['*'] }),
  /** Where cosign signatures live when signed with COSIGN_REPOSITORY: a canonical repository name. */
  signatureRepository: z.string().min(1).optional(),
  /** Keyless (Fulcio) and certificate signatures; refused at load until supported. */
  keyless: z.unknown().optional(),
  rekor: z.unknown().optional(),
});

const scan = z.strictObject({
  required: z.boolean().default(true),
  /** The highest severity that may pass. */
  maxSeverity: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']).default('HIGH'),
  /** UNKNOWN-severity findings block (true) or pass (false). */
  blockUnknown: z.boolean().default(false),
  /** A scan older than this is stale, e.g. "7d", "12h". */
  maxAge: z.string().default('7d'),
  ignoreUnfixed: z.boolean().default(false),
  allow: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$/, 'a vulnerability id such as CVE-2024-1234'),
        repository: z.string().min(1).optional(),
        expires: z.iso.datetime({ offset: true }),
        reason: z.string().max(500).optional(),
      }),
    )
    .default([]),
});

const rule = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63'),
  images: z.array(z.string().min(1)).min(1),
  mode: z.enum(['enforce', 'warn', 'off']).default('enforce'),
  signatures: signatures.default({ threshold: 1, required: [], signedIdentity: 'any', notation: { trustedIdentities: ['*'] } }),
  /** `index`: an allowed index covers the children it lists; `each`: every child needs its own signatures. */
  multiArch: z.enum(['index', 'each']).default('index'),
  /** The scan requirement; omitted: no scan is required. */
  scan: scan.optional(),
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  rules: z.array(rule).default([]),
});

export type PolicyFile = z.infer<typeof policySchema>;
export type RuleFile = z.infer<typeof rule>;
