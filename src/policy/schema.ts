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
  notation: z
    .strictObject({ trustedIdentities: z.array(identity).min(1).default(['*']) })
    .default({ trustedIdentities: ['*'] }),
  /** Where cosign signatures live when signed with COSIGN_REPOSITORY: a canonical repository name. */
  signatureRepository: z.string().min(1).optional(),
  /** Keyless (Fulcio) and certificate signatures; refused at load until supported. */
  keyless: z.unknown().optional(),
  rekor: z.unknown().optional(),
});

const rule = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63'),
  images: z.array(z.string().min(1)).min(1),
  mode: z.enum(['enforce', 'warn', 'off']).default('enforce'),
  signatures: signatures.default({ threshold: 1, required: [], signedIdentity: 'any', notation: { trustedIdentities: ['*'] } }),
  /** `index`: an allowed index covers the children it lists; `each`: every child needs its own signatures. */
  multiArch: z.enum(['index', 'each']).default('index'),
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  rules: z.array(rule).default([]),
});

export type PolicyFile = z.infer<typeof policySchema>;
export type RuleFile = z.infer<typeof rule>;
